import { useEffect, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import type { SignInRequest } from '../api/types';
import { safeNext } from '../auth/auth';
import { Icon, Logo } from '../components/icons';
import { useServices } from '../live/hooks';

/**
 * SignIn exchanges an API token, or the one-time code of a link that
 * `casare dashboard` printed, for a session cookie, then returns to the
 * page the user came from. The token is sent in a POST body only; the
 * page never stores it.
 */
export function SignIn() {
  const { client, live, events } = useServices();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const code = params.get('code');
  const next = safeNext(params.get('next'));
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const tried = useRef(false);

  async function signIn(req: SignInRequest) {
    setBusy(true);
    setError('');
    try {
      await client.signIn(req);
      live.invalidate('');
      events?.retryNow();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401
        ? `${err.message}.`
        : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    document.title = 'Sign in · Casare';
    // A code works once: try it once, even under StrictMode's double
    // effects, and take it out of the address bar either way.
    if (!code || tried.current) return;
    tried.current = true;
    window.history.replaceState(null, '', `/signin${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`);
    void signIn({ code });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!token.trim()) {
      setError('Paste an API token.');
      return;
    }
    void signIn({ token: token.trim() });
  }

  return (
    <div className="signin">
      <main className="card signin-card" aria-labelledby="signin-title">
        <div className="brand signin-brand"><Logo /> Casare</div>
        <h1 id="signin-title">Sign in</h1>
        {code && busy ? (
          <p className="muted" role="status">Signing in with the link's one-time code…</p>
        ) : (
          <form className="form" onSubmit={submit} noValidate>
            <p className="muted">
              Paste an API token, or run <code>casare dashboard</code> and open the link it prints.
            </p>
            <label className="field"><span>API token</span>
              <input type="password" name="token" autoComplete="off" spellCheck={false} placeholder="casare_token_…"
                value={token} onChange={(e) => setToken(e.target.value)} autoFocus
                aria-invalid={error ? true : undefined} aria-describedby={error ? 'signin-err' : 'signin-hint'} />
              <small id="signin-hint">The first node wrote an admin token to <code>casare-data/admin.token</code>; <code>casare tokens create --role viewer --name NAME</code> makes one that only reads.</small>
            </label>
            <div className="form-actions"><button type="submit" className="btn primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button></div>
          </form>
        )}
        {error && (
          <div className="banner bad" role="alert" id="signin-err">
            <Icon name="alert" /><div><strong>Not signed in.</strong> {error}</div>
          </div>
        )}
      </main>
    </div>
  );
}
