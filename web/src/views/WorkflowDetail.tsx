import { useEffect, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { Badge, Card, Empty, ErrorBanner, Loading, PageHeader, Tags, Time, useNow } from '../components/ui';
import { useLive } from '../live/hooks';
import { ApiError } from '../api/client';
import { GraphCard } from './GraphCard';
import { JobTable } from './Jobs';
import { RunForm } from './RunForm';
import { VersionDiff } from './VersionDiff';
import { useCan } from '../auth/auth';

export function WorkflowDetail() {
  const canOperate = useCan('operator');
  const { id = '' } = useParams();
  const loc = useLocation();
  const now = useNow();
  const wf = useLive(`workflows:one:${id}`, (c) => c.workflow(id), 5000);
  const versions = useLive(`workflows:versions:${id}`, (c) => c.workflowVersions(id), 5000);
  const jobs = useLive(`jobs:list::${id}::10`, (c) => c.jobs({ workflow_id: id, limit: 10 }));
  const schedules = useLive(`schedules:${id}`, (c) => c.schedules(id));
  const [shown, setShown] = useState<number | null>(null);
  useEffect(() => {
    if (loc.hash === '#run' && wf.data) document.getElementById('run-title')?.scrollIntoView();
  }, [loc.hash, wf.data]);

  const w = wf.data;
  if (!w) {
    return (
      <>
        <PageHeader title="Workflow" crumbs={<Link to="/workflows">Workflows</Link>} />
        <div className="content">
          {wf.error ? (wf.error instanceof ApiError && wf.error.status === 404
            ? <div className="card"><Empty icon="alert" title="No such workflow">The cluster has no workflow <code>{id}</code>.</Empty></div>
            : <ErrorBanner error={wf.error} what="the workflow" />) : <div className="card"><Loading rows={6} /></div>}
        </div>
      </>
    );
  }
  const vs = [...(versions.data?.versions ?? [])].sort((a, b) => b.version - a.version);
  const version = shown ?? w.latest_version;
  const graph = version === w.latest_version ? w.graph : vs.find((v) => v.version === version)?.graph;
  const names = new Map([[w.id, w.name]]);
  return (
    <>
      <PageHeader crumbs={<><Link to="/workflows">Workflows</Link> / <span className="id">{w.id}</span></>}
        title={w.name}
        docTitle={w.name}
        sub={<>Latest version {w.latest_version} · updated <Time value={w.updated_at} now={now} />{w.settings.paused && <> · <Badge state="paused" /></>}</>}
        actions={canOperate && <>
          <a className="btn primary" href="#run">Run now</a>
          <Link className="btn" to={`/designer/${encodeURIComponent(w.id)}`}>Open in designer</Link>
          <Link className="btn" to={`/schedules?workflow=${encodeURIComponent(w.id)}`}>Schedule…</Link>
        </>} />
      <div className="content">
        <GraphCard graph={graph} title={`Graph of version ${version}`} hint={`${graph?.nodes?.length ?? 0} nodes · ${graph?.connections?.length ?? 0} connections`} />
        <div className="grid cols-2">
          {canOperate && <Card title="Run now" id="run"><RunForm key={w.id} workflowId={w.id} variables={w.graph.variables} /></Card>}
          <div className="grid" style={{ alignContent: 'start' }}>
          <Card title="Versions" hint="Immutable; a job runs the version it was queued with" flush id="versions">
            {!versions.data ? <Loading /> : (
              <div className="table-wrap"><table>
                <thead><tr><th>Version</th><th>Created</th><th><span className="sr-only">Show</span></th></tr></thead>
                <tbody>
                  {vs.map((v) => (
                    <tr key={v.version} aria-current={v.version === version ? 'true' : undefined}>
                      <td>v{v.version}{v.version === w.latest_version && <span className="muted"> latest</span>}</td>
                      <td><Time value={v.created_at} now={now} /></td>
                      <td><button type="button" className="btn sm" aria-pressed={v.version === version} onClick={() => setShown(v.version)}>{v.version === version ? 'Shown' : 'Show'}</button></td>
                    </tr>
                  ))}
                </tbody>
              </table></div>
            )}
          </Card>
          <Card title="Details" id="details">
            <dl className="kv">
              <dt>ID</dt><dd className="id">{w.id}</dd>
              <dt>Tags</dt><dd><Tags tags={w.tags} /></dd>
              <dt>Created</dt><dd><Time value={w.created_at} now={now} /></dd>
              <dt>Max concurrency</dt><dd>{w.settings.max_concurrency || 'unlimited'}</dd>
              <dt>Lease (visibility)</dt><dd>{w.settings.visibility_timeout}</dd>
              <dt>Queue</dt><dd>{w.settings.paused ? <Badge state="paused" /> : <Badge state="alive" label="taking jobs" />}</dd>
              <dt>Schedules</dt><dd>{schedules.data ? (schedules.data.schedules.length === 0 ? <span className="muted">none</span> : (
                <span className="tags">{schedules.data.schedules.map((s) => <span key={s.id} className="tag" title={s.id}>{s.cron} {s.enabled ? '' : '(off)'}</span>)}</span>
              )) : '…'}</dd>
              <dt>Checksum</dt><dd className="id muted">{w.checksum}</dd>
            </dl>
          </Card>
          </div>
        </div>
        {versions.data && <VersionDiff vs={vs} />}
        <Card title="Recent jobs" flush id="recent" actions={<Link className="btn sm" to={`/jobs?workflow=${encodeURIComponent(w.id)}`}>All jobs</Link>}>
          {!jobs.data ? <Loading /> : jobs.data.jobs.length === 0 ? <Empty title="No jobs of this workflow yet" /> : <JobTable jobs={jobs.data.jobs} names={names} now={now} />}
        </Card>
      </div>
    </>
  );
}
