// Running from the designer: the options dialog of the three run buttons
// and the live run panel under the canvas.

import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Badge } from '../components/ui';
import { formatClock } from '../lib/format';
import type { Job, LogLine, Robot } from '../api/types';

export type RunMode = 'local' | 'robot' | 'submit';

export const runModes: Record<RunMode, { label: string; key: string; what: string }> = {
  local: { label: 'Run Local', key: 'F8', what: 'on the robot of the node serving this page' },
  robot: { label: 'Run on Robot', key: 'Ctrl+F5', what: 'on any LAN robot of the cluster' },
  submit: { label: 'Submit', key: 'Ctrl+Shift+F5', what: 'for internet robots' },
};

export interface RunRequest {
  mode: RunMode;
  params?: Record<string, unknown>;
  priority?: number;
}

/** Where a run of each mode can go, from the robots the cluster lists. */
export interface Targets {
  /** This node's name, or undefined while unknown. */
  self?: string;
  /** This node's own LAN robot, if it runs one. */
  local?: Robot;
  lan: Robot[];
  internet: Robot[];
}

export function targetsOf(self: string | undefined, robots: Robot[]): Targets {
  const usable = (r: Robot) => r.state === 'alive' || r.state === 'suspect';
  return {
    self,
    local: robots.find((r) => r.kind === 'lan' && r.id === self && usable(r)),
    lan: robots.filter((r) => r.kind === 'lan' && usable(r)),
    internet: robots.filter((r) => r.kind === 'internet' && usable(r)),
  };
}

export function RunDialog({ mode, targets, busy, onMode, onRun, onClose }: {
  mode: RunMode; targets: Targets; busy: boolean;
  onMode: (m: RunMode) => void; onRun: (r: RunRequest) => void; onClose: () => void;
}) {
  const [params, setParams] = useState('{}');
  const [priority, setPriority] = useState('');
  const [err, setErr] = useState<string>();
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), []);
  const blocked = mode === 'local' && !targets.local;
  const submit = () => {
    let p: unknown;
    try {
      p = JSON.parse(params || '{}');
      if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error();
    } catch {
      setErr('Parameters must be a JSON object, such as {"month": "2026-11"}.');
      return;
    }
    const prio = priority === '' ? undefined : Number(priority);
    if (prio !== undefined && !Number.isInteger(prio)) {
      setErr('Priority must be a whole number.');
      return;
    }
    onRun({ mode, params: p as Record<string, unknown>, priority: prio });
  };
  return (
    <div className="dz-modal" role="dialog" aria-modal="true" aria-label={runModes[mode].label} onKeyDown={(e) => {
      if (e.key === 'Escape') onClose();
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !blocked) submit();
    }}>
      <div className="dz-modal-box">
        <h2>{runModes[mode].label} <kbd>{runModes[mode].key}</kbd></h2>
        <div className="dz-seg" role="tablist">
          {(Object.keys(runModes) as RunMode[]).map((m) => (
            <button type="button" key={m} role="tab" aria-selected={m === mode} className={m === mode ? 'on' : ''} onClick={() => onMode(m)}>{runModes[m].label}</button>
          ))}
        </div>
        <p className="dz-muted">Saves the workflow as a new version if it changed, then queues a job {runModes[mode].what}.</p>
        <Target mode={mode} targets={targets} onMode={onMode} />
        <label className="dz-row">
          <span className="l">parameters</span>
          <textarea ref={first} className="mono" rows={4} value={params} onChange={(e) => setParams(e.target.value)} aria-label="parameters" spellCheck={false} />
          <span className="h">JSON object; each key sets a workflow variable for this run</span>
        </label>
        <label className="dz-row">
          <span className="l">priority</span>
          <input value={priority} onChange={(e) => setPriority(e.target.value)} placeholder="default 0; higher runs first" aria-label="priority" />
        </label>
        {err && <p className="dz-err" role="alert">{err}</p>}
        <div className="dz-modal-foot">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className="btn primary" disabled={blocked || busy} onClick={submit} data-testid="queue-run">
            {busy ? 'Queueing…' : 'Queue the job'} <kbd>Ctrl+Enter</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}

function Target({ mode, targets, onMode }: { mode: RunMode; targets: Targets; onMode: (m: RunMode) => void }) {
  if (mode === 'local') {
    if (targets.local) return <p className="dz-note ok">Pinned to robot <b>{targets.local.id}</b>, on {targets.self}: it runs there or waits for it.</p>;
    return (
      <p className="dz-note warn" role="alert">
        This node ({targets.self ?? 'unknown'}) runs no robot, so there is nothing to run locally.{' '}
        <button type="button" className="linkish" onClick={() => onMode('robot')}>Run on Robot</button> queues for the {targets.lan.length} LAN robot(s) instead.
      </p>
    );
  }
  if (mode === 'robot') {
    return targets.lan.length
      ? <p className="dz-note ok">{targets.lan.length} LAN robot(s): {targets.lan.map((r) => r.id).join(', ')}. The first free one takes it.</p>
      : <p className="dz-note warn">No LAN robot is up now; the job waits in the queue until one is.</p>;
  }
  return targets.internet.length
    ? <p className="dz-note ok">{targets.internet.length} internet robot(s) connected: {targets.internet.map((r) => `${r.id} via ${r.node}`).join(', ')}.</p>
    : <p className="dz-note warn">No internet robot is connected now; the job waits in the queue (execution mode internet) until one connects through any node.</p>;
}

export function RunPanel({ job, lines, error, onClose }: { job?: Job; lines: LogLine[]; error?: Error; onClose: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines.length]);
  return (
    <section className="dz-runp" aria-label="Run">
      <header>
        <strong>Run</strong>
        {job ? <>
          <Badge state={job.state} />
          <span className="dz-muted">v{job.workflow_version} · {job.execution_mode}{job.pinned_robot ? ` · pinned to ${job.pinned_robot}` : ''}{job.robot_id ? ` · robot ${job.robot_id}` : ''}</span>
          <Link to={`/jobs/${encodeURIComponent(job.id)}`} className="id">{job.id}</Link>
          {job.error && <span className="dz-err">{job.error}</span>}
        </> : error ? <span className="dz-err">{error.message}</span> : <span className="dz-muted">queueing…</span>}
        <button type="button" className="btn sm ghost" onClick={onClose} aria-label="Close the run panel">✕</button>
      </header>
      <div className="dz-log" ref={box} tabIndex={0} aria-label="Run log">
        {lines.length === 0 ? <span className="dz-muted">No log lines yet.</span> : lines.map((l, i) => (
          <div key={i}><span className="t">{formatClock(l.time)}</span> <span className={`lv lv-${l.level}`}>{l.level}</span> <span className="node">{l.node_id ?? ''}</span> {l.message}</div>
        ))}
      </div>
    </section>
  );
}

export const shortcuts: [string, string][] = [
  ['F8', 'Run Local: queue on this node\'s robot'],
  ['Ctrl+F5', 'Run on Robot: queue for LAN robots'],
  ['Ctrl+Shift+F5', 'Submit: queue for internet robots'],
  ['F9', 'Toggle a breakpoint on the selected node (used by the next run)'],
  ['F5, F10, F11', 'In a debug run: continue, step over, step into'],
  ['Ctrl+S', 'Save as a new version'],
  ['Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y', 'Undo / redo'],
  ['Ctrl+C / Ctrl+V', 'Copy / paste the selected nodes'],
  ['Ctrl+A', 'Select every node'],
  ['Delete, Backspace', 'Delete the selection'],
  ['Shift+drag, Ctrl+click', 'Select several'],
  ['Shift+L', 'Auto-layout'],
  ['Drag the canvas, wheel', 'Pan, zoom'],
  ['?', 'This help'],
];

export function Help({ onClose }: { onClose: () => void }) {
  return (
    <div className="dz-modal" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={onClose} onKeyDown={(e) => { if (e.key === 'Escape') onClose(); }}>
      <div className="dz-modal-box" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table className="dz-keys"><tbody>
          {shortcuts.map(([k, d]) => <tr key={k}><td>{k.split(', ').map((x) => <kbd key={x}>{x}</kbd>)}</td><td>{d}</td></tr>)}
        </tbody></table>
        <div className="dz-modal-foot"><button type="button" className="btn" autoFocus onClick={onClose}>Close <kbd>Esc</kbd></button></div>
      </div>
    </div>
  );
}
