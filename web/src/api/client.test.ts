import { describe, expect, it } from 'vitest';
import { ApiError, Client, errorBody, query } from './client';

/** A fetch that answers every request with one canned response and records it. */
function answering(status: number, body: string) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetchFn = async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init });
    return new Response(status === 204 ? null : body, { status, statusText: 'X' });
  };
  return { client: new Client(fetchFn as typeof fetch), calls };
}

describe('Client', () => {
  it('sends same-origin credentials and JSON bodies', async () => {
    const { client, calls } = answering(201, '{"id":"j1"}');
    const job = await client.submitJob({ workflow_id: 'wf', priority: 5 });
    expect(job).toEqual({ id: 'j1' });
    expect(calls[0].url).toBe('/api/v1/jobs');
    expect(calls[0].init?.credentials).toBe('same-origin');
    expect(calls[0].init?.method).toBe('POST');
    expect(calls[0].init?.body).toBe('{"workflow_id":"wf","priority":5}');
  });
  it('turns the error envelope into an ApiError', async () => {
    const { client } = answering(400, '{"error":{"code":"invalid","message":"cron is bad","details":{"field":"cron"}}}');
    const err = await client.createSchedule({ workflow_id: 'wf', cron: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid', message: 'cron is bad', details: { field: 'cron' } });
  });
  it('says the node is unreachable when fetch fails', async () => {
    const client = new Client((async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch);
    await expect(client.cluster()).rejects.toMatchObject({ status: 0, code: 'unreachable' });
  });
  it('escapes ids and builds queries from set values only', async () => {
    const { client, calls } = answering(200, '{}');
    await client.job('a/b');
    await client.jobs({ state: 'queued', workflow_id: '', cursor: 'c1', limit: 50 });
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/jobs/a%2Fb', '/api/v1/jobs?state=queued&cursor=c1&limit=50']);
  });
});

describe('helpers', () => {
  it('query leaves out empty values', () => {
    expect(query({ a: '', b: undefined, c: 0, d: 'x y' })).toBe('?c=0&d=x+y');
    expect(query({})).toBe('');
  });
  it('errorBody falls back to the status for a body that is not an envelope', () => {
    expect(errorBody({ status: 502, statusText: 'Bad Gateway' }, '<html>')).toEqual({ code: 'http_502', message: '502 Bad Gateway', details: {} });
  });
});
