// The debug panel beside the run: where the robot's run is stopped, its
// variables (secrets as ***), watch expressions and call stack, and the
// stepping buttons.

import { useState, type FormEvent } from 'react';
import { addWatch, canCommand, debugActions, removeWatch, showValue, watchRows, type DebugAction, type DebugState } from './debug';

export function DebugPanel({ state, breakpoints, watches, onWatches, onCommand }: {
  state?: DebugState; breakpoints: string[]; watches: string[];
  onWatches: (w: string[]) => void; onCommand: (a: DebugAction) => void;
}) {
  const p = state?.paused;
  const ready = canCommand(state);
  const [draft, setDraft] = useState('');
  const [watchErr, setWatchErr] = useState<string>();
  const add = (e: FormEvent) => {
    e.preventDefault();
    const r = addWatch(watches, draft);
    setWatchErr(r.error);
    if (!r.error) { onWatches(r.watches); setDraft(''); }
  };
  return (
    <section className="dz-debug" aria-label="Debugger">
      <header>
        <strong>Debugger</strong>
        {p ? <span data-testid="debug-paused">paused at <b>{p.node}</b> ({p.reason}){state?.robot_id ? ` on robot ${state.robot_id}` : ''}</span>
          : state?.detached ? <span className="dz-err">{state.detached}</span>
            : <span className="dz-muted">{state ? `running · breakpoints ${breakpoints.join(', ') || 'none'}` : 'waiting for the run…'}</span>}
      </header>
      <div className="dz-debug-btns">
        {(Object.keys(debugActions) as DebugAction[]).map((a) => (
          <button type="button" key={a} className="btn sm" disabled={!ready} onClick={() => onCommand(a)}>
            {debugActions[a].label} <kbd>{debugActions[a].key}</kbd>
          </button>
        ))}
      </div>
      <div className="dz-debug-body">
        <div aria-label="Watches">
          <h4>Watches</h4>
          <form className="dz-watch-add" onSubmit={add} aria-label="Add a watch">
            <input className="mono" value={draft} placeholder="expression, e.g. upper(name)" aria-label="Watch expression"
              onChange={(e) => setDraft(e.target.value)} />
            <button type="submit" className="btn sm">Add watch</button>
          </form>
          {watchErr && <p className="dz-err">{watchErr}</p>}
          {watches.length > 0 && (
            <table className="dz-watches"><tbody>
              {watchRows(watches, p).map((w) => (
                <tr key={w.expression}>
                  <td className="mono">{w.expression}</td>
                  <td className={`mono${w.error ? ' dz-err' : ''}`} title={w.title}>{w.text}</td>
                  <td><button type="button" className="btn sm ghost" aria-label={`Remove watch ${w.expression}`}
                    onClick={() => onWatches(removeWatch(watches, w.expression))}>×</button></td>
                </tr>
              ))}
            </tbody></table>
          )}
        </div>
        <div>
          <h4>Variables</h4>
          {p ? (
            <table className="dz-vars" aria-label="Variables"><tbody>
              {Object.entries(p.variables ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (
                <tr key={k}><td className="mono">{k}</td><td className="mono">{showValue(v)}</td></tr>
              ))}
            </tbody></table>
          ) : <p className="dz-muted">shown when the run stops</p>}
        </div>
        <div>
          <h4>Call stack</h4>
          {p && (
            <div className="dz-stack" aria-label="Call stack">
              <p className="mono"><b>{p.node.split('/').pop()}</b></p>
              {[...p.call_stack].reverse().map((f, i) => <div key={i} className="mono">{f.node_id} → {f.workflow}</div>)}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
