// The vault's endpoints. A value goes out once, in the body of a PUT; no
// answer carries one back, so none of these types has a value field.

import { apiBase, type Client } from './client';

/** A secret's metadata, as GET /api/v1/secrets lists it. */
export interface Secret {
  name: string;
  version: number;
  /** Workflows (ids or names) that may use it; empty: any workflow. */
  allowed_workflows: string[];
  created_at: string;
  updated_at: string;
  updated_by?: string;
}

export interface SecretList {
  secrets: Secret[];
  applied_index: number;
}

/** PUT /api/v1/secrets/{name}: the only request that carries a value. */
export interface PutSecretRequest {
  value: string;
  allowed_workflows?: string[];
}

/** POST /api/v1/secrets/{name}/oauth-connect. */
export interface OAuthConnectRequest {
  auth_url: string;
  token_url: string;
  client_id: string;
  client_secret_from?: string;
  scopes?: string[];
  allowed_workflows?: string[];
}

export interface OAuthConnectResponse {
  consent_url: string;
  redirect_url: string;
  expires_at: string;
}

const path = (name: string) => `${apiBase}/secrets/${encodeURIComponent(name)}`;

export const secretsApi = {
  list: (c: Client, signal?: AbortSignal) => c.request<SecretList>(`${apiBase}/secrets`, { signal }),
  set: (c: Client, name: string, req: PutSecretRequest) => c.request<Secret>(path(name), { method: 'PUT', body: req }),
  remove: (c: Client, name: string) => c.request<void>(path(name), { method: 'DELETE' }),
  connect: (c: Client, name: string, req: OAuthConnectRequest) =>
    c.request<OAuthConnectResponse>(`${path(name)}/oauth-connect`, { method: 'POST', body: req }),
};
