import { Badge, Card, Empty, JobLink, LiveBody, PageHeader, Tags, Time, useNow } from '../components/ui';
import { useLive } from '../live/hooks';
import { robotStateCounts } from '../lib/derive';
import type { RobotList } from '../api/types';

export function Robots() {
  const now = useNow();
  const robots = useLive('robots', (c) => c.robots());
  const counts = robots.data ? robotStateCounts(robots.data.robots) : undefined;
  return (
    <>
      <PageHeader title="Robots" sub={counts ? `${counts.alive} alive · ${counts.suspect} suspect · ${counts.disconnected + counts.dead} down · ${counts.left} left` : 'LAN and internet robots'} />
      <div className="content">
        <Card title="Fleet" hint="LAN robots come from gossip; internet robots from their QUIC tunnel. A robot holding jobs it has not heartbeated for 3 s is suspect." flush id="fleet">
          <LiveBody<RobotList> snap={robots} what="robots" isEmpty={(d) => d.robots.length === 0}
            empty={<Empty title="No robots yet">Start a node with a robot, or connect one: <code>casare robot connect ADDR --token T</code></Empty>}>
            {(d) => (
              <div className="table-wrap"><table>
                <thead><tr><th>Robot</th><th>Kind</th><th>State</th><th>Tags</th><th className="num">Capacity</th><th>Running jobs</th><th>In state since</th><th>Node</th></tr></thead>
                <tbody>
                  {d.robots.map((r) => (
                    <tr key={r.id}>
                      <td><strong>{r.name}</strong>{r.name !== r.id && <div className="id muted">{r.id}</div>}</td>
                      <td><Badge state="neutral" label={r.kind === 'lan' ? 'LAN' : 'internet'} plain /></td>
                      <td><Badge state={r.state} /></td>
                      <td><Tags tags={r.tags} /></td>
                      <td className="num">{r.current_jobs.length} / {r.capacity}</td>
                      <td className="wrap">{r.current_jobs.length === 0 ? <span className="muted">idle</span> : (
                        <span className="tags">{r.current_jobs.map((j) => <JobLink key={j} id={j} />)}</span>
                      )}</td>
                      <td><Time value={r.since} now={now} /></td>
                      <td>{r.node || '—'}</td>
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
