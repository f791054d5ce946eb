// The designer's document: a workflow as React Flow nodes and edges, and
// back. Pure functions, so the round trip (import then export gives the
// same nodes, connections and config) is tested without a browser.

import type { Edge, Node, XYPosition } from '@xyflow/react';
import { layoutGraph } from '../lib/layout';
import type { WfConnection, WfDoc, WfNode } from './types';

/** What a canvas node carries: the workflow node itself, and run state. */
export type StepData = {
  wf: WfNode;
  /** Validation messages of this node, by field ("" for the node). */
  problems?: { field: string; message: string }[];
  run?: string;
  /** The debugger stops before this node. */
  breakpoint?: boolean;
  /** A debug run waits before this node now. */
  paused?: boolean;
};
export type StepNode = Node<StepData, 'step'>;

/** The designer's document: everything but the graph stays in head. */
export interface Design {
  head: Omit<WfDoc, 'nodes' | 'connections'>;
  nodes: StepNode[];
  edges: Edge[];
}

/** spread turns the dashboard's compact layout into room for the designer's larger nodes. */
function spread(p: { x: number; y: number }): XYPosition {
  return { x: Math.round(p.x * 1.3), y: Math.round(p.y * 1.9) };
}

/** Where the designer keeps node positions: the workflow's meta, which the engine ignores. */
const metaKey = 'designer';

/** The handle id of a connection's port: the normal exit has no name. */
export function handleOf(port: string | undefined): string {
  return port ? port : 'next';
}

export function portOf(handle: string | null | undefined): string {
  return !handle || handle === 'next' ? '' : handle;
}

export function edgeOf(c: WfConnection): Edge {
  const port = c.port ?? '';
  return {
    id: `${c.from}:${port}->${c.to}`, source: c.from, target: c.to,
    sourceHandle: handleOf(port), targetHandle: 'in', type: 'smoothstep',
    className: port ? `port-${port}` : undefined, label: port || undefined,
  };
}

export function stepOf(wf: WfNode, position: XYPosition): StepNode {
  return { id: wf.id, type: 'step', position, data: { wf } };
}

/** fromWorkflow opens a workflow document; unplaced nodes are laid out. */
export function fromWorkflow(doc: WfDoc): Design {
  const { nodes = [], connections = [], ...head } = doc;
  const meta = { ...(head.meta ?? {}) };
  const saved = (meta[metaKey] as { positions?: Record<string, [number, number]> } | undefined)?.positions ?? {};
  delete meta[metaKey];
  const newHead = { ...head };
  if (Object.keys(meta).length > 0) newHead.meta = meta;
  else delete newHead.meta;
  const laid = new Map(layoutGraph({ nodes, connections }).nodes.map((p) => [p.id, p]));
  return {
    head: newHead,
    nodes: nodes.map((n) => {
      const p = saved[n.id];
      const l = laid.get(n.id);
      return stepOf(n, Array.isArray(p) ? { x: p[0], y: p[1] } : spread(l ?? { x: 0, y: 0 }));
    }),
    edges: connections.map(edgeOf),
  };
}

/** toWorkflow is the document `casare run` accepts, positions in meta. */
export function toWorkflow(d: Design): WfDoc {
  const positions: Record<string, [number, number]> = {};
  for (const n of d.nodes) positions[n.id] = [Math.round(n.position.x), Math.round(n.position.y)];
  const { meta, limits, ...rest } = d.head;
  const doc: WfDoc = {
    ...rest,
    name: d.head.name,
    nodes: d.nodes.map((n) => ({ ...n.data.wf, id: n.id })),
    connections: d.edges.map((e) => {
      const c: WfConnection = { from: e.source, to: e.target };
      const port = portOf(e.sourceHandle);
      if (port) c.port = port;
      return c;
    }),
  };
  if (limits !== undefined) doc.limits = limits;
  doc.meta = { ...(meta ?? {}), [metaKey]: { positions } };
  return doc;
}

/** parseWorkflow reads an imported file, naming what is wrong with it. */
export function parseWorkflow(text: string): WfDoc {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`the file is not JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('the file is not a workflow: want a JSON object');
  const doc = v as Partial<WfDoc>;
  if (!Array.isArray(doc.nodes)) throw new Error('the file is not a workflow: it has no "nodes" list');
  if (doc.connections !== undefined && !Array.isArray(doc.connections)) throw new Error('"connections" must be a list');
  for (const [i, n] of doc.nodes.entries()) {
    if (!n || typeof n !== 'object' || typeof n.id !== 'string' || typeof n.type !== 'string') {
      throw new Error(`nodes[${i}] needs a string "id" and "type"`);
    }
  }
  for (const [i, c] of (doc.connections ?? []).entries()) {
    if (!c || typeof c.from !== 'string' || typeof c.to !== 'string') throw new Error(`connections[${i}] needs string "from" and "to"`);
  }
  return { ...doc, name: typeof doc.name === 'string' ? doc.name : '', nodes: doc.nodes, connections: doc.connections ?? [] } as WfDoc;
}

/** uniqueId returns base, or base_2, base_3 … whichever is free. */
export function uniqueId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, '_') || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/** Clipboard is what copy takes: nodes and the edges between them. */
export interface Clipboard {
  nodes: StepNode[];
  edges: Edge[];
}

export function copySelection(d: Design): Clipboard {
  const nodes = d.nodes.filter((n) => n.selected);
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: d.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

/**
 * paste adds the clipboard's nodes under fresh ids, moved by offset, and
 * selects only them; edges among them follow their nodes.
 */
export function paste(d: Design, clip: Clipboard, offset = 40): Design {
  const taken = new Set(d.nodes.map((n) => n.id));
  const rename = new Map<string, string>();
  const added = clip.nodes.map((n) => {
    const id = uniqueId(n.id, taken);
    taken.add(id);
    rename.set(n.id, id);
    return { ...stepOf({ ...structuredClone(n.data.wf), id }, { x: n.position.x + offset, y: n.position.y + offset }), selected: true };
  });
  const edges = clip.edges.map((e) => edgeOf({ from: rename.get(e.source)!, to: rename.get(e.target)!, port: portOf(e.sourceHandle) }));
  return {
    ...d,
    nodes: [...d.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added],
    edges: [...d.edges, ...edges],
  };
}

/** renameNode changes a node's id and the connections that name it. */
export function renameNode(d: Design, from: string, to: string): Design {
  if (from === to) return d;
  if (d.nodes.some((n) => n.id === to)) throw new Error(`a node named "${to}" exists already`);
  if (!/^[A-Za-z0-9_-]+$/.test(to)) throw new Error('an id takes letters, digits, _ and -');
  const fix = (id: string) => (id === from ? to : id);
  return {
    ...d,
    nodes: d.nodes.map((n) => (n.id === from ? { ...n, id: to, data: { ...n.data, wf: { ...n.data.wf, id: to } } } : n)),
    edges: d.edges.map((e) => (e.source === from || e.target === from
      ? edgeOf({ from: fix(e.source), to: fix(e.target), port: portOf(e.sourceHandle) })
      : e)),
  };
}

/** autoLayout places every node by its distance from start. */
export function autoLayout(d: Design): Design {
  const wf = toWorkflow(d);
  const laid = new Map(layoutGraph(wf).nodes.map((p) => [p.id, p]));
  return { ...d, nodes: d.nodes.map((n) => ({ ...n, position: spread(laid.get(n.id)!) })) };
}

/**
 * knownVariables names the variables a {{ expression }} may read: the
 * workflow's, those nodes set, and a loop's item and index.
 */
export function knownVariables(nodes: WfNode[], head: Design['head']): string[] {
  const out = new Set(Object.keys(head.variables ?? {}));
  for (const n of nodes) {
    const c = n.config ?? {};
    if (n.type === 'set_variable' && typeof c.name === 'string') out.add(c.name);
    if (n.type === 'for_each') {
      out.add(typeof c.item_var === 'string' ? c.item_var : 'item');
      out.add(typeof c.index_var === 'string' ? c.index_var : 'index');
    }
    for (const [k, v] of Object.entries(c)) if (k.endsWith('_var') && typeof v === 'string') out.add(v);
  }
  return [...out].filter(Boolean).sort();
}

/** secretNames lists the secret("NAME") names the workflow's config refers to. */
export function secretNames(nodes: WfNode[]): string[] {
  const text = JSON.stringify(nodes.map((n) => n.config ?? {}));
  return [...new Set([...text.matchAll(/secret\(\\?"([^"\\]+)\\?"\)/g)].map((m) => m[1]))].sort();
}
