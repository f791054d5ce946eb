// The debugger of a real run on a robot, as the designer drives it: a
// job queued with breakpoints stops on its robot; the page reads the stop
// from GET /jobs/{id}/debug and sends continue, step or step_into.

import { apiBase, type Client } from '../api/client';

export type DebugAction = 'continue' | 'step' | 'step_into';

export interface DebugStop {
  stop: number;
  node: string;
  reason: string;
  variables: Record<string, unknown>;
  call_stack: { workflow: string; node_id: string }[];
  since: string;
  watches?: WatchResult[];
}

/** WatchResult is a watch expression's value at a stop, evaluated by the server over the redacted variables. */
export interface WatchResult {
  expression: string;
  value?: unknown;
  error?: string;
}

export interface DebugState {
  job_id: string;
  job_state: string;
  robot_id?: string;
  breakpoints: string[];
  pause_timeout: string;
  paused?: DebugStop;
  last_command?: { seq: number; stop: number; action: string };
  detached?: string;
}

export const debugActions: Record<DebugAction, { label: string; key: string }> = {
  continue: { label: 'Continue', key: 'F5' },
  step: { label: 'Step over', key: 'F10' },
  step_into: { label: 'Step into', key: 'F11' },
};

/** toggleBreakpoint adds id to the breakpoints, or removes it. */
export function toggleBreakpoint(bps: string[], id: string): string[] {
  return bps.includes(id) ? bps.filter((b) => b !== id) : [...bps, id];
}

/** debugKey maps a key press to a debugger command; Ctrl+F5 stays Run on Robot. */
export function debugKey(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey?: boolean }): 'toggle' | DebugAction | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  switch (e.key) {
    case 'F9': return 'toggle';
    case 'F5': return 'continue';
    case 'F10': return 'step';
    case 'F11': return 'step_into';
  }
  return undefined;
}

/** canCommand: the run waits at a stop that no command has answered yet. */
export function canCommand(s?: DebugState): boolean {
  return !!s?.paused && s.job_state === 'running' && s.last_command?.stop !== s.paused.stop;
}

/** pausedNode is the canvas node of the stop: a stop inside a subworkflow ("call/inner") shows on its call node. */
export function pausedNode(s?: DebugState): string | undefined {
  return s?.paused?.node.split('/')[0];
}

/** showValue renders a variable for the variables panel. */
export function showValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The server's bounds on watch expressions (api/debug_watch.go). */
export const maxWatches = 32;
export const maxWatchLength = 1024;

/** addWatch adds an expression to the watches, or says why it cannot. */
export function addWatch(watches: string[], expression: string): { watches: string[]; error?: string } {
  const e = expression.trim();
  if (!e) return { watches, error: 'Type an expression to watch.' };
  if (new TextEncoder().encode(e).length > maxWatchLength) return { watches, error: `A watch is at most ${maxWatchLength} bytes.` };
  if (watches.includes(e)) return { watches, error: `${e} is already watched.` };
  if (watches.length >= maxWatches) return { watches, error: `At most ${maxWatches} watches.` };
  return { watches: [...watches, e] };
}

/** removeWatch drops an expression from the watches. */
export function removeWatch(watches: string[], expression: string): string[] {
  return watches.filter((w) => w !== expression);
}

/** watchRows pairs each watch with its result at the stop, if the stop has one for it yet. */
export function watchRows(watches: string[], stop?: DebugStop): { expression: string; text: string; error: boolean; title?: string }[] {
  return watches.map((expression) => {
    const r = stop?.watches?.find((w) => w.expression === expression);
    if (!stop) return { expression, text: '', error: false };
    if (!r) return { expression, text: '…', error: false };
    // Nodes send one short line (api/debug_watch.go evalWatch); an older
    // node sends the evaluator's message, which quotes the expression
    // over several lines after a first line that says what is wrong.
    if (r.error) return { expression, text: r.error.split('\n')[0], error: true, title: r.error };
    return { expression, text: showValue(r.value ?? null), error: false };
  });
}

/** debugPath is the debug session's URL, asking for the watches' values. */
export function debugPath(jobId: string, watches: string[] = []): string {
  const q = new URLSearchParams();
  for (const w of watches) q.append('watch', w);
  const qs = q.toString();
  return `${apiBase}/jobs/${encodeURIComponent(jobId)}/debug${qs ? `?${qs}` : ''}`;
}

export function getDebug(c: Client, jobId: string, watches: string[], signal?: AbortSignal): Promise<DebugState> {
  return c.request(debugPath(jobId, watches), { signal });
}

export function sendDebug(c: Client, jobId: string, action: DebugAction): Promise<DebugState> {
  return c.request(`${apiBase}/jobs/${encodeURIComponent(jobId)}/debug`, { method: 'POST', body: { action } });
}
