import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Badge, Card, Empty, JobLink, LiveBody, PageHeader, Time, useNow } from '../components/ui';
import { useLive } from '../live/hooks';
import { durationBetween, formatDuration } from '../lib/format';
import { jobStates, type Job, type JobList, type JobState } from '../api/types';
import { JobActions } from './JobActions';
import { useCan } from '../auth/auth';

const pageSizes = [25, 50, 100];

export function Jobs() {
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const state = (params.get('state') ?? '') as JobState | '';
  const workflow = params.get('workflow') ?? '';
  const robot = params.get('robot') ?? '';
  const schedule = params.get('schedule') ?? '';
  const after = params.get('after') ?? '';
  const before = params.get('before') ?? '';
  const filtered = Boolean(state || workflow || robot || schedule || after || before);
  const cursor = params.get('cursor') ?? '';
  const limit = Number(params.get('limit')) || 50;
  // Cursors of the pages before this one, for "Previous".
  const [back, setBack] = useState<string[]>([]);

  const workflows = useLive('workflows', (c) => c.workflows());
  const names = new Map((workflows.data?.workflows ?? []).map((w) => [w.id, w.name]));
  const robots = useLive('robots', (c) => c.robots());
  const schedules = useLive('schedules:', (c) => c.schedules());
  const jobs = useLive(`jobs:list:${state}:${workflow}:${robot}:${schedule}:${after}:${before}:${cursor}:${limit}`,
    (c) => c.jobs({
      state, workflow_id: workflow, robot_id: robot, schedule_id: schedule,
      created_after: localToRFC3339(after), created_before: localToRFC3339(before), cursor, limit,
    }));

  function setFilter(key: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    next.delete('cursor');
    setBack([]);
    setParams(next);
  }
  function goTo(c: string, history: string[]) {
    const next = new URLSearchParams(params);
    if (c) next.set('cursor', c); else next.delete('cursor');
    setBack(history);
    setParams(next);
  }

  return (
    <>
      <PageHeader title="Jobs" sub="Newest first. Filters and pages are part of the address, so a link shows the same list." />
      <div className="content">
        <Card flush id="jobs" title={
          <div className="filters" role="search" aria-label="Filter jobs">
            <label className="field"><span>State</span>
              <select value={state} onChange={(e) => setFilter('state', e.target.value)}>
                <option value="">All states</option>
                {jobStates.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <label className="field"><span>Workflow</span>
              <select value={workflow} onChange={(e) => setFilter('workflow', e.target.value)}>
                <option value="">All workflows</option>
                {(workflows.data?.workflows ?? []).map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
              </select>
            </label>
            <label className="field"><span>Robot</span>
              <select value={robot} onChange={(e) => setFilter('robot', e.target.value)}>
                <option value="">All robots</option>
                {(robots.data?.robots ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
                {robot && !(robots.data?.robots ?? []).some((r) => r.id === robot) && <option value={robot}>{robot}</option>}
              </select>
            </label>
            <label className="field"><span>Schedule</span>
              <select value={schedule} onChange={(e) => setFilter('schedule', e.target.value)}>
                <option value="">Any or none</option>
                {(schedules.data?.schedules ?? []).map((sc) => <option key={sc.id} value={sc.id}>{names.get(sc.workflow_id) ?? sc.workflow_id} · {sc.cron}</option>)}
              </select>
            </label>
            <label className="field"><span>Created after</span>
              <input type="datetime-local" value={after} onChange={(e) => setFilter('after', e.target.value)} />
            </label>
            <label className="field"><span>Created before</span>
              <input type="datetime-local" value={before} onChange={(e) => setFilter('before', e.target.value)} />
            </label>
            <label className="field" style={{ minWidth: 110 }}><span>Per page</span>
              <select value={limit} onChange={(e) => setFilter('limit', e.target.value === '50' ? '' : e.target.value)}>
                {pageSizes.map((n) => <option key={n} value={n}>{n}</option>)}
              </select>
            </label>
          </div>
        } actions={
          <nav className="form-actions" aria-label="Pages">
            <button type="button" className="btn sm" disabled={!cursor} onClick={() => goTo(back[back.length - 1] ?? '', back.slice(0, -1))}>
              {cursor && back.length === 0 ? 'First page' : 'Previous'}
            </button>
            <button type="button" className="btn sm" disabled={!jobs.data?.next_cursor} onClick={() => goTo(jobs.data!.next_cursor!, [...back, cursor])}>Next</button>
          </nav>
        }>
          <LiveBody<JobList> snap={jobs} what="jobs" isEmpty={(d) => d.jobs.length === 0}
            empty={<Empty title={filtered ? (jobs.data?.next_cursor ? 'No matches among these jobs' : 'No jobs match these filters') : 'No jobs yet'}>
              {jobs.data?.next_cursor ? <>Older jobs remain: use <strong>Next</strong> to look further back. </> : null}
              {filtered ? <button type="button" className="btn sm" onClick={() => { setBack([]); setParams({}); }}>Clear filters</button>
                : <>Run a workflow from <Link to="/workflows">Workflows</Link>, or <code>casare submit FILE</code>.</>}
            </Empty>}>
            {(d) => <JobTable jobs={d.jobs} names={names} now={now} />}
          </LiveBody>
        </Card>
      </div>
    </>
  );
}

/** localToRFC3339 turns a datetime-local value (the browser's zone) into RFC 3339. */
export function localToRFC3339(v: string): string {
  if (!v) return '';
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString();
}

export function JobTable({ jobs, names, now, actions: wantActions = true }: { jobs: Job[]; names: Map<string, string>; now: number; actions?: boolean }) {
  const actions = useCan('operator') && wantActions;
  return (
    <div className="table-wrap"><table>
      <thead><tr>
        <th>Job</th><th>Workflow</th><th>State</th><th className="num">Priority</th><th className="hide-md">Mode</th><th>Attempt</th><th>Robot</th><th>Created</th><th className="num">Duration</th>
        {actions && <th><span className="sr-only">Actions</span></th>}
      </tr></thead>
      <tbody>
        {jobs.map((j) => {
          const d = durationBetween(j.started_at, j.finished_at, now);
          return (
            <tr key={j.id}>
              <td><JobLink id={j.id} /></td>
              <td><Link to={`/workflows/${encodeURIComponent(j.workflow_id)}`}>{names.get(j.workflow_id) ?? j.workflow_id}</Link> <span className="muted">v{j.workflow_version}</span></td>
              <td><span className="tags"><Badge state={j.state} />{j.late && <Badge state="late" />}</span></td>
              <td className="num">{j.priority}</td>
              <td className="hide-md">{j.execution_mode}</td>
              <td>{j.attempt} / {j.max_attempts}</td>
              <td>{j.robot_id || <span className="muted">—</span>}</td>
              <td><Time value={j.created_at} now={now} /></td>
              <td className="num">{d === undefined ? <span className="muted">—</span> : formatDuration(d)}</td>
              {actions && <td><div className="row-actions"><JobActions job={j} /></div></td>}
            </tr>
          );
        })}
      </tbody>
    </table></div>
  );
}
