import { describe, expect, it } from 'vitest';
import { columnWidth, layoutGraph } from './layout';

describe('layoutGraph', () => {
  it('puts nodes in columns by distance from start and marks loop edges as back edges', () => {
    const { nodes, edges } = layoutGraph({
      nodes: [
        { id: 'end', type: 'end' }, { id: 'start', type: 'start' }, { id: 'loop', type: 'for_each' },
        { id: 'body', type: 'log' }, { id: 'orphan', type: 'log' },
      ],
      connections: [
        { from: 'start', to: 'loop' }, { from: 'loop', to: 'body', port: 'body' },
        { from: 'body', to: 'loop' }, { from: 'loop', to: 'end', port: 'done' }, { from: 'x', to: 'end' },
      ],
    });
    const col = Object.fromEntries(nodes.map((n) => [n.id, n.x / columnWidth]));
    expect(col).toEqual({ start: 0, loop: 1, body: 2, end: 2, orphan: 3 });
    expect(edges).toHaveLength(4); // the edge from an unknown node is dropped
    expect(edges.find((e) => e.source === 'body')?.back).toBe(true);
    expect(edges.find((e) => e.target === 'body')).toMatchObject({ port: 'body', back: false });
  });
  it('keeps nodes of one column apart', () => {
    const { nodes } = layoutGraph({
      nodes: [{ id: 's', type: 'start' }, { id: 'a', type: 'if' }, { id: 't', type: 'log' }, { id: 'f', type: 'log' }],
      connections: [{ from: 's', to: 'a' }, { from: 'a', to: 't', port: 'true' }, { from: 'a', to: 'f', port: 'false' }],
    });
    const t = nodes.find((n) => n.id === 't')!;
    const f = nodes.find((n) => n.id === 'f')!;
    expect(t.x).toBe(f.x);
    expect(t.y).not.toBe(f.y);
  });
  it('draws an empty graph as nothing', () => {
    expect(layoutGraph({ nodes: [] })).toEqual({ nodes: [], edges: [] });
  });
});
