// What changed between two versions of a workflow's graph, by node id:
// nodes added, removed, or changed (type or configuration), connections
// added or removed, and variables whose default changed.

import type { GraphConnection, WorkflowGraph } from '../api/types';

export interface NodeChange {
  id: string;
  /** What differs: "type a → b" or the configuration keys that changed. */
  what: string[];
}

export interface GraphDiff {
  addedNodes: string[];
  removedNodes: string[];
  changedNodes: NodeChange[];
  addedConnections: string[];
  removedConnections: string[];
  changedVariables: string[];
}

/** connectionLabel names a connection as "from → to" with its port. */
export function connectionLabel(c: GraphConnection): string {
  return `${c.from} → ${c.to}${c.port ? ` (${c.port})` : ''}`;
}

/** diffGraphs compares version a (older) with b (newer). */
export function diffGraphs(a: WorkflowGraph, b: WorkflowGraph): GraphDiff {
  const before = new Map(a.nodes.map((n) => [n.id, n]));
  const after = new Map(b.nodes.map((n) => [n.id, n]));
  const changedNodes: NodeChange[] = [];
  for (const [id, nb] of after) {
    const na = before.get(id);
    if (!na) continue;
    const what: string[] = [];
    if (na.type !== nb.type) what.push(`type ${na.type} → ${nb.type}`);
    what.push(...changedKeys(na.config ?? {}, nb.config ?? {}).map((k) => `config.${k}`));
    if (what.length > 0) changedNodes.push({ id, what });
  }
  const ca = new Set((a.connections ?? []).map(connectionLabel));
  const cb = new Set((b.connections ?? []).map(connectionLabel));
  return {
    addedNodes: [...after.keys()].filter((id) => !before.has(id)).sort(),
    removedNodes: [...before.keys()].filter((id) => !after.has(id)).sort(),
    changedNodes: changedNodes.sort((x, y) => x.id.localeCompare(y.id)),
    addedConnections: [...cb].filter((c) => !ca.has(c)).sort(),
    removedConnections: [...ca].filter((c) => !cb.has(c)).sort(),
    changedVariables: changedKeys(a.variables ?? {}, b.variables ?? {}),
  };
}

/** isEmpty reports whether the two versions are the same graph. */
export function isEmpty(d: GraphDiff): boolean {
  return Object.values(d).every((v) => v.length === 0);
}

/** changedKeys lists the keys whose values differ, added or removed included. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => canonical(a[k]) !== canonical(b[k])).sort();
}

/** canonical is JSON with object keys sorted, so key order is no change. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => p.localeCompare(q)))
    : x)) ?? 'undefined';
}
