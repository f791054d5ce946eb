import { useId, useState } from 'react';
import { useAction } from '../components/actions';
import { emptyRunForm, runRequest, type FieldErrors, type RunFormValues } from '../lib/forms';
import type { ExecutionMode } from '../api/types';

/** Run now: queue one job of the workflow with parameters and options. */
export function RunForm({ workflowId, variables }: { workflowId: string; variables?: Record<string, unknown> }) {
  const [f, setF] = useState<RunFormValues>(() => ({
    ...emptyRunForm, params: variables && Object.keys(variables).length > 0 ? JSON.stringify(variables, null, 2) : '{}',
  }));
  const [errors, setErrors] = useState<FieldErrors>({});
  const { busy, run } = useAction();
  const uid = useId();
  const set = <K extends keyof RunFormValues>(k: K, v: RunFormValues[K]) => setF((p) => ({ ...p, [k]: v }));

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const { req, errors } = runRequest(workflowId, f);
    setErrors(errors);
    if (!req) return;
    await run('run', (c) => c.submitJob(req), {
      ok: (j) => `Queued job ${j.id}.`, link: (j) => ({ to: `/jobs/${j.id}`, label: 'Open job' }), invalidate: ['jobs:', 'queue'],
    });
  }
  const err = (k: string) => errors[k] && <small className="err" id={`${uid}-${k}-err`}>{errors[k]}</small>;
  const described = (k: string) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `${uid}-${k}-err` } : {});
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Run now">
      <label className="field"><span>Parameters (JSON object)</span>
        <textarea value={f.params} onChange={(e) => set('params', e.target.value)} spellCheck={false} rows={4} {...described('params')} />
        {err('params') ?? <small>Start from the workflow's variables; they become the run's variables.</small>}
      </label>
      <div className="form-row">
        <label className="field"><span>Priority (0–9)</span>
          <input type="number" min={0} max={9} value={f.priority} onChange={(e) => set('priority', e.target.value)} {...described('priority')} />{err('priority')}
        </label>
        <label className="field"><span>Execution mode</span>
          <select value={f.mode} onChange={(e) => set('mode', e.target.value as ExecutionMode)}>
            <option value="any">any robot</option><option value="lan">LAN robots</option><option value="internet">internet robots</option>
          </select>
        </label>
        <label className="field"><span>Robot tags</span>
          <input type="text" placeholder="e.g. windows, excel" value={f.robotTags} onChange={(e) => set('robotTags', e.target.value)} />
        </label>
        <label className="field"><span>Max attempts</span>
          <input type="number" min={1} placeholder="default" value={f.maxAttempts} onChange={(e) => set('maxAttempts', e.target.value)} {...described('maxAttempts')} />{err('maxAttempts')}
        </label>
      </div>
      <div className="form-row">
        <label className="field"><span>Unique key</span>
          <input type="text" placeholder="optional" title="A second run with the same key returns the first job" value={f.uniqueKey} onChange={(e) => set('uniqueKey', e.target.value)} />
        </label>
        <label className="field"><span>Not before</span>
          <input type="datetime-local" value={f.notBefore} onChange={(e) => set('notBefore', e.target.value)} />
        </label>
        <label className="field"><span>Deadline</span>
          <input type="datetime-local" value={f.deadline} onChange={(e) => set('deadline', e.target.value)} {...described('deadline')} />{err('deadline')}
        </label>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy !== null}>{busy ? 'Queuing…' : 'Run now'}</button>
        <span className="muted">Queues one job of the latest version.</span>
      </div>
    </form>
  );
}
