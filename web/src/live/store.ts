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

/**
 * How fast sources poll. While the event stream is connected, events
 * say when to refresh and polling is only a slow safety net; when the
 * stream fails, sources fall back to their own interval.
 */
export interface Pace {
  streaming(): boolean;
}

/** The safety-net interval of a source while events drive its refreshes. */
export const streamingPollMs = 30_000;

/** A source refreshes at most this often however many events name it. */
export const minRefreshGapMs = 500;

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

  private lastLoadAt = -Infinity;
  private soon: unknown = undefined;

  constructor(
    private readonly load: Loader<T>,
    readonly intervalMs: number,
    private readonly timers: Timers = realTimers,
    private readonly pace?: Pace,
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
    this.clearSoon();
    this.lastLoadAt = this.timers.now();
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

  /**
   * Changes the data an event describes, without a request; a no-op
   * before the first load. A load in flight may still land with older
   * data: refreshSoon after a patch settles it.
   */
  patch = (fn: (data: T) => T): void => {
    if (this.snapshot.data === undefined) return;
    this.update({ ...this.snapshot, data: fn(this.snapshot.data), updatedAt: this.timers.now() });
  };

  /**
   * Refreshes because an event said the data changed: at once, or
   * minRefreshGapMs after the last load when that was recent, so a busy
   * cluster's events cost at most two requests a second per source.
   */
  refreshSoon = (): void => {
    if (!this.active || this.soon !== undefined) return;
    const wait = this.lastLoadAt + minRefreshGapMs - this.timers.now();
    if (wait <= 0 && !this.inflight) {
      void this.refresh();
      return;
    }
    this.soon = this.timers.setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, Math.max(wait, minRefreshGapMs / 5));
  };

  /** Re-arms the poll timer after the pace changed (stream up or down). */
  repace = (): void => {
    if (!this.active || this.inflight) return;
    this.clearTimer();
    this.schedule();
  };

  private get interval(): number {
    return this.pace?.streaming() ? Math.max(this.intervalMs, streamingPollMs) : this.intervalMs;
  }

  private schedule(): void {
    if (!this.active || this.inflight || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, this.interval);
  }

  private clearSoon(): void {
    if (this.soon !== undefined) {
      this.timers.clearTimeout(this.soon);
      this.soon = undefined;
    }
  }

  private stop(): void {
    this.clearTimer();
    this.clearSoon();
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
export class LiveRegistry implements Pace {
  private readonly sources = new Map<string, PollingStore<unknown>>();
  private live = false;

  constructor(
    private readonly timers: Timers = realTimers,
    /** How many idle sources to keep; each holds one answer. */
    private readonly keepIdle = 40,
  ) {}

  /** True while the event stream is connected and drives refreshes. */
  streaming(): boolean {
    return this.live;
  }

  /** Switches every source between event-driven and polling pace. */
  setStreaming(live: boolean): void {
    if (live === this.live) return;
    this.live = live;
    for (const s of this.sources.values()) s.repace();
  }

  /** Refreshes soon (throttled) every active source whose key starts with prefix. */
  nudge(prefix: string): void {
    for (const [key, s] of this.sources) {
      if (key.startsWith(prefix)) s.refreshSoon();
    }
  }

  /** Patches the data of the source named key, if it exists and has data. */
  patch<T>(key: string, fn: (data: T) => T): boolean {
    const s = this.sources.get(key) as PollingStore<T> | undefined;
    if (!s?.active) return false;
    s.patch(fn);
    return true;
  }

  source<T>(key: string, load: Loader<T>, intervalMs: number): PollingStore<T> {
    let s = this.sources.get(key) as PollingStore<T> | undefined;
    if (!s) {
      s = new PollingStore<T>(load, intervalMs, this.timers, this);
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
