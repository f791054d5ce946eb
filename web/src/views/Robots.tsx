import { Badge, Card, Empty, JobLink, LiveBody, PageHeader, Tags, Time, useNow } from '../components/ui';
import { useLive } from '../live/hooks';
import { useAction } from '../components/actions';
import { useCan } from '../auth/auth';
import { robotStateCounts } from '../lib/derive';
import type { Robot, RobotList } from '../api/types';

export function Robots() {
  const now = useNow();
  const robots = useLive('robots', (c) => c.robots());
  const counts = robots.data ? robotStateCounts(robots.data.robots) : undefined;
  return (
    <>
      <PageHeader title="Robots" sub={counts ? `${counts.alive} alive · ${counts.suspect} suspect · ${counts.disconnected + counts.dead} down · ${counts.left} left` : 'LAN and internet robots'} />
      <div className="content">
        <Card title="Fleet" hint="LAN robots come from gossip; internet robots from their QUIC tunnel. A robot holding jobs it has not heartbeated for 3 s is suspect. Drain a robot to let it finish what it runs and take no more; hand back to return its jobs to the queue now." flush id="fleet">
          <LiveBody<RobotList> snap={robots} what="robots" isEmpty={(d) => d.robots.length === 0}
            empty={<Empty title="No robots yet">Start a node with a robot, or connect one: <code>casare robot connect ADDR --token T</code></Empty>}>
            {(d) => (
              <div className="table-wrap"><table className="compact">
                <thead><tr><th>Robot</th><th>Kind</th><th>State</th><th>Tags</th><th className="num">Capacity</th><th>Running jobs</th><th>In state since</th><th>Last heartbeat</th><th>Node</th><th><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {d.robots.map((r) => (
                    <tr key={r.id}>
                      <td><strong>{r.name}</strong>{r.name !== r.id && <div className="id muted">{r.id}</div>}</td>
                      <td><Badge state="neutral" label={r.kind === 'lan' ? 'LAN' : 'internet'} plain /></td>
                      <td><span className="tags"><Badge state={r.state} />{r.drained && <Badge state="neutral" label="drained" plain />}</span></td>
                      <td><Tags tags={r.tags} /></td>
                      <td className="num">{r.current_jobs.length} / {r.capacity}</td>
                      <td className="wrap">{r.current_jobs.length === 0 ? <span className="muted">idle</span> : (
                        <span className="tags">{r.current_jobs.map((j) => <JobLink key={j} id={j} />)}</span>
                      )}</td>
                      <td><Time value={r.since} now={now} /></td>
                      <td>{r.last_heartbeat_at ? <Time value={r.last_heartbeat_at} now={now} /> : <span className="muted">—</span>}</td>
                      <td>{r.node || '—'}</td>
                      <td><RobotActions robot={r} /></td>
                    </tr>
                  ))}
                </tbody>
              </table></div>
            )}
          </LiveBody>
        </Card>
      </div>
    </>
  );
}

/** Drain / undrain and hand back: admin writes through the API. */
function RobotActions({ robot: r }: { robot: Robot }) {
  const { busy, run } = useAction();
  const inv = ['robots', 'jobs:', 'queue'];
  if (!useCan('admin')) return null; // anyone else would be refused
  return (
    <div className="row-actions">
      <button type="button" className="btn sm" disabled={busy !== null} aria-label={`${r.drained ? 'Undrain' : 'Drain'} robot ${r.name}`}
        onClick={() => void run('drain', (c) => c.drainRobot(r.id, !r.drained), {
          ok: (x) => (x.drained ? `${x.name} drained: it finishes what it runs and takes no more.` : `${x.name} takes jobs again.`), invalidate: inv,
        })}>
        {r.drained ? 'Undrain' : 'Drain'}
      </button>
      <button type="button" className="btn sm danger" disabled={busy !== null || r.current_jobs.length === 0} aria-label={`Make robot ${r.name} hand its jobs back`}
        title={r.current_jobs.length === 0 ? 'It runs no jobs' : 'Return its jobs to the queue now (no attempt spent) and drain it'}
        onClick={() => {
          if (!window.confirm(`Take ${r.current_jobs.length} running job(s) away from ${r.name}? They go back to the queue from their last checkpoint, and ${r.name} is drained.`)) return;
          void run('handback', (c) => c.handBackRobot(r.id), { ok: (x) => `${x.handed_back.length} job(s) back in the queue; ${x.robot.name} drained.`, invalidate: inv });
        }}>
        Hand back
      </button>
    </div>
  );
}
