import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Badge, Card, Empty, JobLink, LiveBody, PageHeader, Time, useNow } from '../components/ui';
import { useAction } from '../components/actions';
import { useLive } from '../live/hooks';
import { ApiError } from '../api/client';
import { cronProblem, emptyScheduleForm, scheduleFieldOfRefusal, scheduleRequest, type FieldErrors, type ScheduleFormValues } from '../lib/forms';
import type { ExecutionMode, Schedule, ScheduleList } from '../api/types';
import { Can } from '../auth/auth';
import { PreviewList, useSchedulePreview } from './SchedulePreview';

export function Schedules() {
  const now = useNow();
  const [params] = useSearchParams();
  const schedules = useLive('schedules:', (c) => c.schedules());
  const workflows = useLive('workflows', (c) => c.workflows());
  const names = new Map((workflows.data?.workflows ?? []).map((w) => [w.id, w.name]));
  return (
    <>
      <PageHeader title="Schedules" sub="Cron schedules fired by the leader; a fire time makes exactly one job" />
      <div className="content">
        <Card flush id="schedules" title="All schedules">
          <LiveBody<ScheduleList> snap={schedules} what="schedules" isEmpty={(d) => d.schedules.length === 0}
            empty={<Empty icon="schedules" title="No schedules yet">Create one below, or <code>casare schedules create WORKFLOW_ID --cron '*/5 * * * *'</code>.</Empty>}>
            {(d) => (
              <div className="table-wrap"><table>
                <thead><tr><th>Workflow</th><th>Cron</th><th>State</th><th>Next run</th><th>Last run</th><th>Misfire · overlap</th><th><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {d.schedules.map((s) => <ScheduleRow key={s.id} s={s} name={names.get(s.workflow_id)} now={now} />)}
                </tbody>
              </table></div>
            )}
          </LiveBody>
        </Card>
        <Can need="operator"><Card title="Create a schedule" id="create" hint="Expressions are robfig/cron's: 5 fields, 6 with leading seconds, or @daily, @every 10m…">
          <CreateSchedule key={params.get('workflow') ?? ''} initialWorkflow={params.get('workflow') ?? ''} workflows={workflows.data?.workflows ?? []} />
        </Card></Can>
      </div>
    </>
  );
}

function ScheduleRow({ s, name, now }: { s: Schedule; name?: string; now: number }) {
  const { busy, run } = useAction();
  // A link to #hist-ID opens that schedule's fires.
  const [open, setOpen] = useState(() => window.location.hash === `#hist-${s.id}`);
  const inv = ['schedules:', 'jobs:', 'queue'];
  return (
    <>
    <tr>
      <td><Link to={`/workflows/${encodeURIComponent(s.workflow_id)}`}>{name ?? s.workflow_id}</Link><div className="id muted" title={s.id}>{s.id.slice(0, 12)}</div></td>
      <td><code>{s.cron}</code><div className="muted" style={{ fontSize: 12 }}>{s.timezone}</div></td>
      <td>{s.enabled ? <Badge state="enabled" /> : <Badge state="disabled" />}</td>
      <td>{s.enabled ? <Time value={s.next_run} now={now} /> : <span className="muted">—</span>}</td>
      <td><Time value={s.last_run} now={now} /></td>
      <td className="muted">{s.misfire} · {s.overlap}</td>
      <td><div className="row-actions">
        <button type="button" className="btn sm" aria-expanded={open} aria-controls={`hist-${s.id}`} onClick={() => setOpen(!open)}>
          {open ? 'Hide fires' : 'Fires'}
        </button>
        <Can need="operator">
        <button type="button" className="btn sm" disabled={busy !== null} aria-label={`${s.enabled ? 'Disable' : 'Enable'} schedule ${s.id}`}
          onClick={() => void run('toggle', (c) => c.setScheduleEnabled(s.id, !s.enabled), { ok: (r) => `Schedule ${r.enabled ? 'enabled' : 'disabled'}.`, invalidate: inv })}>
          {s.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="btn sm" disabled={busy !== null} aria-label={`Trigger schedule ${s.id} now`}
          onClick={() => void run('trigger', (c) => c.triggerSchedule(s.id), { ok: (r) => `Queued job ${r.job_id}.`, link: (r) => ({ to: `/jobs/${r.job_id}`, label: 'Open job' }), invalidate: inv })}>
          Trigger
        </button>
        <button type="button" className="btn sm danger" disabled={busy !== null} aria-label={`Delete schedule ${s.id}`}
          onClick={() => {
            if (!window.confirm(`Delete the schedule ${s.cron} of ${name ?? s.workflow_id}? Jobs it queued stay.`)) return;
            void run('delete', (c) => c.deleteSchedule(s.id), { ok: () => 'Schedule deleted.', invalidate: inv });
          }}>
          Delete
        </button>
        </Can>
      </div></td>
    </tr>
    {open && <tr className="history-row" id={`hist-${s.id}`}><td colSpan={7}><FireHistory id={s.id} now={now} /></td></tr>}
    </>
  );
}

/** The schedule's recent fires, with skips and their reasons. */
function FireHistory({ id, now }: { id: string; now: number }) {
  const sc = useLive(`schedules:one:${id}`, (c) => c.schedule(id), 3000);
  if (!sc.data) return sc.error ? <span className="error-text">{sc.error.message}</span> : <span className="muted">Loading fires…</span>;
  const fires = [...(sc.data.history ?? [])].reverse();
  if (fires.length === 0) return <span className="muted">No fires yet. Next run {sc.data.next_run ? <Time value={sc.data.next_run} now={now} /> : 'not planned (disabled)'}.</span>;
  return (
    <div className="fires" aria-label="Recent fires, newest first">
      {fires.map((f) => (
        <span className="fire" key={`${f.fire_time}-${f.job_id ?? f.skipped}`}>
          <Time value={f.fire_time} now={now} />
          {f.skipped ? <Badge state="skipped" label={`skipped: ${f.skipped}`} /> : f.job_id ? <JobLink id={f.job_id} /> : null}
          {f.manual && <span className="muted">manual</span>}
        </span>
      ))}
    </div>
  );
}

function CreateSchedule({ workflows, initialWorkflow }: { workflows: { id: string; name: string }[]; initialWorkflow: string }) {
  const [f, setF] = useState<ScheduleFormValues>({ ...emptyScheduleForm, workflowId: initialWorkflow });
  const [errors, setErrors] = useState<FieldErrors>({});
  const { busy, run } = useAction();
  const set = <K extends keyof ScheduleFormValues>(k: K, v: ScheduleFormValues[K]) => setF((p) => ({ ...p, [k]: v }));
  const preview = useSchedulePreview(cronProblem(f.cron) ? '' : f.cron, f.timezone);
  const previewError = preview.kind === 'error' ? preview : undefined;
  const cronHint = cronProblem(f.cron) ?? (previewError?.field === 'cron' ? previewError.message : undefined);
  const zoneHint = previewError?.field === 'timezone' ? previewError.message : undefined;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const { req, errors } = scheduleRequest(f);
    setErrors(errors);
    if (!req) return;
    const r = await run('create', (c) => c.createSchedule(req), {
      ok: (s) => `Created schedule ${s.id}${s.next_run ? `; next run ${new Date(s.next_run).toLocaleString()}` : ''}.`, invalidate: ['schedules:'],
      onError: (err) => {
        const field = err instanceof ApiError ? scheduleFieldOfRefusal(err.details) : undefined;
        if (field) setErrors({ [field]: (err as ApiError).message });
      },
    });
    if (r) setF((p) => ({ ...p, cron: emptyScheduleForm.cron }));
  }
  const err = (k: string) => errors[k] && <small className="err" id={`sc-${k}-err`}>{errors[k]}</small>;
  const described = (k: string) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `sc-${k}-err` } : {});
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Create a schedule">
      <div className="form-row">
        <label className="field"><span>Workflow</span>
          <select value={f.workflowId} onChange={(e) => set('workflowId', e.target.value)} {...described('workflowId')}>
            <option value="">Choose…</option>
            {workflows.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </select>{err('workflowId')}
        </label>
        <label className="field"><span>Cron expression</span>
          <input type="text" value={f.cron} onChange={(e) => { set('cron', e.target.value); setErrors((p) => ({ ...p, cron: undefined })); }} spellCheck={false}
            aria-invalid={cronHint || errors.cron ? true : undefined} aria-describedby="sc-cron-hint" className="mono" />
          <small id="sc-cron-hint" className={cronHint || errors.cron ? 'err' : ''}>{errors.cron ?? cronHint ?? (preview.kind === 'ok' ? 'Valid.' : preview.kind === 'loading' ? 'Checking…' : 'The node checks it as you type.')}</small>
        </label>
        <label className="field"><span>Time zone</span>
          <input type="text" value={f.timezone} onChange={(e) => set('timezone', e.target.value)} placeholder="UTC, Europe/Berlin…" {...described('timezone')}
            aria-invalid={zoneHint || errors.timezone ? true : undefined} />{err('timezone')}
          {!errors.timezone && zoneHint && <small className="err">{zoneHint}</small>}
        </label>
      </div>
      <PreviewList state={preview} />
      <div className="form-row">
        <label className="field"><span>Missed fire times</span>
          <select value={f.misfire} onChange={(e) => set('misfire', e.target.value as ScheduleFormValues['misfire'])}>
            <option value="run_all">run all (within the catch-up window)</option><option value="run_once">run once</option><option value="skip">skip</option>
          </select>
        </label>
        <label className="field"><span>Overlap</span>
          <select value={f.overlap} onChange={(e) => set('overlap', e.target.value as ScheduleFormValues['overlap'])}>
            <option value="allow">allow</option><option value="forbid">forbid (skip while the last job runs)</option>
          </select>
        </label>
        <label className="field"><span>Priority (0–9)</span>
          <input type="number" min={0} max={9} value={f.priority} onChange={(e) => set('priority', e.target.value)} {...described('priority')} />{err('priority')}
        </label>
        <label className="field"><span>Execution mode</span>
          <select value={f.mode} onChange={(e) => set('mode', e.target.value as ExecutionMode)}>
            <option value="any">any robot</option><option value="lan">LAN robots</option><option value="internet">internet robots</option>
          </select>
        </label>
      </div>
      <label className="field"><span>Parameters (JSON object)</span>
        <textarea rows={2} value={f.params} onChange={(e) => set('params', e.target.value)} spellCheck={false} {...described('params')} />{err('params')}
      </label>
      <div className="form-actions">
        <label className="check"><input type="checkbox" checked={f.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled</label>
        <button type="submit" className="btn primary" disabled={busy !== null}>{busy ? 'Creating…' : 'Create schedule'}</button>
      </div>
    </form>
  );
}
