// Live data for the views. A LiveSource is what a view subscribes to;
// today each one polls the REST API, and the event stream of the
// dashboard issue can later feed the same sources (set() from events,
// refresh() after a "reload" answer) without a view changing.

/** What a view sees of one source. `data` stays while a later poll fails. */
export interface Snapshot<T> {
  data?: T;
  error?: Error;
  /** True until the first load has finished, with data or an error. */
  loading: boolean;
  /** When data last arrived (ms since the epoch). */
  updatedAt?: number;
}

export interface LiveSource<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): Snapshot<T>;
  /** Loads now; resolves when the load is done (it never rejects). */
  refresh(): Promise<void>;
  /** Replaces the data, as an event that carries the new state would. */
  set(data: T): void;
}

export type Loader<T> = (signal: AbortSignal) => Promise<T>;

/** Timers are injectable so tests drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * PollingStore loads while anyone subscribes: at once on the first
 * subscriber, then intervalMs after each load finishes (so a slow node
 * is never asked twice at a time), and stops when the last one leaves.
 */
export class PollingStore<T> implements LiveSource<T> {
  private snapshot: Snapshot<T> = { loading: true };
  private readonly listeners = new Set<() => void>();
  private timer: unknown = undefined;
  private inflight: AbortController | undefined;
  /** Counts loads so that an older answer never replaces a newer one. */
  private seq = 0;
  private applied = 0;

  constructor(
    private readonly load: Loader<T>,
    readonly intervalMs: number,
    private readonly timers: Timers = realTimers,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) void this.refresh();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  };

  getSnapshot = (): Snapshot<T> => this.snapshot;

  get active(): boolean {
    return this.listeners.size > 0;
  }

  refresh = async (): Promise<void> => {
    this.clearTimer();
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    const seq = ++this.seq;
    try {
      const data = await this.load(ctl.signal);
      if (seq > this.applied) {
        this.applied = seq;
        this.update({ data, error: undefined, loading: false, updatedAt: this.timers.now() });
      }
    } catch (err) {
      if (ctl.signal.aborted) return; // superseded or stopped: a newer load reports
      if (seq > this.applied) {
        this.applied = seq;
        this.update({ ...this.snapshot, error: asError(err), loading: false });
      }
    }
    if (this.inflight === ctl) this.inflight = undefined;
    this.schedule();
  };

  set = (data: T): void => {
    this.applied = this.seq;
    this.update({ data, error: undefined, loading: false, updatedAt: this.timers.now() });
  };

  private schedule(): void {
    if (!this.active || this.inflight || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, this.intervalMs);
  }

  private stop(): void {
    this.clearTimer();
    this.inflight?.abort();
    this.inflight = undefined;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private update(next: Snapshot<T>): void {
    this.snapshot = next;
    for (const l of [...this.listeners]) l();
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * LiveRegistry shares one source per key, so two panels showing the
 * robots make one request, and keeps the last sources it made so that
 * going back to a view shows its data at once while it refreshes.
 */
export class LiveRegistry {
  private readonly sources = new Map<string, PollingStore<unknown>>();

  constructor(
    private readonly timers: Timers = realTimers,
    /** How many idle sources to keep; each holds one answer. */
    private readonly keepIdle = 40,
  ) {}

  source<T>(key: string, load: Loader<T>, intervalMs: number): PollingStore<T> {
    let s = this.sources.get(key) as PollingStore<T> | undefined;
    if (!s) {
      s = new PollingStore<T>(load, intervalMs, this.timers);
      this.sources.set(key, s as PollingStore<unknown>);
      this.evictIdle();
    }
    return s;
  }

  /** Refreshes every source whose key starts with prefix (after a write). */
  invalidate(prefix: string): void {
    for (const [key, s] of this.sources) {
      if (key.startsWith(prefix) && s.active) void s.refresh();
    }
  }

  get size(): number {
    return this.sources.size;
  }

  private evictIdle(): void {
    const idle = [...this.sources].filter(([, s]) => !s.active);
    for (const [key] of idle.slice(0, Math.max(0, idle.length - this.keepIdle))) {
      this.sources.delete(key);
    }
  }
}
