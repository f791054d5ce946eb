// Parsing of the Secrets page's forms into vault requests: pure, so it is
// unit tested. The server checks everything again; these catch the
// obvious before a value leaves the page.

import type { OAuthConnectRequest, PutSecretRequest, Secret } from '../api/secrets';
import { parseTags, type FieldErrors } from './forms';

/** The server's rule (consensus.ValidSecretName). */
const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** The server's bound on a value (consensus.MaxSecretBytes). */
export const maxSecretBytes = 64 << 10;

export function secretNameProblem(name: string): string | undefined {
  if (name === '') return 'Give the secret a name, like CRM_PASSWORD';
  if (name.length > 128) return 'A name has at most 128 characters';
  return namePattern.test(name) ? undefined : 'Use letters, digits, _ . - (a letter or _ first)';
}

export interface SetSecretValues {
  name: string;
  value: string;
  /** Comma-separated workflow names or ids; empty: any workflow. */
  allowed: string;
}

export const emptySetSecret: SetSecretValues = { name: '', value: '', allowed: '' };

export function setSecretRequest(f: SetSecretValues): { name?: string; req?: PutSecretRequest; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const name = f.name.trim();
  const nameErr = secretNameProblem(name);
  if (nameErr) errors.name = nameErr;
  const bytes = new TextEncoder().encode(f.value).length;
  if (bytes === 0) errors.value = 'Give the value';
  else if (bytes > maxSecretBytes) errors.value = `The value is ${bytes} bytes; the vault keeps at most ${maxSecretBytes}`;
  if (Object.keys(errors).length > 0) return { errors };
  const req: PutSecretRequest = { value: f.value };
  const allowed = parseTags(f.allowed);
  if (allowed.length > 0) req.allowed_workflows = allowed;
  return { name, req, errors };
}

export interface ConnectValues {
  name: string;
  authUrl: string;
  tokenUrl: string;
  clientId: string;
  /** The vault secret that holds the client secret; empty for a public client. */
  clientSecretFrom: string;
  /** Space- or comma-separated, as providers write them. */
  scopes: string;
  allowed: string;
}

export const emptyConnect: ConnectValues = { name: '', authUrl: '', tokenUrl: '', clientId: '', clientSecretFrom: '', scopes: '', allowed: '' };

function urlProblem(text: string, what: string): string | undefined {
  if (text.trim() === '') return `Give the provider's ${what}`;
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return `The ${what} is not a URL`;
  }
  return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : `The ${what} must be http or https`;
}

export function connectRequest(f: ConnectValues): { name?: string; req?: OAuthConnectRequest; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const name = f.name.trim();
  const nameErr = secretNameProblem(name);
  if (nameErr) errors.name = nameErr;
  const authErr = urlProblem(f.authUrl, 'authorization URL');
  if (authErr) errors.authUrl = authErr;
  const tokenErr = urlProblem(f.tokenUrl, 'token URL');
  if (tokenErr) errors.tokenUrl = tokenErr;
  if (f.clientId.trim() === '') errors.clientId = 'Give the client id the provider issued';
  const from = f.clientSecretFrom.trim();
  if (from !== '') {
    const fromErr = secretNameProblem(from);
    if (fromErr) errors.clientSecretFrom = fromErr;
  }
  if (Object.keys(errors).length > 0) return { errors };
  const req: OAuthConnectRequest = { auth_url: f.authUrl.trim(), token_url: f.tokenUrl.trim(), client_id: f.clientId.trim() };
  if (from !== '') req.client_secret_from = from;
  const scopes = f.scopes.split(/[\s,]+/).filter((s) => s !== '');
  if (scopes.length > 0) req.scopes = scopes;
  const allowed = parseTags(f.allowed);
  if (allowed.length > 0) req.allowed_workflows = allowed;
  return { name, req, errors };
}

/**
 * openableURL returns u if the page may link to it: only http(s), so an
 * answer cannot make the page run a javascript: URL.
 */
export function openableURL(u: string): string | undefined {
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:' ? p.href : undefined;
  } catch {
    return undefined;
  }
}

/** secretUsage is how a workflow references the secret. */
export function secretUsage(name: string): string {
  return `{{ secret("${name}") }}`;
}

/** vaultSummary is the page's subtitle. */
export function vaultSummary(secrets: Secret[]): string {
  if (secrets.length === 0) return 'No secrets yet';
  const limited = secrets.filter((s) => s.allowed_workflows.length > 0).length;
  const n = `${secrets.length} secret${secrets.length === 1 ? '' : 's'}`;
  return limited === 0 ? `${n}, any workflow may use them` : `${n} · ${limited} limited to some workflows`;
}
