import { describe, expect, it } from 'vitest';
import type { Job, QueueStats, Robot } from '../api/types';
import { alerts, nodeStates, priorityBars, robotStateCounts, stateCounts } from './derive';

function robot(id: string, state: Robot['state'], jobs: string[] = []): Robot {
  return { id, name: id, kind: 'lan', state, tags: [], capacity: 1, node: id, current_jobs: jobs, drained: false };
}

function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id, workflow_id: 'wf', workflow_version: 1, state: 'queued', priority: 0, execution_mode: 'any', attempt: 0,
    max_attempts: 3, robot_id: '', params: {}, late: false, created_at: '', updated_at: '', ...over,
  };
}

describe('counts', () => {
  it('robotStateCounts counts every state, zeros included', () => {
    expect(robotStateCounts([robot('a', 'alive'), robot('b', 'alive'), robot('c', 'suspect')]))
      .toEqual({ alive: 2, suspect: 1, disconnected: 0, dead: 0, left: 0 });
  });
  it('stateCounts lists states in lifecycle order', () => {
    const q = { by_state: { queued: 4, running: 1, succeeded: 9, failed: 0, cancelled: 0, dead: 2 } } as QueueStats;
    expect(stateCounts(q).map((s) => `${s.state}=${s.count}`).join(' '))
      .toBe('queued=4 running=1 succeeded=9 failed=0 cancelled=0 dead=2');
    expect(stateCounts(undefined).every((s) => s.count === 0)).toBe(true);
  });
  it('priorityBars runs from 9 to 0, scaled to the largest', () => {
    const bars = priorityBars({ queued_by_priority: { '9': 2, '0': 4 } } as unknown as QueueStats);
    expect(bars.map((b) => b.priority)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(bars[0]).toEqual({ priority: 9, count: 2, share: 0.5 });
    expect(bars[9]).toEqual({ priority: 0, count: 4, share: 1 });
  });
});

describe('alerts', () => {
  it('lists no leader, dead jobs, late jobs and suspect robots, worst first', () => {
    const got = alerts({
      leaderKnown: false,
      serversDown: ['n2'],
      dead: [job('d1', { state: 'dead', error: 'robot crashed twice' })],
      active: [job('late1', { late: true, state: 'running' }), job('ontime')],
      robots: [robot('r1', 'suspect', ['j1']), robot('r2', 'alive')],
      queue: { paused: true } as QueueStats,
    });
    expect(got.map((a) => a.kind)).toEqual(['no-leader', 'server-down', 'dead', 'late', 'suspect', 'paused']);
    expect(got[2]).toMatchObject({ href: '/jobs/d1', detail: 'robot crashed twice' });
    expect(got[3].href).toBe('/jobs/late1');
  });
  it('is empty for a healthy cluster', () => {
    expect(alerts({ leaderKnown: true, serversDown: [], dead: [], active: [job('a')], robots: [robot('r', 'alive')] })).toEqual([]);
  });
});

describe('nodeStates', () => {
  const ids = ['start', 'fetch', 'save', 'end', 'on_error'];
  it('shows a running job: done from the checkpoint, running and pending', () => {
    expect(nodeStates(ids, { state: 'running', checkpoint: { completed: ['start'] }, node_status: { fetch: 'running' } }))
      .toEqual({ start: 'done', fetch: 'running', save: 'pending', end: 'pending', on_error: 'pending' });
  });
  it('marks nodes a finished job never reached as skipped', () => {
    expect(nodeStates(ids, { state: 'succeeded', node_status: { start: 'succeeded', fetch: 'succeeded', save: 'succeeded', end: 'succeeded' } }))
      .toEqual({ start: 'done', fetch: 'done', save: 'done', end: 'done', on_error: 'skipped' });
  });
  it('shows the failed node of a failed job', () => {
    expect(nodeStates(ids, { state: 'failed', checkpoint: { completed: ['start'] }, node_status: { fetch: 'failed' } }))
      .toMatchObject({ start: 'done', fetch: 'failed', save: 'skipped' });
  });
  it('shows the node a loop is running again as running, not as done from its first pass', () => {
    expect(nodeStates(['loop', 'work'], { state: 'running', checkpoint: { completed: ['loop', 'work'], next: 'work' }, node_status: { loop: 'succeeded', work: 'succeeded' } }))
      .toEqual({ loop: 'done', work: 'running' });
  });
  it('trusts a running status over a checkpoint that lags behind it', () => {
    expect(nodeStates(['a', 'b'], { state: 'running', checkpoint: { completed: ['a'], next: 'b' }, node_status: { a: 'running', b: 'succeeded' } }))
      .toEqual({ a: 'running', b: 'done' });
  });
  it('marks the node a failed run stopped at as failed, though the engine finished it', () => {
    // A fail node finishes, then fails the run: its status says succeeded.
    const job = { state: 'failed' as const, error: 'node reject: list too short', checkpoint: { completed: ['start'], next: 'reject' }, node_status: { start: 'succeeded', reject: 'succeeded' } };
    expect(nodeStates(['start', 'reject', 'sync'], job)).toEqual({ start: 'done', reject: 'failed', sync: 'skipped' });
    expect(nodeStates(['start', 'reject'], { ...job, error: 'lease expired' })).toEqual({ start: 'done', reject: 'failed' });
  });
  it('a node still running when its job was cancelled is skipped, when it died it failed', () => {
    expect(nodeStates(['a'], { state: 'cancelled', node_status: { a: 'running' } })).toEqual({ a: 'skipped' });
    expect(nodeStates(['a'], { state: 'dead', node_status: { a: 'running' } })).toEqual({ a: 'failed' });
    expect(nodeStates(['a'], { state: 'running', node_status: { a: 'retrying' } })).toEqual({ a: 'retrying' });
  });
});
