import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveRegistry, PollingStore, type Timers } from './store';

const timers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A loader whose answers the test releases one by one. */
function controlled<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  const load = (signal: AbortSignal) => new Promise<T>((resolve, reject) => pending.push({ resolve, reject, signal }));
  return { load, pending };
}

describe('PollingStore', () => {
  it('loads on the first subscriber and again intervalMs after each answer', async () => {
    let n = 0;
    const store = new PollingStore(async () => ++n, 1000, timers);
    expect(store.getSnapshot()).toEqual({ loading: true });
    const unsub = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot().data).toBe(1);
    expect(store.getSnapshot().loading).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(store.getSnapshot().data).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.getSnapshot().data).toBe(2);
    unsub();
  });

  it('stops polling when the last subscriber leaves', async () => {
    let n = 0;
    const store = new PollingStore(async () => ++n, 1000, timers);
    const a = store.subscribe(() => {});
    const b = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(1); // the second subscriber does not load again
    a();
    await vi.advanceTimersByTimeAsync(1000);
    expect(n).toBe(2);
    b();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(n).toBe(2);
    expect(store.active).toBe(false);
  });

  it('keeps the last data when a poll fails, and clears the error on the next success', async () => {
    const c = controlled<string>();
    const store = new PollingStore(c.load, 1000, timers);
    store.subscribe(() => {});
    c.pending[0].resolve('first');
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    c.pending[1].reject(new Error('node down'));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot().data).toBe('first');
    expect(store.getSnapshot().error?.message).toBe('node down');
    await vi.advanceTimersByTimeAsync(1000);
    c.pending[2].resolve('second');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot()).toMatchObject({ data: 'second', error: undefined });
  });

  it('never lets an older answer replace a newer one', async () => {
    const c = controlled<string>();
    const store = new PollingStore(c.load, 1000, timers);
    store.subscribe(() => {});
    void store.refresh(); // supersedes the first load, which is aborted
    expect(c.pending[0].signal.aborted).toBe(true);
    c.pending[1].resolve('new');
    await vi.advanceTimersByTimeAsync(0);
    c.pending[0].resolve('old');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot().data).toBe('new');
  });

  it('does not ask a slow node twice at a time', async () => {
    const c = controlled<number>();
    const store = new PollingStore(c.load, 100, timers);
    store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.pending).toHaveLength(1);
  });

  it('set() replaces the data and notifies, as an event would', async () => {
    const store = new PollingStore(async () => 'polled', 1000, timers);
    const seen: (string | undefined)[] = [];
    store.subscribe(() => seen.push(store.getSnapshot().data));
    await vi.advanceTimersByTimeAsync(0);
    store.set('pushed');
    expect(seen).toEqual(['polled', 'pushed']);
  });
});

describe('LiveRegistry', () => {
  it('shares one source per key', () => {
    const reg = new LiveRegistry(timers);
    const load = async () => 1;
    expect(reg.source('a', load, 1000)).toBe(reg.source('a', load, 1000));
    expect(reg.source('b', load, 1000)).not.toBe(reg.source('a', load, 1000));
  });

  it('forgets the oldest idle sources beyond keepIdle', () => {
    const reg = new LiveRegistry(timers, 2);
    const load = async () => 1;
    const active = reg.source('active', load, 1000);
    active.subscribe(() => {});
    for (const k of ['a', 'b', 'c', 'd']) reg.source(k, load, 1000);
    expect(reg.size).toBe(3); // the active one and the two newest idle ones
    expect(reg.source('active', load, 1000)).toBe(active);
  });

  it('invalidate refreshes the active sources under a prefix only', async () => {
    const reg = new LiveRegistry(timers);
    const calls: string[] = [];
    const mk = (k: string) => reg.source(k, async () => calls.push(k), 60_000);
    mk('jobs:list').subscribe(() => {});
    mk('jobs:abc').subscribe(() => {});
    mk('robots').subscribe(() => {});
    mk('jobs:idle');
    await vi.advanceTimersByTimeAsync(0);
    calls.length = 0;
    reg.invalidate('jobs:');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.sort()).toEqual(['jobs:abc', 'jobs:list']);
  });
});

describe('LiveRegistry pace', () => {
  it('polls slowly while the event stream is live and at its own interval when it falls back', async () => {
    const live = new LiveRegistry(timers);
    let n = 0;
    const s = live.source('robots', async () => ++n, 1500);
    s.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    live.setStreaming(true);
    await vi.advanceTimersByTimeAsync(1500);
    expect(n).toBe(1); // events drive it now
    live.setStreaming(false);
    await vi.advanceTimersByTimeAsync(1500);
    expect(n).toBe(2);
  });

  it('refreshes a nudged source at most every 500 ms however many events name it', async () => {
    const live = new LiveRegistry(timers);
    let n = 0;
    const s = live.source('jobs:list:x', async () => ++n, 1500);
    s.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    live.setStreaming(true);
    for (let i = 0; i < 20; i++) {
      live.nudge('jobs:list');
      await vi.advanceTimersByTimeAsync(50);
    }
    // 1 s of nudges every 50 ms: the first load plus at most two more.
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(3);
  });
});
