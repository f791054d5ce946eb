import { useEffect, useMemo, useRef } from 'react';
import { Link, useParams } from 'react-router';
import { Badge, Card, Empty, ErrorBanner, Loading, PageHeader, Tags, Time, useNow } from '../components/ui';
import { useLive } from '../live/hooks';
import { nodeStates } from '../lib/derive';
import { durationBetween, formatClock, formatDuration, formatTime, prettyJSON } from '../lib/format';
import { ApiError } from '../api/client';
import { terminalStates, type Job, type LogLine } from '../api/types';
import { GraphCard } from './GraphCard';
import { JobActions } from './JobActions';

export function JobDetail() {
  const { id = '' } = useParams();
  const now = useNow();
  const job = useLive(`jobs:one:${id}`, (c) => c.job(id));
  const j = job.data;
  const versions = useLive(j ? `workflows:versions:${j.workflow_id}` : null, (c) => c.workflowVersions(j!.workflow_id), 10_000);
  const wf = useLive(j ? `workflows:one:${j.workflow_id}` : null, (c) => c.workflow(j!.workflow_id), 10_000);
  const graph = versions.data?.versions.find((v) => v.version === j?.workflow_version)?.graph;
  const states = useMemo(() => (graph && j ? nodeStates(graph.nodes.map((n) => n.id), j) : undefined), [graph, j]);

  if (!j) {
    return (
      <>
        <PageHeader title={`Job ${id}`} crumbs={<Link to="/jobs">Jobs</Link>} />
        <div className="content">
          {job.error ? (job.error instanceof ApiError && job.error.status === 404
            ? <div className="card"><Empty icon="alert" title="No such job">The cluster keeps no job <code>{id}</code>. It may have been removed after its retention period.</Empty></div>
            : <ErrorBanner error={job.error} what="the job" />) : <div className="card"><Loading rows={6} /></div>}
        </div>
      </>
    );
  }
  const dur = durationBetween(j.started_at, j.finished_at, now);
  return (
    <>
      <PageHeader
        crumbs={<><Link to="/jobs">Jobs</Link> / <span className="id">{j.id}</span></>}
        docTitle={`${j.state} · ${wf.data?.name ?? 'job'}`}
        title={<span style={{ display: 'inline-flex', gap: 12, alignItems: 'center', flexWrap: 'wrap' }}>
          {wf.data?.name ?? j.workflow_id} <Badge state={j.state} />{j.late && <Badge state="late" />}
        </span>}
        sub={<>Job <span className="id">{j.id}</span> · version {j.workflow_version} · attempt {j.attempt} of {j.max_attempts}</>}
        actions={<JobActions job={j} size="" latest openNew />}
      />
      <div className="content">
        {job.error && <ErrorBanner error={job.error} what="fresh job state; showing the last answer" />}
        {j.error && (
          <div className="banner bad" role="alert">
            <div><strong>{j.failure_kind ? `${j.failure_kind} failure` : 'Error'}:</strong> <span className="error-text">{j.error}</span></div>
          </div>
        )}
        <GraphCard graph={graph} states={states} />
        <div className="grid wide-left">
          <div className="grid" style={{ alignContent: 'start' }}>
            <Attempts job={j} now={now} />
            <LogTail job={j} />
          </div>
          <Card title="Summary" id="summary">
            <dl className="kv">
              <dt>Workflow</dt><dd><Link to={`/workflows/${encodeURIComponent(j.workflow_id)}`}>{wf.data?.name ?? j.workflow_id}</Link> <span className="muted">v{j.workflow_version}</span></dd>
              <dt>State</dt><dd><Badge state={j.state} /></dd>
              <dt>Robot</dt><dd>{j.robot_id || <span className="muted">none yet</span>}</dd>
              <dt>Priority</dt><dd>{j.priority}</dd>
              <dt>Mode</dt><dd>{j.execution_mode}{j.pinned_robot && <> · pinned to {j.pinned_robot}</>}</dd>
              <dt>Robot tags</dt><dd><Tags tags={j.robot_tags} /></dd>
              <dt>Created</dt><dd title={formatTime(j.created_at)}><Time value={j.created_at} now={now} /></dd>
              <dt>Started</dt><dd><Time value={j.started_at} now={now} /></dd>
              <dt>Finished</dt><dd><Time value={j.finished_at} now={now} /></dd>
              <dt>Duration</dt><dd>{dur === undefined ? '—' : formatDuration(dur)}</dd>
              {j.deadline && <><dt>Deadline</dt><dd><Time value={j.deadline} now={now} /></dd></>}
              {j.not_before && <><dt>Not before</dt><dd><Time value={j.not_before} now={now} /></dd></>}
              {j.lease_expires_at && <><dt>Lease expires</dt><dd><Time value={j.lease_expires_at} now={now} /></dd></>}
              {j.unique_key && <><dt>Unique key</dt><dd className="id">{j.unique_key}</dd></>}
              {j.schedule_id && <><dt>Schedule</dt><dd><Link to="/schedules" className="id">{j.schedule_id}</Link></dd></>}
              {j.rerun_of && <><dt>Re-run of</dt><dd><Link className="id" to={`/jobs/${j.rerun_of}`}>{j.rerun_of}</Link></dd></>}
            </dl>
          </Card>
        </div>
        <div className="grid cols-3">
          <Card title="Variables" hint={j.checkpoint ? `Checkpoint after ${j.checkpoint.steps ?? 0} steps${j.checkpoint.next ? ` · next: ${j.checkpoint.next}` : ''}` : 'No checkpoint yet'} id="vars">
            {j.checkpoint?.variables ? <pre className="json">{prettyJSON(j.checkpoint.variables)}</pre> : <span className="muted">The robot reports variables with its first checkpoint.</span>}
          </Card>
          <Card title="Parameters" id="params"><pre className="json">{prettyJSON(j.params)}</pre></Card>
          <Card title="Result" id="result">
            {j.result !== undefined ? <pre className="json">{prettyJSON(j.result)}</pre> : <span className="muted">{terminalStates.includes(j.state) ? 'No result.' : 'Not finished.'}</span>}
          </Card>
        </div>
      </div>
    </>
  );
}

function Attempts({ job: j, now }: { job: Job; now: number }) {
  return (
    <Card title="Attempts" hint="One row per try; an application failure is retried, on another robot when one is eligible" flush id="attempts">
      {(j.attempts ?? []).length === 0 ? <Empty title="Not started yet">The job waits in the queue for a robot.</Empty> : (
        <div className="table-wrap"><table>
          <thead><tr><th>#</th><th>Robot</th><th>Outcome</th><th>Started</th><th className="num">Duration</th><th>Error</th></tr></thead>
          <tbody>
            {[...(j.attempts ?? [])].reverse().map((a) => {
              const d = durationBetween(a.started_at, a.finished_at, now);
              return (
                <tr key={a.attempt}>
                  <td>{a.attempt}</td>
                  <td>{a.robot_id}</td>
                  <td>{a.outcome ? <Badge state={outcomeState(a.outcome)} label={a.outcome} /> : <Badge state="running" />}</td>
                  <td><Time value={a.started_at} now={now} /></td>
                  <td className="num">{d === undefined ? '—' : formatDuration(d)}</td>
                  <td className="wrap">{a.error ? <span className="error-text">{a.error}</span> : <span className="muted">—</span>}{a.outcome && a.error && j.failure_kind && a.attempt === j.attempt && <> <Badge state="neutral" label={j.failure_kind} plain /></>}</td>
                </tr>
              );
            })}
          </tbody>
        </table></div>
      )}
    </Card>
  );
}

function outcomeState(outcome: string): string {
  if (outcome === 'succeeded') return 'succeeded';
  if (outcome === 'cancelled') return 'cancelled';
  if (outcome === 'handed_back' || outcome === 'lease_expired' || outcome === 'robot_dead') return 'suspect';
  return 'failed';
}

function LogTail({ job }: { job: Job }) {
  const lines: LogLine[] = job.last_logs ?? [];
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines.length]);
  return (
    <Card title="Log" hint={`${lines.length === 0 ? 'The newest lines' : lines.length === 1 ? 'The newest line' : `Newest ${lines.length} lines`} the cluster keeps${job.state === 'running' ? ' · follows the run' : ''}`} flush id="log">
      {lines.length === 0 ? <Empty title="No log lines yet" /> : (
        <pre className="log" ref={box} tabIndex={0} aria-label="Job log"
          onScroll={(e) => { const el = e.currentTarget; stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24; }}>
          {lines.map((l, i) => (
            <div className="ln" key={i}>
              <span className="t">{formatClock(l.time)}</span>
              <span className={`lv-${l.level.toUpperCase()}`}>{l.level.toUpperCase()}</span>
              <span className="node">{l.node_id ?? ''}</span>
              <span>{l.message}</span>
            </div>
          ))}
        </pre>
      )}
    </Card>
  );
}
