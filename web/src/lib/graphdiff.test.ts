import { describe, expect, it } from 'vitest';
import { diffGraphs, isEmpty } from './graphdiff';
import type { WorkflowGraph } from '../api/types';

const v1: WorkflowGraph = {
  variables: { customer: 'acme', retries: 2 },
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'fetch', type: 'http_request', config: { url: 'https://a.example', method: 'GET' } },
    { id: 'wait', type: 'delay', config: { duration: '1s' } },
    { id: 'end', type: 'end' },
  ],
  connections: [{ from: 'start', to: 'fetch' }, { from: 'fetch', to: 'wait' }, { from: 'wait', to: 'end' }],
};

describe('diffGraphs', () => {
  it('finds nothing between a graph and itself, whatever the key order', () => {
    const same: WorkflowGraph = { ...v1, nodes: v1.nodes.map((n) => ({ ...n, config: n.config && Object.fromEntries(Object.entries(n.config).reverse()) })) };
    expect(isEmpty(diffGraphs(v1, same))).toBe(true);
  });

  it('names added, removed and changed nodes, connections and variables', () => {
    const v2: WorkflowGraph = {
      variables: { customer: 'acme', retries: 3 },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'fetch', type: 'http_request', config: { url: 'https://b.example', method: 'GET' } },
        { id: 'log', type: 'log', config: { message: 'fetched' } },
        { id: 'end', type: 'end' },
      ],
      connections: [{ from: 'start', to: 'fetch' }, { from: 'fetch', to: 'log' }, { from: 'log', to: 'end' }, { from: 'fetch', to: 'end', port: 'error' }],
    };
    const d = diffGraphs(v1, v2);
    expect(d.addedNodes).toEqual(['log']);
    expect(d.removedNodes).toEqual(['wait']);
    expect(d.changedNodes).toEqual([{ id: 'fetch', what: ['config.url'] }]);
    expect(d.addedConnections).toEqual(['fetch → end (error)', 'fetch → log', 'log → end']);
    expect(d.removedConnections).toEqual(['fetch → wait', 'wait → end']);
    expect(d.changedVariables).toEqual(['retries']);
    expect(isEmpty(d)).toBe(false);
  });

  it('reports a changed node type', () => {
    const v2: WorkflowGraph = { ...v1, nodes: v1.nodes.map((n) => (n.id === 'wait' ? { ...n, type: 'sleep' } : n)) };
    expect(diffGraphs(v1, v2).changedNodes).toEqual([{ id: 'wait', what: ['type delay → sleep'] }]);
  });
});
