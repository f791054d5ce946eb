import { Badge, Card, Empty, LiveBody, PageHeader, Stat, Tags } from '../components/ui';
import { useLive } from '../live/hooks';
import { formatCount } from '../lib/format';
import { ServersTable } from './Overview';
import type { Cluster as ClusterT } from '../api/types';

export function Cluster() {
  const cluster = useLive('cluster', (c) => c.cluster());
  const c = cluster.data;
  return (
    <>
      <PageHeader title="Cluster" sub="Raft servers and gossip members, as this node sees them" />
      <div className="content">
        <div className="grid stats">
          <Stat label="This node" value={c?.node ?? '…'} foot={c ? `Raft ${c.raft_state}` : ''} />
          <Stat label="Leader" value={c ? (c.leader?.name ?? 'none') : '…'} foot={c?.leader?.http_addr || (c ? 'no HTTP address known' : '')} />
          <Stat label="Term" value={c ? formatCount(c.term) : '…'} foot="elections so far" />
          <Stat label="Applied index" value={c ? formatCount(c.applied_index) : '…'} foot="on this node" />
          <Stat label="Voters" value={c ? `${c.servers.filter((s) => s.voter && s.alive).length} / ${c.servers.filter((s) => s.voter).length}` : '…'} foot="alive / total" />
        </div>
        <div className="grid">
          <Card title="Voters" hint="Elect the leader and make the quorum" flush id="voters">
            <LiveBody<ClusterT> snap={cluster} what="servers">{(d) => <ServersTable c={d} filter={(v) => v} />}</LiveBody>
          </Card>
          <Card title="Non-voters" hint="Hold a replica without voting" flush id="nonvoters">
            <LiveBody<ClusterT> snap={cluster} what="servers">{(d) => <ServersTable c={d} filter={(v) => !v} />}</LiveBody>
          </Card>
        </div>
        <Card title="Members" hint="Gossip (memberlist) state of every node" flush id="gossip">
          <LiveBody<ClusterT> snap={cluster} what="members" isEmpty={(d) => d.members.length === 0} empty={<Empty title="No gossip members known" />}>
            {(d) => (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th>Gossip state</th><th>Roles</th><th>HTTP address</th><th>Robot tags</th><th className="num">Capacity</th></tr></thead>
                <tbody>
                  {d.members.map((m) => (
                    <tr key={m.name}>
                      <td>{m.name}{m.name === d.node && <span className="muted"> (this node)</span>}</td>
                      <td><Badge state={m.state} /></td>
                      <td><Tags tags={m.roles} /></td>
                      <td className="id">{m.http_addr || '—'}</td>
                      <td><Tags tags={m.tags} /></td>
                      <td className="num">{m.capacity ?? '—'}</td>
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
