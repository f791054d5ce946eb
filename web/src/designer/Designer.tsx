// The workflow designer at /designer and /designer/<workflow id>: the
// node library, the canvas, the node's form, saving versions, import and
// export, and running with the run shown live on the canvas. Loaded as
// its own chunk (React Flow included) only when a designer page opens.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import {
  Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyEdgeChanges, applyNodeChanges, useReactFlow,
  type Connection, type EdgeChange, type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './designer.css';
import { useClient, useLive, useServices } from '../live/hooks';
import { ApiError } from '../api/client';
import { nodeStates } from '../lib/derive';
import { useToast } from '../components/toasts';
import { History } from './history';
import {
  autoLayout, copySelection, edgeOf, fromWorkflow, knownVariables, parseWorkflow, paste, portOf, renameNode, secretNames,
  stepOf, toWorkflow, uniqueId, type Clipboard, type Design,
} from './model';
import { makeStepNode, type TypeIndex } from './StepNode';
import { Library, dragType } from './Library';
import { Inspector } from './Inspector';
import { Help, RunDialog, RunPanel, runModes, targetsOf, type RunMode, type RunRequest } from './Run';
import { DebugPanel } from './Debug';
import { canCommand, debugKey, getDebug, pausedNode, sendDebug, toggleBreakpoint, type DebugAction, type DebugState } from './debug';
import { nodeTypes as fetchNodeTypes, save, validate } from './api';
import type { NodeTypeList, Problem, ValidateResponse, WfDoc, WfNode } from './types';
import KeepCentred from './KeepCentred';

/** useSameList returns the previous list while its items are the same objects. */
function useSameList<T>(list: T[]): T[] {
  const prev = useRef(list);
  const p = prev.current;
  if (p.length !== list.length || list.some((x, i) => x !== p[i])) prev.current = list;
  return prev.current;
}

function blank(): WfDoc {
  const d = new Date();
  const stamp = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}-${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}`;
  return { name: `workflow-${stamp}`, nodes: [{ id: 'start', type: 'start' }], connections: [] };
}

export default function DesignerPage() {
  const client = useClient();
  const [types, setTypes] = useState<NodeTypeList>();
  const [typesErr, setTypesErr] = useState<Error>();
  useEffect(() => {
    const ctl = new AbortController();
    fetchNodeTypes(client, ctl.signal).then(setTypes, (e) => { if (!ctl.signal.aborted) setTypesErr(e as Error); });
    return () => ctl.abort();
  }, [client]);
  if (typesErr) return <div className="dz-center"><p className="dz-err">Could not load the node types: {typesErr.message}</p></div>;
  if (!types) return <div className="dz-center dz-muted" role="status">Loading the node library…</div>;
  return <ReactFlowProvider><Designer types={types} /></ReactFlowProvider>;
}

// Props of the canvas that never change are made once: a new object or
// function per render makes React Flow update its store and redraw
// every node (and the minimap's), which a 300-node drag pays per frame.
const fitOptions = { padding: 0.2, maxZoom: 1.2 };
const deleteKeys = ['Delete', 'Backspace'];
const multiKeys = ['Control', 'Meta'];
const edgeDefaults = { type: 'smoothstep' };
const proOptions = { hideAttribution: true };
const notSelf = (c: { source: string; target: string }) => c.source !== c.target;
const miniColour = (n: { data: unknown }) => ((n.data as { problems?: unknown[] }).problems?.length ? '#f2b8b5' : '#c7cbe0');

function Designer({ types }: { types: NodeTypeList }) {
  const { id } = useParams();
  const [search, setSearch] = useSearchParams();
  const navigate = useNavigate();
  const client = useClient();
  const { live } = useServices();
  const toast = useToast();
  const flow = useReactFlow();

  const typeIndex = useRef<TypeIndex>(new Map(types.node_types.map((t) => [t.name, t])));
  const nodeTypes = useMemo(() => ({ step: makeStepNode(() => typeIndex.current) }), []);

  const [design, setDesign] = useState<Design>(() => fromWorkflow(blank()));
  const designRef = useRef(design);
  const history = useRef(new History<Design>());
  const [, setHistoryTick] = useState(0);
  const [dirty, setDirty] = useState(false);
  // The workflow and version the canvas was loaded from or saved as.
  const [saved, setSaved] = useState<{ id: string; version: number }>();
  const loadedId = useRef<string | undefined>(undefined);
  const [loadErr, setLoadErr] = useState<Error>();
  const [check, setCheck] = useState<ValidateResponse>();
  const [saveProblems, setSaveProblems] = useState<Problem[]>();
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<RunMode>();
  const [help, setHelp] = useState(false);
  const [jobId, setJobId] = useState<string>();
  const [runErr, setRunErr] = useState<Error>();
  const clipboard = useRef<Clipboard | undefined>(undefined);
  const fileInput = useRef<HTMLInputElement>(null);

  /** update changes the document; key groups a burst into one undo step, null records none. */
  const update = useCallback((f: (d: Design) => Design, key: string | null = '') => {
    const before = designRef.current;
    const next = f(before);
    if (next === before) return;
    if (key !== null) {
      history.current.record(before, key);
      setDirty(true);
      setHistoryTick((t) => t + 1);
    }
    designRef.current = next;
    setDesign(next);
  }, []);

  const replace = useCallback((next: Design, clean: boolean) => {
    history.current.record(designRef.current);
    designRef.current = next;
    setDesign(next);
    setDirty(!clean);
    setHistoryTick((t) => t + 1);
    requestAnimationFrame(() => void flow.fitView(fitOptions));
  }, [flow]);

  // Open the workflow of the URL (latest version, or ?version=N).
  const versions = useLive(id ? `workflows:versions:${id}` : null, (c) => c.workflowVersions(id!), 10_000);
  const wantVersion = Number(search.get('version')) || undefined;
  useEffect(() => {
    if (!id || loadedId.current === id) return;
    const ctl = new AbortController();
    client.workflowVersions(id).then((vs) => {
      if (ctl.signal.aborted) return;
      const v = vs.versions.find((x) => x.version === wantVersion) ?? vs.versions.at(-1);
      if (!v) throw new Error('the workflow has no versions');
      loadedId.current = id;
      setSaved({ id, version: v.version });
      const next = fromWorkflow(v.graph as unknown as WfDoc);
      designRef.current = next;
      setDesign(next);
      history.current.clear();
      setDirty(false);
      requestAnimationFrame(() => void flow.fitView(fitOptions));
    }).catch((e) => { if (!ctl.signal.aborted) setLoadErr(e as Error); });
    return () => ctl.abort();
  }, [id, wantVersion, client, flow]);

  const openVersion = (version: number) => {
    const v = versions.data?.versions.find((x) => x.version === version);
    if (!v || !id) return;
    replace(fromWorkflow(v.graph as unknown as WfDoc), true);
    setSaved({ id, version });
    setSearch({ version: String(version) }, { replace: true });
  };

  // Validate as the user edits, with the server's validator. Dragging
  // changes only positions: wfs stays the same list then, so a drag
  // frame costs no serialising of the whole workflow.
  const wfs = useSameList(design.nodes.map((n) => n.data.wf));
  const docKey = useMemo(() => JSON.stringify({
    h: design.head, n: wfs, e: design.edges.map((e) => [e.source, e.sourceHandle, e.target]),
  }), [design.head, wfs, design.edges]);
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => {
      validate(client, toWorkflow(designRef.current), ctl.signal).then((r) => { setCheck(r); setSaveProblems(undefined); }, () => {});
    }, 250);
    return () => { clearTimeout(t); ctl.abort(); };
  }, [docKey, client]);
  const problems = saveProblems ?? check?.problems ?? [];
  const byNode = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of problems) if (p.node_id) m.set(p.node_id, [...(m.get(p.node_id) ?? []), p]);
    return m;
  }, [problems]);

  // The run, live from the event stream.
  const job = useLive(jobId ? `jobs:one:${jobId}` : null, (c) => c.job(jobId!));
  const logs = useLive(jobId ? `jobs:logs:${jobId}` : null, (c) => c.jobLogs(jobId!));
  // The event stream patches the job, not its log: a change of the job fetches the log again.
  const refreshLogs = logs.refresh;
  useEffect(() => { if (job.data) refreshLogs(); }, [job.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const runStates = useMemo(
    () => (job.data ? nodeStates(design.nodes.map((n) => n.id), job.data) : undefined),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [job.data, design.nodes.length],
  );

  // The debugger: breakpoints go with the next run; a debug run's stop is
  // read from the cluster while it runs.
  const [breakpoints, setBreakpoints] = useState<string[]>([]);
  const [debugJob, setDebugJob] = useState<string>();
  const [dbg, setDbg] = useState<DebugState>();
  const [watches, setWatches] = useState<string[]>([]);
  const debugging = !!debugJob && debugJob === jobId;
  const running = job.data?.state === 'running' || job.data?.state === 'queued';
  useEffect(() => {
    if (!debugging || !debugJob) return;
    const ac = new AbortController();
    const poll = () => void getDebug(client, debugJob, watches, ac.signal).then(setDbg, () => {});
    poll();
    if (!running) return () => ac.abort();
    const t = setInterval(poll, 700);
    return () => { clearInterval(t); ac.abort(); };
  }, [client, debugging, debugJob, running, watches]);
  const command = useCallback(async (a: DebugAction) => {
    if (!debugJob) return;
    try {
      setDbg(await sendDebug(client, debugJob, a));
    } catch (e) {
      toast.show({ text: `Not sent: ${(e as Error).message}`, bad: true });
    }
  }, [client, debugJob, toast]);
  const stoppedAt = debugging ? pausedNode(dbg) : undefined;

  const viewNodes = useMemo(() => design.nodes.map((n) => {
    const p = byNode.get(n.id);
    const r = runStates?.[n.id];
    const bp = breakpoints.includes(n.id);
    const here = stoppedAt === n.id;
    return p || r || bp || here ? { ...n, data: { ...n.data, problems: p, run: r, breakpoint: bp, paused: here } } : n;
  }), [design.nodes, byNode, runStates, breakpoints, stoppedAt]);

  const onNodesChange = useCallback((changes: NodeChange[]) => {
    const removes = changes.some((c) => c.type === 'remove');
    update((d) => ({ ...d, nodes: applyNodeChanges(changes, d.nodes) as Design['nodes'] }), removes ? 'delete' : null);
  }, [update]);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const removes = changes.some((c) => c.type === 'remove');
    update((d) => ({ ...d, edges: applyEdgeChanges(changes, d.edges) }), removes ? 'delete' : null);
  }, [update]);
  const onConnect = useCallback((c: Connection) => {
    const e = edgeOf({ from: c.source, to: c.target, port: portOf(c.sourceHandle) });
    update((d) => (d.edges.some((x) => x.id === e.id) ? d : { ...d, edges: [...d.edges, e] }));
  }, [update]);

  const onDragStart = useCallback(() => {
    history.current.record(designRef.current);
    setDirty(true);
    setHistoryTick((t) => t + 1);
  }, []);

  const addNode = useCallback((type: string, at?: { x: number; y: number }) => {
    const d = designRef.current;
    if (type === 'start' && d.nodes.some((n) => n.data.wf.type === 'start')) {
      toast.show({ text: 'A workflow has exactly one start node.', bad: true });
      return;
    }
    const sel = d.nodes.find((n) => n.selected);
    let pos = at;
    if (!pos) {
      const box = document.querySelector('.dz-canvas')?.getBoundingClientRect();
      pos = sel ? { x: sel.position.x + 260, y: sel.position.y }
        : flow.screenToFlowPosition({ x: (box?.left ?? 0) + (box?.width ?? 600) / 2 - 90, y: (box?.top ?? 0) + (box?.height ?? 400) / 2 - 30 });
    }
    const nid = uniqueId(type, new Set(d.nodes.map((n) => n.id)));
    const node = { ...stepOf({ id: nid, type }, pos), selected: true };
    update((cur) => {
      const next: Design = { ...cur, nodes: [...cur.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] };
      // Adding beside a selected node that has a free normal exit connects it.
      const spec = sel && typeIndex.current.get(sel.data.wf.type);
      if (sel && spec?.outputs.some((o) => o.kind === 'next') && !cur.edges.some((e) => e.source === sel.id && e.sourceHandle === 'next')) {
        next.edges = [...cur.edges, edgeOf({ from: sel.id, to: nid })];
      }
      return next;
    });
  }, [flow, toast, update]);

  const onDrop = useCallback((e: React.DragEvent) => {
    const type = e.dataTransfer.getData(dragType);
    if (!type) return;
    e.preventDefault();
    addNode(type, flow.screenToFlowPosition({ x: e.clientX - 90, y: e.clientY - 20 }));
  }, [addNode, flow]);

  const doSave = useCallback(async (): Promise<{ id: string; version: number } | undefined> => {
    const doc = toWorkflow(designRef.current);
    if (!doc.name.trim()) {
      toast.show({ text: 'Give the workflow a name before saving.', bad: true });
      return undefined;
    }
    setBusy(true);
    try {
      const r = await save(client, doc);
      const s = { id: r.workflow_id, version: r.version };
      setSaved(s);
      setDirty(false);
      live.invalidate('workflows');
      toast.show({ text: !r.created ? `No change since version ${r.version}` : r.version === 1 ? `Saved ${doc.name} as a new workflow` : `Saved ${doc.name} as version ${r.version}` });
      if (r.workflow_id !== id) {
        loadedId.current = r.workflow_id;
        navigate(`/designer/${encodeURIComponent(r.workflow_id)}`, { replace: true });
      } else if (search.get('version')) {
        setSearch({}, { replace: true });
      }
      return s;
    } catch (e) {
      const ae = e instanceof ApiError ? e : undefined;
      const ps = (ae?.details?.problems as Problem[] | undefined);
      if (ps) setSaveProblems(ps);
      toast.show({ text: `Not saved: ${ae && ps ? `${ps.length} problem(s); see the nodes marked red` : (e as Error).message}`, bad: true });
      return undefined;
    } finally {
      setBusy(false);
    }
  }, [client, id, live, navigate, search, setSearch, toast]);

  // Where runs can go.
  const cluster = useLive('cluster', (c) => c.cluster());
  const robots = useLive('robots', (c) => c.robots());
  const self = cluster.data?.members.find((m) => m.http_addr === window.location.host)?.name ?? cluster.data?.node;
  const targets = useMemo(() => targetsOf(self, robots.data?.robots ?? []), [self, robots.data]);

  const run = useCallback(async (req: RunRequest) => {
    const s = dirty || !saved ? await doSave() : saved;
    if (!s) return;
    setBusy(true);
    setRunErr(undefined);
    try {
      const j = await client.submitJob({
        workflow_id: s.id, workflow_version: s.version, params: req.params, priority: req.priority,
        execution_mode: req.mode === 'submit' ? 'internet' : 'lan',
        pinned_robot: req.mode === 'local' ? targets.local?.id : undefined,
        debug: breakpoints.length ? { breakpoints } : undefined,
      });
      setJobId(j.id);
      setDbg(undefined);
      setDebugJob(breakpoints.length ? j.id : undefined);
      setDialog(undefined);
      live.invalidate('jobs:');
    } catch (e) {
      setRunErr(e as Error);
      toast.show({ text: `Not queued: ${(e as Error).message}`, bad: true });
    } finally {
      setBusy(false);
    }
  }, [breakpoints, client, dirty, doSave, live, saved, targets.local, toast]);

  const undo = () => {
    const prev = history.current.undo(designRef.current);
    if (prev) { designRef.current = prev; setDesign(prev); setDirty(true); setHistoryTick((t) => t + 1); }
  };
  const redo = () => {
    const next = history.current.redo(designRef.current);
    if (next) { designRef.current = next; setDesign(next); setDirty(true); setHistoryTick((t) => t + 1); }
  };
  const layout = () => { update((d) => autoLayout(d)); requestAnimationFrame(() => void flow.fitView(fitOptions)); };

  const exportFile = () => {
    const doc = toWorkflow(designRef.current);
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${doc.name || 'workflow'}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const importFile = async (file: File) => {
    try {
      replace(fromWorkflow(parseWorkflow(await file.text())), false);
      toast.show({ text: `Imported ${file.name}` });
    } catch (e) {
      toast.show({ text: `Not imported: ${(e as Error).message}`, bad: true });
    }
  };

  // Keyboard shortcuts; the handler is renewed every render so it sees fresh state.
  const keys = useRef<(e: KeyboardEvent) => void>(() => {});
  keys.current = (e: KeyboardEvent) => {
    const mod = e.ctrlKey || e.metaKey;
    const typing = e.target instanceof HTMLElement && !!e.target.closest('input, textarea, select, [contenteditable]');
    const k = e.key.toLowerCase();
    if (e.key === 'F8' || (e.key === 'F5' && mod)) {
      e.preventDefault();
      setDialog(e.key === 'F8' ? 'local' : e.shiftKey ? 'submit' : 'robot');
      return;
    }
    const dk = debugKey(e);
    if (dk && !dialog) {
      e.preventDefault();
      if (dk === 'toggle') {
        const sel = designRef.current.nodes.filter((n) => n.selected);
        if (sel.length === 1) setBreakpoints((b) => toggleBreakpoint(b, sel[0].id));
      } else if (debugging && canCommand(dbg)) void command(dk);
      return;
    }
    if (mod && k === 's') { e.preventDefault(); void doSave(); return; }
    if (typing || dialog || help) return;
    if (mod && k === 'z') { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
    else if (mod && k === 'y') { e.preventDefault(); redo(); }
    else if (mod && k === 'c') { clipboard.current = copySelection(designRef.current); }
    else if (mod && k === 'v' && clipboard.current?.nodes.length) { e.preventDefault(); update((d) => paste(d, clipboard.current!)); }
    else if (mod && k === 'a') { e.preventDefault(); update((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: true })) }), null); }
    else if (e.key === '?') setHelp(true);
    else if (e.shiftKey && k === 'l') layout();
  };
  useEffect(() => {
    const h = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, []);
  useEffect(() => {
    if (!dirty) return;
    const h = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [dirty]);

  const selected = design.nodes.filter((n) => n.selected);
  const one = selected.length === 1 ? selected[0] : undefined;
  const vars = useMemo(() => [...knownVariables(wfs, design.head), ...Object.keys(types.error_variables)], [wfs, design.head, types]);
  const secrets = useMemo(() => secretNames(wfs), [wfs]);
  const docProblems = check?.error ? [{ field: 'workflow', message: check.error }, ...problems] : problems;

  useEffect(() => {
    document.title = `${dirty ? '• ' : ''}${design.head.name || 'Designer'} · Designer · Casare`;
  }, [dirty, design.head.name]);

  if (loadErr) {
    return (
      <div className="dz-center">
        <p className="dz-err">{loadErr instanceof ApiError && loadErr.status === 404 ? `There is no workflow ${id}.` : `Could not open the workflow: ${loadErr.message}`}</p>
        <p><Link to="/designer">Start a new workflow</Link> · <Link to="/workflows">All workflows</Link></p>
      </div>
    );
  }

  const status = busy ? 'working…' : dirty ? (saved ? `edited since v${saved.version}` : 'not saved yet') : saved ? `saved · v${saved.version}` : 'new';
  return (
    <div className="dz">
      <div className="dz-bar" role="toolbar" aria-label="Designer">
        <Link to={saved ? `/workflows/${encodeURIComponent(saved.id)}` : '/workflows'} className="dz-back" title="Back to the workflow">←</Link>
        <input className="dz-name" aria-label="workflow name" value={design.head.name} spellCheck={false}
          title="Saving under another name creates another workflow"
          onChange={(e) => { const name = e.target.value; update((d) => ({ ...d, head: { ...d.head, name } }), 'name'); }} />
        {id && versions.data && (
          <select aria-label="version" value={saved?.version ?? ''} onChange={(e) => openVersion(Number(e.target.value))}>
            {[...versions.data.versions].reverse().map((v) => <option key={v.version} value={v.version}>v{v.version} · {new Date(v.created_at).toLocaleString()}</option>)}
          </select>
        )}
        <span className={`dz-status${dirty ? ' dirty' : ''}`} data-testid="save-status">{status}</span>
        <span className="dz-sp" />
        <button type="button" className="btn sm" onClick={() => void doSave()} disabled={busy} title="Save as a new version (Ctrl+S)">Save</button>
        <div className="dz-group run">
          {(Object.keys(runModes) as RunMode[]).map((m) => (
            <button type="button" key={m} className={`btn sm${m === 'robot' ? ' primary' : ''}`} onClick={() => setDialog(m)}
              title={m === 'local' && !targets.local ? `This node (${self ?? '…'}) runs no robot; use Run on Robot` : `${runModes[m].label}: queue ${runModes[m].what} (${runModes[m].key})`}>
              {m === 'robot' && <span aria-hidden>▶ </span>}{runModes[m].label} <kbd>{runModes[m].key}</kbd>
            </button>
          ))}
        </div>
      </div>
      <div className="dz-body">
        <Library types={types.node_types} onAdd={addNode} />
        <div className="dz-canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }} onDrop={onDrop}>
          <ReactFlow nodes={viewNodes} edges={design.edges} nodeTypes={nodeTypes}
            onNodesChange={onNodesChange} onEdgesChange={onEdgesChange} onConnect={onConnect}
            onNodeDragStart={onDragStart} isValidConnection={notSelf}
            fitView fitViewOptions={fitOptions} minZoom={0.05} maxZoom={2}
            deleteKeyCode={deleteKeys} multiSelectionKeyCode={multiKeys} selectionKeyCode="Shift"
            defaultEdgeOptions={edgeDefaults} proOptions={proOptions}
            onlyRenderVisibleElements={design.nodes.length > 150} aria-label="Workflow canvas">
            <Background gap={16} color="#dde1ea" />
            <Controls />
            <KeepCentred />
            <MiniMap pannable zoomable className="dz-mini" nodeStrokeWidth={2} style={{ width: 168, height: 112 }}
              nodeColor={miniColour} />
          </ReactFlow>
          <div className="dz-float" role="group" aria-label="Edit">
            <button type="button" className="btn sm ghost" onClick={undo} disabled={!history.current.canUndo} title="Undo (Ctrl+Z)" aria-label="Undo">↶</button>
            <button type="button" className="btn sm ghost" onClick={redo} disabled={!history.current.canRedo} title="Redo (Ctrl+Shift+Z)" aria-label="Redo">↷</button>
            <button type="button" className="btn sm ghost" onClick={layout} title="Auto-layout (Shift+L)">Layout</button>
            <button type="button" className="btn sm ghost" onClick={() => fileInput.current?.click()} title="Import a workflow JSON file">Import</button>
            <input ref={fileInput} type="file" accept=".json,application/json" hidden aria-label="import file" data-testid="import-file"
              onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importFile(f); }} />
            <button type="button" className="btn sm ghost" onClick={exportFile} title="Download the workflow JSON that casare run takes">Export</button>
            <button type="button" className="btn sm ghost" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">?</button>
          </div>
          {design.nodes.length <= 1 && (
            <div className="dz-hint">Drag nodes from the library onto the canvas, or click one to add it after the selected node. Connect a port on the right of a node to the left of another. Press <kbd>?</kbd> for shortcuts.</div>
          )}
        </div>
        <Inspector node={one} spec={one ? typeIndex.current.get(one.data.wf.type) : undefined} types={types} problems={docProblems}
          head={design.head} count={{ nodes: design.nodes.length, edges: design.edges.length, selected: selected.length }}
          vars={vars} secrets={secrets}
          onNode={(nid: string, wf: WfNode, key: string) => update((d) => ({ ...d, nodes: d.nodes.map((n) => (n.id === nid ? { ...n, data: { ...n.data, wf } } : n)) }), key)}
          onRename={(from, to) => {
            try { update((d) => renameNode(d, from, to)); return undefined; } catch (e) { return (e as Error).message; }
          }}
          onHead={(head, key) => update((d) => ({ ...d, head }), key)}
          onSelect={(nid) => update((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: n.id === nid })) }), null)} />
      </div>
      {debugging && <DebugPanel state={dbg} breakpoints={breakpoints} watches={watches} onWatches={setWatches} onCommand={(a) => void command(a)} />}
      {(jobId || runErr) && <RunPanel job={job.data} lines={logs.data?.lines ?? job.data?.last_logs ?? []} error={runErr ?? job.error} onClose={() => { setJobId(undefined); setRunErr(undefined); }} />}
      {dialog && <RunDialog mode={dialog} targets={targets} busy={busy} onMode={setDialog} onRun={(r) => void run(r)} onClose={() => setDialog(undefined)} />}
      {help && <Help onClose={() => setHelp(false)} />}
    </div>
  );
}
