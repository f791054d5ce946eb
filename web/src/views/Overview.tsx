import { Link } from 'react-router';
import { Badge, Card, Empty, ErrorBanner, Loading, PageHeader, Stat, Tags, useNow } from '../components/ui';
import { Icon } from '../components/icons';
import { useLive } from '../live/hooks';
import { alerts, priorityBars, robotStateCounts, stateCounts } from '../lib/derive';
import { formatCount, formatDuration, formatRelative } from '../lib/format';
import type { ReactNode } from 'react';
import type { Cluster, ClusterServer, Job } from '../api/types';
import { ThroughputCharts } from './ThroughputCharts';

/** How many unfinished jobs the overview checks for a passed deadline. */
const activeScan = 500;

export function Overview() {
  const now = useNow();
  const cluster = useLive('cluster', (c) => c.cluster());
  const queue = useLive('queue', (c) => c.queue());
  const robots = useLive('robots', (c) => c.robots());
  const running = useLive('jobs:list:running:overview', (c) => c.jobs({ state: 'running', limit: activeScan }));
  const queued = useLive('jobs:list:queued:overview', (c) => c.jobs({ state: 'queued', limit: activeScan }));
  const dead = useLive('jobs:list:dead:overview', (c) => c.jobs({ state: 'dead', limit: 20 }));

  const c = cluster.data;
  const q = queue.data;
  const rs = robots.data?.robots ?? [];
  const rc = robotStateCounts(rs);
  const active: Job[] = [...(running.data?.jobs ?? []), ...(queued.data?.jobs ?? [])];
  const list = alerts({
    active, dead: dead.data?.jobs ?? [], robots: rs, queue: q,
    leaderKnown: !c || c.leader !== null,
    serversDown: (c?.servers ?? []).filter((s) => !s.alive).map((s) => s.name),
  });
  const alertsLoaded = c && q && robots.data && running.data && queued.data && dead.data;
  const capacity = rs.filter((r) => r.state === 'alive').reduce((n, r) => n + r.capacity, 0);
  const busy = rs.reduce((n, r) => n + r.current_jobs.length, 0);

  return (
    <>
      <PageHeader title="Overview" sub={c ? `As ${c.node} sees it · applied index ${formatCount(c.applied_index)}` : 'Cluster at a glance'} />
      <div className="content">
        {cluster.error && !c && <ErrorBanner error={cluster.error} what="the cluster" />}
        <div className="grid stats">
          <Stat label="Leader" value={c ? (c.leader?.name ?? 'none') : '…'} foot={c ? `term ${c.term} · ${c.servers.length} server${c.servers.length === 1 ? '' : 's'}` : ''} to="/cluster" />
          <Stat label="Robots alive" value={robots.data ? `${rc.alive} / ${rs.length}` : '…'}
            foot={robots.data ? `${rc.suspect} suspect · ${rc.dead + rc.disconnected} down · ${rc.left} left` : ''} to="/robots" />
          <Stat label="Slots in use" value={robots.data ? `${busy} / ${capacity}` : '…'} foot="jobs running / capacity" to="/robots" />
          <Stat label="Queued" value={q ? formatCount(q.by_state.queued) : '…'}
            foot={q ? (q.oldest_queued_at ? `oldest waits ${formatDuration(q.oldest_queued_age_seconds * 1000)}` : 'nothing waiting') : ''} to="/jobs?state=queued" />
          <Stat label="Finished last minute" value={q ? formatCount(q.finished_last_minute) : '…'} foot={q?.paused ? 'queue paused' : 'queue running'} to="/jobs" />
        </div>

        <ThroughputCharts />

        <Card title="Jobs by state" hint="Every job the cluster keeps" flush id="states">
          {q ? (
            <div className="state-strip">
              {stateCounts(q).map((s) => (
                <Link key={s.state} to={`/jobs?state=${s.state}`} aria-label={`${s.count} ${s.state} jobs`}>
                  <Badge state={s.state} />
                  <span className="n">{formatCount(s.count)}</span>
                </Link>
              ))}
            </div>
          ) : queue.error ? <div className="card-body"><ErrorBanner error={queue.error} what="queue counts" /></div> : <Loading rows={2} />}
        </Card>

        <div className="grid wide-left">
          <Card title="Alerts" hint="Late and dead jobs, suspect robots, servers down" flush id="alerts">
            {!alertsLoaded ? <Loading rows={3} label="Loading alerts" /> : list.length === 0 ? (
              <div className="all-good"><Icon name="check" /> All clear: no late or dead jobs, no suspect robots.</div>
            ) : (
              <ul className="alerts">
                {list.map((a, i) => (
                  <li key={`${a.kind}-${a.href}-${i}`}>
                    <Link to={a.href}>
                      <Badge state={a.kind === 'late' || a.kind === 'suspect' || a.kind === 'paused' ? 'suspect' : 'failed'} label={a.kind} />
                      <span className="t">{a.title}</span>
                      <span className="d">{a.detail}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title="Queued by priority" hint="9 is claimed first" id="prio">
            {q ? (
              <div className="bars">
                {priorityBars(q).map((b) => (
                  <div className="bar-row" key={b.priority}>
                    <span className="muted">priority {b.priority}</span>
                    <div className="bar-track" role="img" aria-label={`${b.count} queued at priority ${b.priority}`}>
                      <div className="bar-fill" style={{ width: `${b.share * 100}%` }} />
                    </div>
                    <span className="num" style={{ textAlign: 'right' }}>{formatCount(b.count)}</span>
                  </div>
                ))}
              </div>
            ) : <Loading rows={5} />}
          </Card>
        </div>

        <div className="grid cols-2">
          <Card title="Servers" hint={c ? `Raft configuration · ${c.node}: ${c.raft_state}, term ${c.term}, applied ${formatCount(c.applied_index)}` : 'Raft configuration'} flush id="servers">
            {c ? <ServersTable c={c} compact /> : <Loading />}
          </Card>
          <Card title="Gossip members" hint="Every node, servers and robot-only members" flush id="members">
            {c ? (c.members.length === 0 ? <Empty title="No gossip members known" /> : (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th>State</th><th>Roles</th><th>HTTP</th></tr></thead>
                <tbody>
                  {c.members.map((m) => (
                    <tr key={m.name}><td>{m.name}</td><td><Badge state={m.state} /></td><td><Tags tags={m.roles} /></td><td className="id">{m.http_addr || '—'}</td></tr>
                  ))}
                </tbody>
              </table></div>
            )) : <Loading />}
          </Card>
        </div>
        <p className="muted" style={{ margin: 0, fontSize: 12.5 }}>
          Updated {formatRelative(new Date(cluster.updatedAt ?? now).toISOString(), now)} · refreshes every 1.5 s
        </p>
      </div>
    </>
  );
}

export function ServersTable({ c, filter, compact, actions }: {
  c: Cluster; filter?: (voter: boolean) => boolean; compact?: boolean; actions?: (s: ClusterServer) => ReactNode;
}) {
  const servers = c.servers.filter((s) => !filter || filter(s.voter));
  if (servers.length === 0) return <Empty title={filter?.(false) ? 'No non-voters: every server votes' : 'No servers'} />;
  return (
    <div className="table-wrap"><table>
      <thead><tr><th>Name</th><th>Role</th><th>Alive</th>{!compact && <th>Raft address</th>}<th>HTTP</th>{actions && <th><span className="sr-only">Actions</span></th>}</tr></thead>
      <tbody>
        {servers.map((s) => (
          <tr key={s.name}>
            <td>{s.name}{s.name === c.node && <span className="muted"> (this node)</span>}</td>
            <td>{s.leader ? <Badge state="leader" /> : <Badge state={s.voter ? 'voter' : 'non-voter'} plain />}</td>
            <td>{s.alive ? <Badge state="alive" /> : <Badge state="dead" label="down" />}</td>
            {!compact && <td className="id">{s.raft_addr}</td>}
            <td className="id">{s.http_addr || '—'}</td>
            {actions && <td>{actions(s)}</td>}
          </tr>
        ))}
      </tbody>
    </table></div>
  );
}
