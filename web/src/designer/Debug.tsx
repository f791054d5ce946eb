// The debug panel beside the run: where the robot's run is stopped, its
// variables (secrets as ***) and call stack, and the stepping buttons.

import { canCommand, debugActions, showValue, type DebugAction, type DebugState } from './debug';

export function DebugPanel({ state, breakpoints, onCommand }: {
  state?: DebugState; breakpoints: string[]; onCommand: (a: DebugAction) => void;
}) {
  const p = state?.paused;
  const ready = canCommand(state);
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
      {p && <>
        {p.call_stack.length > 0 && (
          <div className="dz-stack" aria-label="Call stack">
            {p.call_stack.map((f, i) => <div key={i}>{f.node_id} → {f.workflow}</div>)}
          </div>
        )}
        <table className="dz-vars" aria-label="Variables"><tbody>
          {Object.entries(p.variables ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (
            <tr key={k}><td className="mono">{k}</td><td className="mono">{showValue(v)}</td></tr>
          ))}
        </tbody></table>
      </>}
    </section>
  );
}
