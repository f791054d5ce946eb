// What the overview derives from the API's lists: counts and alerts.

import type { Job, JobState, QueueStats, Robot, RobotState } from '../api/types';
import { jobStates } from '../api/types';
import { formatTime } from './format';

export type AlertKind = 'late' | 'dead' | 'suspect' | 'paused' | 'no-leader' | 'server-down';

export interface Alert {
  kind: AlertKind;
  /** Where the alert links to. */
  href: string;
  title: string;
  detail: string;
}

/** robotStateCounts counts robots by state; every state appears, zeros included. */
export function robotStateCounts(robots: Robot[]): Record<RobotState, number> {
  const out: Record<RobotState, number> = { alive: 0, suspect: 0, disconnected: 0, dead: 0, left: 0 };
  for (const r of robots) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

/** stateCounts lists the queue's counts in the order a job moves through them. */
export function stateCounts(q: QueueStats | undefined): { state: JobState; count: number }[] {
  return jobStates.map((state) => ({ state, count: q?.by_state?.[state] ?? 0 }));
}

/** priorityBars lists queued jobs by priority 9..0 with their share of the largest. */
export function priorityBars(q: QueueStats | undefined): { priority: number; count: number; share: number }[] {
  const counts = Array.from({ length: 10 }, (_, i) => q?.queued_by_priority?.[String(9 - i)] ?? 0);
  const top = Math.max(1, ...counts);
  return counts.map((count, i) => ({ priority: 9 - i, count, share: count / top }));
}

export interface AlertInputs {
  /** Unfinished jobs (queued and running), whose `late` flag the API sets. */
  active: Job[];
  /** Jobs in state dead. */
  dead: Job[];
  robots: Robot[];
  queue?: QueueStats;
  leaderKnown: boolean;
  serversDown: string[];
}

/** alerts lists what needs a person's attention, worst first. */
export function alerts(inp: AlertInputs): Alert[] {
  const out: Alert[] = [];
  if (!inp.leaderKnown) {
    out.push({ kind: 'no-leader', href: '/cluster', title: 'No leader', detail: 'The cluster cannot accept writes until a leader is elected.' });
  }
  for (const name of inp.serversDown) {
    out.push({ kind: 'server-down', href: '/cluster', title: `Server ${name} is down`, detail: 'Gossip does not see it alive.' });
  }
  for (const j of inp.dead) {
    out.push({ kind: 'dead', href: `/jobs/${j.id}`, title: `Job ${j.id} is dead`, detail: j.error || `Gave up after ${j.attempt} attempts.` });
  }
  for (const j of inp.active.filter((j) => j.late)) {
    out.push({ kind: 'late', href: `/jobs/${j.id}`, title: `Job ${j.id} is late`, detail: `Its deadline (${formatTime(j.deadline)}) passed while it was ${j.state}.` });
  }
  for (const r of inp.robots.filter((r) => r.state === 'suspect')) {
    out.push({ kind: 'suspect', href: '/robots', title: `Robot ${r.name} is suspect`, detail: r.current_jobs.length > 0 ? `Holds ${r.current_jobs.length} job(s) without heartbeating.` : `Its node ${r.node} is not seen alive.` });
  }
  if (inp.queue?.paused) {
    out.push({ kind: 'paused', href: '/jobs', title: 'The queue is paused', detail: 'Queued jobs stay queued until it is resumed (casare queue resume).' });
  }
  return out;
}

/** Node states a workflow graph shows. */
export type NodeRunState = 'pending' | 'running' | 'done' | 'failed' | 'retrying' | 'skipped';

/**
 * nodeStates says what each node of the job's workflow did. Sources, in
 * order of trust: the node a failed run stopped at (named by the
 * engine's error "node ID: …", else the checkpoint's next node); the
 * robot's per-node status of the current attempt; the checkpoint's next
 * node, which an unfinished run is running unless a status names
 * another; the checkpoint's completed
 * list (which survives a resume on another robot). Nodes of a finished
 * job that none of these name were skipped.
 */
export function nodeStates(nodeIds: string[], job: Pick<Job, 'state' | 'node_status' | 'checkpoint' | 'error'>): Record<string, NodeRunState> {
  const completed = new Set(job.checkpoint?.completed ?? []);
  const finished = ['succeeded', 'failed', 'cancelled', 'dead'].includes(job.state);
  const stoppedAt = job.state === 'failed' || job.state === 'dead'
    ? (/^node ([^\s:]+):/.exec(job.error ?? '')?.[1] ?? job.checkpoint?.next)
    : undefined;
  // The checkpoint may lag the robot's status; it names the running node
  // only when no status does.
  const statusRuns = Object.values(job.node_status ?? {}).some((st) => st === 'running' || st === 'retrying');
  const next = statusRuns ? undefined : job.checkpoint?.next;
  const out: Record<string, NodeRunState> = {};
  for (const id of nodeIds) {
    const status = job.node_status?.[id];
    if (id === stoppedAt || status === 'failed') out[id] = 'failed';
    else if (!finished && status === 'retrying') out[id] = 'retrying';
    else if (!finished && (status === 'running' || next === id)) out[id] = 'running';
    else if (status === 'succeeded' || completed.has(id)) out[id] = 'done';
    else if (status === 'running' || status === 'retrying') out[id] = interrupted(job.state);
    else out[id] = finished ? 'skipped' : 'pending';
  }
  return out;
}

/** What a node still marked running became when its job finished. */
function interrupted(state: Job['state']): NodeRunState {
  if (state === 'succeeded') return 'done';
  if (state === 'cancelled') return 'skipped';
  return 'failed';
}
