import { describe, expect, it } from 'vitest';
import { connectRequest, emptyConnect, emptySetSecret, maxSecretBytes, openableURL, secretNameProblem, secretUsage, setSecretRequest, vaultSummary } from './secrets';
import type { Secret } from '../api/secrets';

describe('secret names', () => {
  it('takes the names the server takes', () => {
    for (const n of ['PW', '_x', 'crm.refresh-token_2', 'a'.repeat(128)]) expect(secretNameProblem(n)).toBeUndefined();
  });
  it('names what is wrong with others', () => {
    expect(secretNameProblem('')).toMatch(/Give/);
    expect(secretNameProblem('2fa')).toMatch(/letter or _ first/);
    expect(secretNameProblem('a b')).toMatch(/letters, digits/);
    expect(secretNameProblem('a'.repeat(129))).toMatch(/128/);
  });
});

describe('set form', () => {
  it('builds a request that keeps the value exactly, spaces included', () => {
    const { name, req, errors } = setSecretRequest({ name: ' PW ', value: ' p"a\\ss ', allowed: 'billing, crm-sync ,' });
    expect(errors).toEqual({});
    expect(name).toBe('PW');
    expect(req).toEqual({ value: ' p"a\\ss ', allowed_workflows: ['billing', 'crm-sync'] });
  });
  it('leaves out allowed_workflows when any workflow may use it', () => {
    expect(setSecretRequest({ ...emptySetSecret, name: 'PW', value: 'x' }).req).toEqual({ value: 'x' });
  });
  it('refuses an empty or too long value and a bad name, and builds nothing', () => {
    const empty = setSecretRequest({ ...emptySetSecret, name: '1x' });
    expect(empty.req).toBeUndefined();
    expect(Object.keys(empty.errors).sort()).toEqual(['name', 'value']);
    // Bytes count, not characters: é is two bytes.
    const long = setSecretRequest({ ...emptySetSecret, name: 'PW', value: 'é'.repeat(maxSecretBytes / 2 + 1) });
    expect(long.errors.value).toMatch(/65538 bytes/);
  });
});

describe('OAuth connect form', () => {
  const ok = { ...emptyConnect, name: 'CRM_REFRESH', authUrl: 'https://id.example.com/authorize', tokenUrl: 'https://id.example.com/token', clientId: 'casare' };
  it('builds the request, splitting scopes on spaces and commas', () => {
    const { name, req, errors } = connectRequest({ ...ok, clientSecretFrom: 'CRM_CLIENT', scopes: 'openid offline_access,  crm.read', allowed: 'crm-sync' });
    expect(errors).toEqual({});
    expect(name).toBe('CRM_REFRESH');
    expect(req).toEqual({
      auth_url: 'https://id.example.com/authorize', token_url: 'https://id.example.com/token', client_id: 'casare',
      client_secret_from: 'CRM_CLIENT', scopes: ['openid', 'offline_access', 'crm.read'], allowed_workflows: ['crm-sync'],
    });
  });
  it('sends a public client without client_secret_from or scopes', () => {
    expect(connectRequest(ok).req).toEqual({ auth_url: ok.authUrl, token_url: ok.tokenUrl, client_id: 'casare' });
  });
  it('names every bad field', () => {
    const { req, errors } = connectRequest({ ...emptyConnect, name: 'x y', authUrl: 'javascript:alert(1)', tokenUrl: 'not a url', clientSecretFrom: '9' });
    expect(req).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['authUrl', 'clientId', 'clientSecretFrom', 'name', 'tokenUrl']);
    expect(errors.authUrl).toMatch(/http or https/);
    expect(errors.tokenUrl).toMatch(/not a URL/);
  });
});

describe('consent links', () => {
  it('links only to http(s)', () => {
    expect(openableURL('https://id.example.com/authorize?state=s&code_challenge=c')).toBe('https://id.example.com/authorize?state=s&code_challenge=c');
    expect(openableURL('javascript:alert(1)')).toBeUndefined();
    expect(openableURL('data:text/html,x')).toBeUndefined();
    expect(openableURL('')).toBeUndefined();
  });
});

describe('page text', () => {
  const s = (name: string, allowed: string[] = []): Secret => ({ name, version: 1, allowed_workflows: allowed, created_at: '', updated_at: '' });
  it('summarises the vault', () => {
    expect(vaultSummary([])).toBe('No secrets yet');
    expect(vaultSummary([s('A')])).toBe('1 secret, any workflow may use them');
    expect(vaultSummary([s('A'), s('B', ['x'])])).toBe('2 secrets · 1 limited to some workflows');
  });
  it('shows how a workflow references a secret', () => {
    expect(secretUsage('PW')).toBe('{{ secret("PW") }}');
  });
});
