// The event stream drives the live sources: GET /api/v1/events over a
// WebSocket tells the page what changed, so a job's state and graph move
// the moment a node applies the change, and the sources' polling drops
// to a slow safety net. Every frame carries a resume index; after a
// dropped connection the stream reconnects with ?since= and misses
// nothing. A "reload" answer (the node no longer holds what we missed)
// refreshes every source; while the stream is down, sources poll.

import type { EventFrame, Job, QueueCounts, QueueStats, StreamEvent } from '../api/types';
import { realTimers, type Timers } from './store';

/** What the stream needs of the live sources; LiveRegistry has it. */
export interface Sources {
  setStreaming(live: boolean): void;
  nudge(prefix: string): void;
  patch<T>(key: string, fn: (data: T) => T): boolean;
  /** Refreshes every active source whose key starts with prefix. */
  invalidate(prefix: string): void;
}

/** The part of the browser's WebSocket the stream uses. */
export interface Socket {
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => Socket;

/** Delays before reconnecting after a failure: quick at first, then calm. */
export const reconnectDelaysMs = [500, 1000, 2000, 5000, 10_000, 15_000];

export type StreamState = 'connecting' | 'live' | 'polling';

export class EventStream {
  private socket: Socket | undefined;
  private resume: number | undefined;
  private failures = 0;
  private timer: unknown = undefined;
  private stopped = true;
  private state: StreamState = 'polling';
  private readonly listeners = new Set<(s: StreamState) => void>();

  constructor(
    private readonly sources: Sources,
    private readonly url: string,
    private readonly open: SocketFactory,
    private readonly timers: Timers = realTimers,
  ) {}

  /** The resume index of the last frame, if any. */
  get since(): number | undefined {
    return this.resume;
  }

  get status(): StreamState {
    return this.state;
  }

  onStatus(fn: (s: StreamState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    const s = this.socket;
    this.socket = undefined;
    s?.close(1000, 'page closed');
    this.setState('polling');
  }

  /**
   * retryNow connects at once if the stream is down, without waiting out
   * the back-off: after a sign-in, the refusals before it say nothing
   * about the next try.
   */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    this.failures = 0;
    this.connect();
  }

  private connect(): void {
    this.clearTimer();
    const url = this.resume === undefined ? this.url : `${this.url}?since=${this.resume}`;
    this.setState('connecting');
    let s: Socket;
    try {
      s = this.open(url);
    } catch {
      this.failed();
      return;
    }
    this.socket = s;
    s.onmessage = (ev) => {
      if (this.socket !== s) return;
      const frame = parseFrame(ev.data);
      if (frame) this.frame(frame);
    };
    s.onerror = () => {
      // onclose follows and decides.
    };
    s.onclose = () => {
      if (this.socket !== s) return; // we closed it ourselves
      this.socket = undefined;
      this.failed();
    };
  }

  private frame(f: EventFrame): void {
    switch (f.type) {
      case 'hello':
        this.failures = 0;
        this.resume = f.resume;
        this.setState('live');
        // What changed while we were away is not all in events (robots,
        // the leader): refresh what shows it.
        this.sources.nudge('robots');
        this.sources.nudge('cluster');
        if (f.queue) this.queueCounts(f.queue);
        return;
      case 'events':
        this.resume = f.resume;
        this.events(f.events ?? []);
        if (f.queue) this.queueCounts(f.queue);
        return;
      case 'reload':
        // The node no longer holds what we missed: read everything
        // again and follow the stream from now on.
        this.resume = undefined;
        this.sources.invalidate('');
        this.reconnectAfterAnswer();
        return;
      case 'dropped':
        // We fell behind; the node says where to go on from.
        this.resume = f.resume;
        this.reconnectAfterAnswer();
        return;
    }
  }

  /** The node ends the stream after a reload or dropped frame; go on at once. */
  private reconnectAfterAnswer(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.close(1000, 'reconnecting');
    if (!this.stopped) this.connect();
  }

  private failed(): void {
    if (this.stopped) return;
    this.setState('polling');
    const delay = reconnectDelaysMs[Math.min(this.failures, reconnectDelaysMs.length - 1)];
    this.failures++;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private events(evs: StreamEvent[]): void {
    let jobs = false;
    for (const e of evs) {
      switch (e.type) {
        case 'job':
          jobs = true;
          if (e.job_id) this.sources.patch<Job>(`jobs:one:${e.job_id}`, (j) => jobFromEvent(j, e));
          if (e.job_id) this.sources.nudge(`jobs:one:${e.job_id}`);
          break;
        case 'progress':
          if (e.job_id) this.sources.patch<Job>(`jobs:one:${e.job_id}`, (j) => jobFromEvent(j, e));
          break;
        case 'robot':
          this.sources.nudge('robots');
          this.sources.nudge('cluster'); // a robot's node joined, left or went suspect in gossip
          break;
        case 'drain':
          this.sources.nudge('robots');
          break;
        case 'leader':
          this.sources.nudge('cluster');
          break;
        case 'schedule_fire':
          this.sources.nudge('schedules:');
          break;
      }
    }
    if (jobs) {
      this.sources.nudge('jobs:list');
      this.sources.nudge('queue');
      this.sources.nudge('robots'); // running jobs per robot
      this.sources.nudge('stats:throughput'); // the overview's charts
    }
  }

  private queueCounts(q: QueueCounts): void {
    this.sources.patch<QueueStats>('queue', (s) => ({ ...s, by_state: { ...s.by_state, ...q } }));
  }

  private setState(s: StreamState): void {
    this.sources.setStreaming(s === 'live');
    if (s === this.state) return;
    this.state = s;
    for (const l of [...this.listeners]) l(s);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/** jobFromEvent applies a job or progress event to a job's data. */
export function jobFromEvent(j: Job, e: StreamEvent): Job {
  if (e.job_id !== j.id) return j;
  if (e.type === 'progress' && e.node_status) {
    return { ...j, node_status: { ...(j.node_status ?? {}), ...e.node_status } };
  }
  if (e.type === 'job' && e.to) {
    return {
      ...j,
      state: e.to,
      attempt: e.attempt ?? j.attempt,
      robot_id: e.robot_id ?? j.robot_id,
      error: e.error ?? j.error,
      updated_at: e.time ?? j.updated_at,
    };
  }
  return j;
}

function parseFrame(data: unknown): EventFrame | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const f = JSON.parse(data) as EventFrame;
    return typeof f?.type === 'string' ? f : undefined;
  } catch {
    return undefined;
  }
}

/** The stream's URL on the node that served the page. */
export function eventsURL(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/api/v1/events`;
}
