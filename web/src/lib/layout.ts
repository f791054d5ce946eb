// Layout of a workflow graph for drawing: columns by distance from the
// start node, rows in order of discovery. The designer will bring a
// real auto-layout; for reading a run this is clear and deterministic.

import type { WorkflowGraph } from '../api/types';

export interface Placed {
  id: string;
  type: string;
  x: number;
  y: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  port?: string;
  /** An edge that goes back to an earlier column: a loop's body returning. */
  back: boolean;
}

export const columnWidth = 210;
export const rowHeight = 84;

export function layoutGraph(graph: WorkflowGraph): { nodes: Placed[]; edges: PlacedEdge[] } {
  const nodes = graph.nodes ?? [];
  const conns = (graph.connections ?? []).filter((c) => c && c.from && c.to);
  const out = new Map<string, string[]>();
  for (const c of conns) out.set(c.from, [...(out.get(c.from) ?? []), c.to]);

  const start = nodes.find((n) => n.type === 'start')?.id ?? nodes[0]?.id;
  const depth = new Map<string, number>();
  if (start !== undefined) {
    depth.set(start, 0);
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      for (const next of out.get(id) ?? []) {
        if (!depth.has(next)) {
          depth.set(next, depth.get(id)! + 1);
          queue.push(next);
        }
      }
    }
  }
  // Nodes not reachable from start go in a column after the others.
  const lastColumn = Math.max(-1, ...depth.values()) + 1;
  const rows = new Map<number, number>();
  const columnSize = new Map<number, number>();
  for (const n of nodes) {
    const d = depth.get(n.id) ?? lastColumn;
    columnSize.set(d, (columnSize.get(d) ?? 0) + 1);
  }
  const tallest = Math.max(1, ...columnSize.values());
  const placed = nodes.map((n) => {
    const d = depth.get(n.id) ?? lastColumn;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    // Centre each column against the tallest one.
    const offset = ((tallest - (columnSize.get(d) ?? 1)) * rowHeight) / 2;
    return { id: n.id, type: n.type, x: d * columnWidth, y: offset + row * rowHeight };
  });
  const ids = new Set(nodes.map((n) => n.id));
  const edges = conns
    .filter((c) => ids.has(c.from) && ids.has(c.to))
    .map((c, i) => ({
      id: `e${i}-${c.from}-${c.to}`,
      source: c.from,
      target: c.to,
      port: c.port || undefined,
      back: (depth.get(c.to) ?? lastColumn) <= (depth.get(c.from) ?? lastColumn),
    }));
  return { nodes: placed, edges };
}
