import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventStream, eventsURL, jobFromEvent, reconnectDelaysMs, type Socket } from './events';
import { LiveRegistry, streamingPollMs, type Timers } from './store';
import type { EventFrame, Job, QueueStats } from '../api/types';

const timers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A socket the test plays the node's side of. */
class FakeSocket implements Socket {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
  send(f: EventFrame): void {
    this.onmessage?.({ data: JSON.stringify(f) } as MessageEvent);
  }
  drop(): void {
    this.onerror?.({} as Event);
    this.onclose?.({ code: 1006, reason: '' } as CloseEvent);
  }
}

function setup() {
  const live = new LiveRegistry(timers);
  const sockets: FakeSocket[] = [];
  const stream = new EventStream(live, 'ws://n1/api/v1/events', (url) => {
    const s = new FakeSocket(url);
    sockets.push(s);
    return s;
  }, timers);
  return { live, sockets, stream, last: () => sockets[sockets.length - 1] };
}

const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1', workflow_id: 'w1', workflow_version: 1, state: 'queued', priority: 0, execution_mode: 'any',
  attempt: 0, max_attempts: 3, robot_id: '', params: {}, late: false, created_at: '', updated_at: '', ...over,
});

describe('EventStream', () => {
  it('connects at once when asked to, however long its back-off has grown', () => {
    const { sockets, stream, last } = setup();
    stream.start();
    for (let i = 0; i < 4; i++) {
      last().drop();
      vi.advanceTimersByTime(reconnectDelaysMs[i]);
    }
    last().drop();
    const before = sockets.length;
    stream.retryNow();
    expect(sockets.length).toBe(before + 1);
    last().send({ type: 'hello', resume: 3 });
    expect(stream.status).toBe('live');
    stream.retryNow(); // live: nothing to do
    expect(sockets.length).toBe(before + 1);
    stream.stop();
  });

  it('resumes after a lost connection with since= the last frame it got, polling meanwhile', async () => {
    const { live, sockets, stream, last } = setup();
    stream.start();
    expect(last().url).toBe('ws://n1/api/v1/events');
    last().send({ type: 'hello', resume: 10 });
    expect(stream.status).toBe('live');
    expect(live.streaming()).toBe(true);
    last().send({ type: 'events', resume: 14, events: [{ index: 14, type: 'job', job_id: 'j1', to: 'running' }] });

    last().drop();
    expect(stream.status).toBe('polling');
    expect(live.streaming()).toBe(false); // sources fall back to their own interval
    await vi.advanceTimersByTimeAsync(reconnectDelaysMs[0]);
    expect(sockets).toHaveLength(2);
    expect(last().url).toBe('ws://n1/api/v1/events?since=14');
    last().send({ type: 'hello', resume: 14 });
    expect(stream.status).toBe('live');
  });

  it('backs off while the node refuses, and starts over quickly once it answers', async () => {
    const { sockets, stream, last } = setup();
    stream.start();
    last().drop();
    await vi.advanceTimersByTimeAsync(reconnectDelaysMs[0]);
    last().drop();
    await vi.advanceTimersByTimeAsync(reconnectDelaysMs[1] - 1);
    expect(sockets).toHaveLength(2); // still waiting out the second delay
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    last().send({ type: 'hello', resume: 3 });
    last().drop();
    await vi.advanceTimersByTimeAsync(reconnectDelaysMs[0]);
    expect(sockets).toHaveLength(4);
  });

  it('on a reload answer refreshes every source and follows the stream from now on', async () => {
    const { live, stream, last } = setup();
    let loads = 0;
    const src = live.source('jobs:list:::', async () => ++loads, 1500);
    src.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(loads).toBe(1);
    stream.start();
    last().send({ type: 'hello', resume: 5 });
    last().drop();
    await vi.advanceTimersByTimeAsync(reconnectDelaysMs[0]);
    expect(last().url).toContain('since=5');
    const old = last();
    old.send({ type: 'reload', resume: 900, message: 'index 5 is older than the oldest event' });
    await vi.advanceTimersByTimeAsync(0);
    expect(loads).toBe(2);
    expect(old.closed).toBe(true);
    expect(last()).not.toBe(old);
    expect(last().url).toBe('ws://n1/api/v1/events'); // no since: start from now
  });

  it('reconnects at once with the resume index of a dropped answer', () => {
    const { stream, last, sockets } = setup();
    stream.start();
    last().send({ type: 'hello', resume: 1 });
    last().send({ type: 'dropped', resume: 77, message: 'fell behind' });
    expect(sockets).toHaveLength(2);
    expect(last().url).toBe('ws://n1/api/v1/events?since=77');
  });

  it('updates a job\'s state and graph from events without a request, and refreshes lists soon', async () => {
    const { live, stream, last } = setup();
    let detailLoads = 0;
    let listLoads = 0;
    const detail = live.source<Job>('jobs:one:j1', async () => { detailLoads++; return job(); }, 1500);
    const list = live.source('jobs:list:::', async () => ++listLoads, 1500);
    detail.subscribe(() => {});
    list.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    stream.start();
    last().send({ type: 'hello', resume: 1 });
    last().send({ type: 'events', resume: 3, events: [
      { index: 2, type: 'job', job_id: 'j1', from: 'queued', to: 'running', attempt: 1, robot_id: 'r1' },
      { index: 3, type: 'progress', job_id: 'j1', node_status: { start: 'done', fetch: 'running' } },
      { index: 3, type: 'job', job_id: 'other', to: 'queued' },
    ] });
    const j = detail.getSnapshot().data!;
    expect(j.state).toBe('running');
    expect(j.robot_id).toBe('r1');
    expect(j.node_status).toEqual({ start: 'done', fetch: 'running' });
    // Both refresh once the 500 ms gap since their last load has passed.
    await vi.advanceTimersByTimeAsync(500);
    expect(detailLoads).toBe(2);
    expect(listLoads).toBe(2);
    // While live, polling is only a safety net.
    await vi.advanceTimersByTimeAsync(streamingPollMs - 1);
    expect(listLoads).toBe(2);
  });

  it('keeps the queue counts of the last frame', async () => {
    const { live, stream, last } = setup();
    const q = live.source<QueueStats>('queue', async () => ({
      paused: false, paused_workflows: [], by_state: { queued: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0, dead: 0 },
      queued_by_priority: {}, oldest_queued_age_seconds: 0, finished_last_minute: 0, applied_index: 1,
    }), 1500);
    q.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    stream.start();
    last().send({ type: 'events', resume: 9, events: [], queue: { queued: 0, running: 1, succeeded: 4, failed: 0, cancelled: 0, dead: 0 } });
    expect(q.getSnapshot().data!.by_state.succeeded).toBe(4);
  });
});

describe('jobFromEvent', () => {
  it('merges node status and ignores other jobs\' events', () => {
    const j = job({ node_status: { start: 'done' } });
    expect(jobFromEvent(j, { index: 1, type: 'progress', job_id: 'j1', node_status: { b: 'failed' } }).node_status)
      .toEqual({ start: 'done', b: 'failed' });
    expect(jobFromEvent(j, { index: 1, type: 'job', job_id: 'j2', to: 'dead' })).toBe(j);
  });
});

describe('eventsURL', () => {
  it('follows the page\'s scheme and host', () => {
    expect(eventsURL({ protocol: 'https:', host: 'n1:8443' })).toBe('wss://n1:8443/api/v1/events');
    expect(eventsURL({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/api/v1/events');
  });
});
