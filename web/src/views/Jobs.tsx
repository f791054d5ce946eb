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
  const cursor = params.get('cursor') ?? '';
  const limit = Number(params.get('limit')) || 50;
  // Cursors of the pages before this one, for "Previous".
  const [back, setBack] = useState<string[]>([]);

  const workflows = useLive('workflows', (c) => c.workflows());
  const names = new Map((workflows.data?.workflows ?? []).map((w) => [w.id, w.name]));
  const jobs = useLive(`jobs:list:${state}:${workflow}:${cursor}:${limit}`, (c) => c.jobs({ state, workflow_id: workflow, cursor, limit }));

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
            empty={<Empty title={state || workflow ? 'No jobs match these filters' : 'No jobs yet'}>
              {state || workflow ? <button type="button" className="btn sm" onClick={() => { setBack([]); setParams({}); }}>Clear filters</button>
                : <>Run a workflow from <Link to="/workflows">Workflows</Link>, or <code>casare submit FILE</code>.</>}
            </Empty>}>
            {(d) => <JobTable jobs={d.jobs} names={names} now={now} />}
          </LiveBody>
        </Card>
      </div>
    </>
  );
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
