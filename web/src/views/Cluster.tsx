import { Badge, Card, Empty, LiveBody, PageHeader, Stat, Tags } from '../components/ui';
import { useLive } from '../live/hooks';
import { formatCount } from '../lib/format';
import { ServersTable } from './Overview';
import type { Cluster as ClusterT, ClusterMember, ClusterServer } from '../api/types';
import { useAction } from '../components/actions';
import { useCan } from '../auth/auth';

export function Cluster() {
  const cluster = useLive('cluster', (c) => c.cluster());
  const c = cluster.data;
  const canRemove = useCan('admin');
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
            <LiveBody<ClusterT> snap={cluster} what="servers">{(d) => <ServersTable c={d} filter={(v) => v} actions={canRemove ? (s) => <RemoveServer s={s} node={d.node} /> : undefined} />}</LiveBody>
          </Card>
          <Card title="Non-voters" hint="Hold a replica without voting" flush id="nonvoters">
            <LiveBody<ClusterT> snap={cluster} what="servers">{(d) => <ServersTable c={d} filter={(v) => !v} actions={canRemove ? (s) => <RemoveServer s={s} node={d.node} /> : undefined} />}</LiveBody>
          </Card>
        </div>
        <Card title="Members" hint="Gossip (memberlist) state of every node" flush id="gossip">
          <LiveBody<ClusterT> snap={cluster} what="members" isEmpty={(d) => d.members.length === 0} empty={<Empty title="No gossip members known" />}>
            {(d) => (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th>Gossip state</th><th>Roles</th><th>HTTP address</th><th>Robot tags</th><th className="num">Capacity</th>{canRemove && <th><span className="sr-only">Actions</span></th>}</tr></thead>
                <tbody>
                  {d.members.map((m) => (
                    <tr key={m.name}>
                      <td>{m.name}{m.name === d.node && <span className="muted"> (this node)</span>}</td>
                      <td><Badge state={m.state} /></td>
                      <td><Tags tags={m.roles} /></td>
                      <td className="id">{m.http_addr || '—'}</td>
                      <td><Tags tags={m.tags} /></td>
                      <td className="num">{m.capacity ?? '—'}</td>
                      {canRemove && <td><LeaveMember m={m} node={d.node} /></td>}
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

/**
 * RemoveServer takes a server out of the Raft configuration: for a server
 * that is gone for good. The leader, the node answering and servers that
 * are alive are not offered: the API refuses a server it can still reach
 * (remove the leader from another node, after a new leader is elected).
 */
function RemoveServer({ s, node }: { s: ClusterServer; node: string }) {
  const { busy, run } = useAction();
  if (s.leader || s.name === node || s.alive) return null;
  return (
    <button type="button" className="btn sm danger" disabled={busy !== null} aria-label={`Remove server ${s.name}`}
      onClick={() => {
        if (!window.confirm(`Remove ${s.name} from the Raft configuration? It stops voting and holding the cluster's state; to come back it must join again.`)) return;
        void run('remove', (c) => c.removeServer(s.name), {
          ok: (r) => `${r.removed} removed; ${r.voters} voters left${r.promoted ? `, ${r.promoted} promoted to keep the count` : ''}.`,
          invalidate: ['cluster'],
        });
      }}>Remove</button>
  );
}

/**
 * LeaveMember asks a running member to leave the cluster gracefully and
 * stop, as `casare node leave` does on its machine: a server hands its
 * Raft seat back, a robot finishes what it runs.
 */
function LeaveMember({ m, node }: { m: ClusterMember; node: string }) {
  const { busy, run } = useAction();
  if (m.state !== 'alive' && m.state !== 'suspect') return null;
  const self = m.name === node;
  return (
    <button type="button" className="btn sm danger" disabled={busy !== null} aria-label={`Ask ${m.name} to leave the cluster`}
      onClick={() => {
        const server = m.roles.includes('server');
        const what = server ? 'hands its Raft seat back' : 'finishes the jobs it runs';
        const page = self ? ' This page is served by it: open another node\'s page afterwards.' : '';
        if (!window.confirm(`Ask ${m.name} to leave the cluster? It ${what}, leaves gossip and stops; to come back it must be started and join again.${page}`)) return;
        void run('leave', (c) => c.askLeave(m.name), {
          ok: (r) => `${r.node} is leaving the cluster.`,
          invalidate: ['cluster'],
        });
      }}>Leave</button>
  );
}
