import { useRef, useState } from 'react';
import { Card, Empty, LiveBody, PageHeader, Time, useNow } from '../components/ui';
import { Icon } from '../components/icons';
import { useAction } from '../components/actions';
import { useLive } from '../live/hooks';
import { Can, useCan } from '../auth/auth';
import { secretsApi, type OAuthConnectResponse, type Secret, type SecretList } from '../api/secrets';
import type { FieldErrors } from '../lib/forms';
import {
  connectRequest, emptyConnect, emptySetSecret, openableURL, secretUsage, setSecretRequest, vaultSummary,
  type ConnectValues, type SetSecretValues,
} from '../lib/secrets';

// The vault: names and metadata only. A value goes to the node once, in
// the set form's password field, which is emptied as soon as it is sent;
// no answer carries it back, so the page can never show it.

export function Secrets() {
  const now = useNow();
  const secrets = useLive('secrets', (c, signal) => secretsApi.list(c, signal));
  const workflows = useLive('workflows', (c) => c.workflows());
  const admin = useCan('admin');
  // "New value" on a row fills the set form's name and moves there.
  const [target, setTarget] = useState({ name: '', n: 0 });
  const setCard = useRef<HTMLDivElement>(null);
  function newValue(name: string) {
    setTarget((t) => ({ name, n: t.n + 1 }));
    setCard.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
  const names = (workflows.data?.workflows ?? []).map((w) => w.name);
  return (
    <>
      <PageHeader title="Secrets" sub={secrets.data ? vaultSummary(secrets.data.secrets) : 'The credential vault'} />
      <div className="content">
        <div className="banner info">
          <Icon name="secrets" />
          <div>
            Values are encrypted in Raft (AES-256-GCM) and handed only to the robot that holds a job&apos;s lease.
            Workflows read them with <code>{secretUsage('NAME')}</code>; job logs, variables and results show <code>***</code> instead.
            {!admin && <> Only an admin can set, delete or connect secrets.</>}
          </div>
        </div>
        <Card title="Vault" id="vault" flush hint="Names and metadata. No page, command or API answer ever shows a value.">
          <LiveBody<SecretList> snap={secrets} what="secrets" isEmpty={(d) => d.secrets.length === 0}
            empty={<Empty icon="secrets" title="No secrets yet">{admin ? 'Set one below, or' : 'An admin sets them with'} <code>casare secrets set NAME</code> (the value from stdin).</Empty>}>
            {(d) => (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th className="num">Version</th><th>Who may use it</th><th>Changed</th><th>Changed by</th><th>Created</th>{admin && <th><span className="sr-only">Actions</span></th>}</tr></thead>
                <tbody>
                  {d.secrets.map((s) => <SecretRow key={s.name} s={s} now={now} admin={admin} onNewValue={newValue} />)}
                </tbody>
              </table></div>
            )}
          </LiveBody>
        </Card>
        <Can need="admin">
          <div className="secret-forms" ref={setCard} style={{ display: 'grid', gap: 'var(--s5)', gridTemplateColumns: 'repeat(auto-fit, minmax(420px, 1fr))', alignItems: 'start' }}>
            <Card title="Set a secret" id="set" hint="A new name creates the secret; an existing one gets a new version. Running jobs keep the value they were handed.">
              <SetSecret key={target.n} initialName={target.name} workflows={names} />
            </Card>
            <Card title="Connect an OAuth account" id="connect" hint="Once: the person who owns the account consents, this node receives the redirect and keeps the refresh token as the secret.">
              <ConnectOAuth />
            </Card>
          </div>
        </Can>
      </div>
    </>
  );
}

function SecretRow({ s, now, admin, onNewValue }: { s: Secret; now: number; admin: boolean; onNewValue: (name: string) => void }) {
  const { busy, run } = useAction();
  return (
    <tr>
      <td><strong className="mono">{s.name}</strong><div className="muted mono" style={{ fontSize: 12 }}>{secretUsage(s.name)}</div></td>
      <td className="num">v{s.version}</td>
      <td className="wrap">{s.allowed_workflows.length === 0
        ? <span className="muted">any workflow</span>
        : <span className="tags">{s.allowed_workflows.map((w) => <span className="tag" key={w}>{w}</span>)}</span>}</td>
      <td><Time value={s.updated_at} now={now} /></td>
      <td>{s.updated_by || <span className="muted">—</span>}</td>
      <td><Time value={s.created_at} now={now} /></td>
      {admin && <td><div className="row-actions">
        <button type="button" className="btn sm" aria-label={`Set a new value for ${s.name}`} onClick={() => onNewValue(s.name)}>New value</button>
        <button type="button" className="btn sm danger" disabled={busy !== null} aria-label={`Delete secret ${s.name}`}
          onClick={() => {
            if (!window.confirm(`Delete the secret ${s.name}? Jobs of workflows that use it fail from now on, naming it, until it is set again.`)) return;
            void run('delete', (c) => secretsApi.remove(c, s.name), { ok: () => `Secret ${s.name} deleted.`, invalidate: ['secrets'] });
          }}>Delete</button>
      </div></td>}
    </tr>
  );
}

function useFieldErrors() {
  const [errors, setErrors] = useState<FieldErrors>({});
  const err = (form: string, k: string) => errors[k] && <small className="err" id={`${form}-${k}-err`}>{errors[k]}</small>;
  const described = (form: string, k: string) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `${form}-${k}-err` } : {});
  return { setErrors, err, described };
}

function SetSecret({ initialName, workflows }: { initialName: string; workflows: string[] }) {
  const [f, setF] = useState<SetSecretValues>({ ...emptySetSecret, name: initialName });
  const { setErrors, err, described } = useFieldErrors();
  const { busy, run } = useAction();
  const set = <K extends keyof SetSecretValues>(k: K, v: SetSecretValues[K]) => setF((p) => ({ ...p, [k]: v }));
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const { name, req, errors } = setSecretRequest(f);
    setErrors(errors);
    if (!name || !req) return;
    // The value leaves the page's state before the request is even
    // answered: only the request body holds it from here.
    set('value', '');
    await run('set', (c) => secretsApi.set(c, name, req), {
      ok: (s) => (s.version === 1 ? `Secret ${s.name} created.` : `Secret ${s.name} is now version ${s.version}.`), invalidate: ['secrets'],
    });
  }
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Set a secret" autoComplete="off">
      <div className="form-row">
        <label className="field"><span>Name</span>
          <input type="text" className="mono" value={f.name} onChange={(e) => set('name', e.target.value)} placeholder="CRM_PASSWORD" spellCheck={false} {...described('set', 'name')} />{err('set', 'name')}
        </label>
        <label className="field"><span>Value</span>
          <input type="password" value={f.value} onChange={(e) => set('value', e.target.value)} autoComplete="new-password" spellCheck={false} {...described('set', 'value')} />
          {err('set', 'value') || <small>Sent once, encrypted before it is stored; never shown again.</small>}
        </label>
      </div>
      <label className="field"><span>Only these workflows may use it</span>
        <input type="text" value={f.allowed} onChange={(e) => set('allowed', e.target.value)} list="secret-workflows" placeholder="any workflow — or names or ids, comma-separated" />
      </label>
      <datalist id="secret-workflows">{workflows.map((w) => <option key={w} value={w} />)}</datalist>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy !== null}>{busy ? 'Saving…' : 'Save secret'}</button>
      </div>
    </form>
  );
}

function ConnectOAuth() {
  const [f, setF] = useState<ConnectValues>(emptyConnect);
  const [started, setStarted] = useState<{ name: string; res: OAuthConnectResponse } | null>(null);
  const { setErrors, err, described } = useFieldErrors();
  const { busy, run } = useAction();
  const set = <K extends keyof ConnectValues>(k: K, v: ConnectValues[K]) => setF((p) => ({ ...p, [k]: v }));
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const { name, req, errors } = connectRequest(f);
    setErrors(errors);
    if (!name || !req) return;
    const res = await run('connect', (c) => secretsApi.connect(c, name, req), {
      ok: () => `Consent link ready for ${name}: open it and sign in at the provider.`, invalidate: ['secrets'],
    });
    if (res) setStarted({ name, res });
  }
  const text = (k: keyof ConnectValues, label: string, placeholder: string, extra: { mono?: boolean; url?: boolean } = {}) => (
    <label className="field"><span>{label}</span>
      <input type="text" inputMode={extra.url ? 'url' : undefined} className={extra.mono ? 'mono' : undefined} value={f[k]} placeholder={placeholder} spellCheck={false}
        onChange={(e) => set(k, e.target.value)} {...described('oauth', k)} />{err('oauth', k)}
    </label>
  );
  const link = started ? openableURL(started.res.consent_url) : undefined;
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Connect an OAuth account" autoComplete="off">
      <div className="form-row">
        {text('name', 'Keep the refresh token as', 'CRM_REFRESH', { mono: true })}
        {text('clientId', 'Client id', 'casare-robots')}
      </div>
      {text('authUrl', 'Authorization URL', 'https://login.example.com/oauth2/authorize', { url: true })}
      {text('tokenUrl', 'Token URL', 'https://login.example.com/oauth2/token', { url: true })}
      <div className="form-row">
        {text('clientSecretFrom', 'Client secret from secret', 'none: a public client (PKCE)', { mono: true })}
        {text('scopes', 'Scopes', 'offline_access crm.read')}
      </div>
      <label className="field"><span>Only these workflows may use it</span>
        <input type="text" value={f.allowed} onChange={(e) => set('allowed', e.target.value)} list="secret-workflows" placeholder="any workflow — or names or ids, comma-separated" />
      </label>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy !== null}>{busy ? 'Preparing…' : 'Get consent link'}</button>
        <span className="muted" style={{ fontSize: 12.5 }}>Authorization code with PKCE and a one-time state.</span>
      </div>
      {started && (
        <div className="banner info" role="status" aria-live="polite">
          <Icon name="check" />
          <div style={{ minWidth: 0, display: 'grid', gap: 6 }}>
            <div>Send whoever owns the account to the provider. When they consent, the provider redirects to <code>{started.res.redirect_url}</code> and the node keeps the refresh token as <code>{started.name}</code>.</div>
            {link
              ? <div><a className="btn sm primary" href={link} target="_blank" rel="noopener noreferrer">Open consent page</a>{' '}
                  <button type="button" className="btn sm" onClick={() => void navigator.clipboard?.writeText(link)}>Copy link</button></div>
              : <div className="error-text">The node answered a consent URL that is not http(s); not linking to it.</div>}
            <div className="mono muted" style={{ fontSize: 12, overflowWrap: 'anywhere' }}>{started.res.consent_url}</div>
            <div className="muted" style={{ fontSize: 12.5 }}>The link works once, until <Time value={started.res.expires_at} now={Date.now()} />.</div>
          </div>
        </div>
      )}
    </form>
  );
}
