import { describe, expect, it } from 'vitest';
import { autoLayout, copySelection, fromWorkflow, knownVariables, parseWorkflow, paste, renameNode, secretNames, toWorkflow, uniqueId } from './model';
import type { WfDoc } from './types';

const sample: WfDoc = {
  name: 'invoices',
  description: 'fetch and file',
  variables: { base: 'https://x', n: 3 },
  secret_variables: ['token'],
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'fetch', type: 'http_request', name: 'Fetch', config: { url: '{{ base }}/inv', method: 'GET', headers: { A: 'b' } }, timeout: '30s', retry: { max: 3, backoff: '2s' } },
    { id: 'check', type: 'if', config: { condition: 'status == 200' } },
    { id: 'each', type: 'for_each', config: { items: '{{ items }}', item_var: 'inv' } },
    { id: 'say', type: 'log', config: { message: 'got {{ inv }} {{ secret("API_KEY") }}' }, meta: { colour: 'blue' } },
    { id: 'bad', type: 'fail', config: { message: 'no' } },
    { id: 'done', type: 'end' },
  ],
  connections: [
    { from: 'start', to: 'fetch' },
    { from: 'fetch', to: 'check' },
    { from: 'fetch', to: 'bad', port: 'error' },
    { from: 'check', to: 'each', port: 'true' },
    { from: 'check', to: 'bad', port: 'false' },
    { from: 'each', to: 'say', port: 'body' },
    { from: 'each', to: 'done', port: 'done' },
  ],
  limits: { timeout: '5m' },
  meta: { owner: 'ops' },
};

function withoutPositions(doc: WfDoc): WfDoc {
  const meta = { ...doc.meta };
  delete meta.designer;
  return { ...doc, meta };
}

describe('workflow ⇄ graph', () => {
  it('gives back the same workflow after a round trip', () => {
    const out = toWorkflow(fromWorkflow(structuredClone(sample)));
    expect(withoutPositions(out)).toEqual(sample);
    expect(Object.keys(out)).toEqual(['name', 'description', 'variables', 'secret_variables', 'nodes', 'connections', 'limits', 'meta']);
  });

  it('keeps positions in meta and reads them back', () => {
    const d = fromWorkflow(sample);
    d.nodes[1] = { ...d.nodes[1], position: { x: 333.4, y: -12 } };
    const again = fromWorkflow(toWorkflow(d));
    expect(again.nodes[1].position).toEqual({ x: 333, y: -12 });
    expect(toWorkflow(again)).toEqual(toWorkflow(d));
  });

  it('draws branch ports as their own handles', () => {
    const d = fromWorkflow(sample);
    const e = d.edges.find((x) => x.source === 'check' && x.target === 'bad')!;
    expect(e.sourceHandle).toBe('false');
    expect(d.edges[0].sourceHandle).toBe('next');
    expect(toWorkflow(d).connections[0]).toEqual({ from: 'start', to: 'fetch' });
  });

  it('lays out a workflow without positions, start first', () => {
    const d = fromWorkflow({ name: 'x', nodes: sample.nodes, connections: sample.connections });
    const x = Object.fromEntries(d.nodes.map((n) => [n.id, n.position.x]));
    expect(x.start).toBeLessThan(x.fetch);
    expect(x.fetch).toBeLessThan(x.check);
    const laid = autoLayout(d);
    expect(laid.nodes.map((n) => n.id)).toEqual(d.nodes.map((n) => n.id));
  });

  it('refuses files that are not workflows, naming the problem', () => {
    expect(() => parseWorkflow('{')).toThrow(/not JSON/);
    expect(() => parseWorkflow('[]')).toThrow(/JSON object/);
    expect(() => parseWorkflow('{"name":"x"}')).toThrow(/no "nodes"/);
    expect(() => parseWorkflow('{"nodes":[{"id":1}]}')).toThrow(/nodes\[0\]/);
    expect(() => parseWorkflow('{"nodes":[],"connections":[{"from":"a"}]}')).toThrow(/connections\[0\]/);
    expect(parseWorkflow(JSON.stringify(sample))).toEqual(sample);
  });
});

describe('editing', () => {
  it('pastes copies under fresh ids with their inner edges', () => {
    let d = fromWorkflow(sample);
    d = { ...d, nodes: d.nodes.map((n) => ({ ...n, selected: n.id === 'each' || n.id === 'say' })) };
    const clip = copySelection(d);
    expect(clip.edges).toHaveLength(1);
    const after = paste(d, clip);
    expect(after.nodes.map((n) => n.id).slice(-2)).toEqual(['each_2', 'say_2']);
    expect(after.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['each_2', 'say_2']);
    const added = toWorkflow(after).connections.at(-1);
    expect(added).toEqual({ from: 'each_2', to: 'say_2', port: 'body' });
    // The copy is its own: editing it leaves the original alone.
    (after.nodes.at(-1)!.data.wf.config as Record<string, unknown>).message = 'changed';
    expect(sample.nodes[4].config!.message).toMatch(/^got/);
  });

  it('renames a node and its connections, refusing clashes', () => {
    const d = renameNode(fromWorkflow(sample), 'check', 'ok200');
    const wf = toWorkflow(d);
    expect(wf.nodes[2].id).toBe('ok200');
    expect(wf.connections.filter((c) => c.from === 'ok200' || c.to === 'ok200')).toHaveLength(3);
    expect(wf.connections[3]).toEqual({ from: 'ok200', to: 'each', port: 'true' });
    expect(() => renameNode(d, 'fetch', 'say')).toThrow(/exists/);
    expect(() => renameNode(d, 'fetch', 'a b')).toThrow(/letters/);
  });

  it('finds unique ids', () => {
    expect(uniqueId('log', new Set())).toBe('log');
    expect(uniqueId('log', new Set(['log', 'log_2']))).toBe('log_3');
    expect(uniqueId('a b!', new Set())).toBe('a_b_');
  });

  it('knows variables and secret names for expression hints', () => {
    const d = fromWorkflow(sample);
    const wfs = d.nodes.map((n) => n.data.wf);
    expect(knownVariables(wfs, d.head)).toEqual(['base', 'index', 'inv', 'n']);
    expect(secretNames(wfs)).toEqual(['API_KEY']);
  });
});
