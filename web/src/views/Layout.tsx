import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { Icon, Logo, type IconName } from '../components/icons';
import { useLive, useStreamState } from '../live/hooks';
import { ApiError } from '../api/client';
import { ToastProvider } from '../components/toasts';
import { RequireAuth, useWho } from '../auth/auth';
import { useServices } from '../live/hooks';

const nav: { to: string; label: string; icon: IconName }[] = [
  { to: '/', label: 'Overview', icon: 'overview' },
  { to: '/robots', label: 'Robots', icon: 'robots' },
  { to: '/jobs', label: 'Jobs', icon: 'jobs' },
  { to: '/workflows', label: 'Workflows', icon: 'workflows' },
  { to: '/designer', label: 'Designer', icon: 'designer' },
  { to: '/schedules', label: 'Schedules', icon: 'schedules' },
  { to: '/secrets', label: 'Secrets', icon: 'secrets' },
  { to: '/cluster', label: 'Cluster', icon: 'cluster' },
  { to: '/docs', label: 'API', icon: 'docs' },
];

/** Layout is every signed-in page: a page without a session goes to /signin. */
export function Layout() {
  return <RequireAuth><Shell /></RequireAuth>;
}

function Shell() {
  const cluster = useLive('cluster', (c) => c.cluster());
  const stream = useStreamState();
  const loc = useLocation();
  const firstPage = useRef(true);
  useEffect(() => {
    // After a navigation, move focus to the new page for keyboard and
    // screen reader users; on the first load leave it at the top, where
    // Tab reaches the skip link and the navigation first.
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [loc.pathname]);
  const c = cluster.data;
  const down = cluster.error instanceof ApiError && cluster.error.status === 0;
  // The node that served the page is the one at this address: a
  // robot-only member answers cluster reads from a server, so c.node may
  // name another node.
  const peers = (c?.members ?? []).filter((m) => m.state === 'alive' && m.http_addr && m.http_addr !== window.location.host);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <aside className="sidebar">
        <div className="brand"><Logo /> Casare</div>
        <nav className="nav" aria-label="Main">
          {nav.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.to === '/'} title={n.label}>
              <Icon name={n.icon} /><span>{n.label}</span>
            </NavLink>
          ))}
        </nav>
        <div className="side-foot" aria-label="This node">
          <div className="row"><span>Status</span><span className="val" role="status">
            <span className={`dot ${cluster.error ? 'bad' : c ? 'ok' : ''}`} style={{ marginRight: 6 }} />{cluster.error ? 'no answer' : c ? 'live' : '…'}
          </span></div>
          <div className="row" title="live: the event stream pushes every change; polling: the stream is down and the page asks every 1.5 s"><span>Updates</span><span className="val">{stream}</span></div>
          <div className="row" title="The node whose state the page shows; a robot-only member asks a server"><span>Answered by</span><span className="val">{c?.node ?? '…'}</span></div>
          <div className="row"><span>Leader</span><span className="val">{c ? (c.leader?.name ?? 'none') : '…'}</span></div>
          <div className="row"><span>Raft</span><span className="val">{c ? `${c.raft_state} · t${c.term}` : '…'}</span></div>
          <SignedIn />
        </div>
      </aside>
      <div className="main">
        {down && (
          <div className="banner bad" role="alert" style={{ borderRadius: 0, borderWidth: '0 0 1px' }}>
            <Icon name="alert" />
            <div>
              <strong>This node does not answer.</strong> The page shows the last data it had.
              {peers.length > 0 && <> Other peers: {peers.map((m, i) => (
                <span key={m.name}>{i > 0 && ', '}<a href={`http://${m.http_addr}${loc.pathname}`}>{m.name}</a></span>
              ))}</>}
            </div>
          </div>
        )}
        <main id="main" tabIndex={-1} style={{ outline: 'none' }}>
          <ToastProvider><Outlet /></ToastProvider>
        </main>
      </div>
    </div>
  );
}

/** SignedIn names the signed-in credential and its role, and signs out. */
function SignedIn() {
  const who = useWho();
  const { client } = useServices();
  const navigate = useNavigate();
  if (!who) return null;
  return (
    <>
      <div className="row" title="The API token this page signed in with, and its role"><span>Signed in</span><span className="val">{who.name} · {who.role}</span></div>
      {who.kind === 'session' && (
        <button type="button" className="btn sm signout" onClick={() => {
          void client.signOut().finally(() => navigate('/signin', { replace: true }));
        }}>Sign out</button>
      )}
    </>
  );
}
