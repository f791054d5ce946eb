// Parsing of form input into API requests: pure, so it is unit tested.

import type { ExecutionMode, JobRequest, ScheduleRequest } from '../api/types';

export interface RunFormValues {
  params: string;
  priority: string;
  mode: ExecutionMode;
  robotTags: string;
  uniqueKey: string;
  maxAttempts: string;
  /** datetime-local values, in the browser's time zone. */
  notBefore: string;
  deadline: string;
}

export const emptyRunForm: RunFormValues = {
  params: '{}', priority: '5', mode: 'any', robotTags: '', uniqueKey: '', maxAttempts: '', notBefore: '', deadline: '',
};

/** Problems by field name; empty when the form is valid. */
export type FieldErrors = Partial<Record<string, string>>;

export function parseParams(text: string): { value?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return { value: {} };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { error: `is not JSON: ${(err as Error).message}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'must be a JSON object like {"name": "value"}' };
  return { value: v as Record<string, unknown> };
}

export function parseTags(text: string): string[] {
  return text.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function intIn(text: string, lo: number, hi: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n >= lo && n <= hi ? n : undefined;
}

/** localToRFC3339 turns a datetime-local value into an RFC 3339 time; undefined if empty or invalid. */
export function localToRFC3339(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export function runRequest(workflowId: string, f: RunFormValues): { req?: JobRequest; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const params = parseParams(f.params);
  if (params.error) errors.params = `Parameters ${params.error}`;
  const priority = intIn(f.priority, 0, 9);
  if (priority === undefined) errors.priority = 'Priority must be a whole number from 0 to 9';
  let maxAttempts: number | undefined;
  if (f.maxAttempts.trim() !== '') {
    maxAttempts = intIn(f.maxAttempts, 1, 100);
    if (maxAttempts === undefined) errors.maxAttempts = 'Max attempts must be a whole number from 1 to 100';
  }
  const notBefore = localToRFC3339(f.notBefore);
  const deadline = localToRFC3339(f.deadline);
  if (notBefore && deadline && deadline <= notBefore) errors.deadline = 'The deadline must be after "not before"';
  if (Object.keys(errors).length > 0) return { errors };
  const req: JobRequest = { workflow_id: workflowId, params: params.value, priority, execution_mode: f.mode };
  const tags = parseTags(f.robotTags);
  if (tags.length > 0) req.robot_tags = tags;
  if (f.uniqueKey.trim()) req.unique_key = f.uniqueKey.trim();
  if (maxAttempts !== undefined) req.max_attempts = maxAttempts;
  if (notBefore) req.not_before = notBefore;
  if (deadline) req.deadline = deadline;
  return { req, errors };
}

export interface ScheduleFormValues {
  workflowId: string;
  cron: string;
  timezone: string;
  misfire: 'run_all' | 'run_once' | 'skip';
  overlap: 'allow' | 'forbid';
  priority: string;
  mode: ExecutionMode;
  params: string;
  enabled: boolean;
}

export const emptyScheduleForm: ScheduleFormValues = {
  workflowId: '', cron: '*/5 * * * *', timezone: 'UTC', misfire: 'run_all', overlap: 'allow', priority: '5', mode: 'any', params: '{}', enabled: true,
};

const descriptors = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * cronProblem checks the shape of a cron expression as the user types
 * (robfig/cron's: 5 fields, 6 with leading seconds, or a descriptor).
 * The server's parser has the last word; this only catches the obvious.
 */
export function cronProblem(expr: string): string | undefined {
  const e = expr.trim();
  if (e === '') return 'Give a cron expression, like */5 * * * * or @every 10m';
  if (e.startsWith('@every')) {
    return /^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(e) ? undefined : 'Write @every with a Go duration, like @every 90s or @every 1h30m';
  }
  if (e.startsWith('@')) return descriptors.includes(e) ? undefined : `Unknown descriptor; use one of ${descriptors.join(', ')} or @every`;
  const fields = e.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `Has ${fields.length} fields; cron needs 5 (minute hour day month weekday) or 6 with leading seconds`;
  const bad = fields.find((f) => !/^[\d*?/,\-A-Za-z]+$/.test(f));
  return bad ? `Field "${bad}" has characters cron does not use` : undefined;
}

export function scheduleRequest(f: ScheduleFormValues): { req?: ScheduleRequest; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!f.workflowId) errors.workflowId = 'Choose a workflow';
  const cron = cronProblem(f.cron);
  if (cron) errors.cron = cron;
  if (!f.timezone.trim()) errors.timezone = 'Give a time zone, like UTC or Europe/Berlin';
  const params = parseParams(f.params);
  if (params.error) errors.params = `Parameters ${params.error}`;
  const priority = intIn(f.priority, 0, 9);
  if (priority === undefined) errors.priority = 'Priority must be a whole number from 0 to 9';
  if (Object.keys(errors).length > 0) return { errors };
  return {
    req: {
      workflow_id: f.workflowId, cron: f.cron.trim(), timezone: f.timezone.trim(), misfire: f.misfire, overlap: f.overlap,
      priority, execution_mode: f.mode, params: params.value, enabled: f.enabled,
    },
    errors,
  };
}

/** Form fields by the API field names a refusal may name in details.field. */
const scheduleFields: Record<string, string> = {
  workflow_id: 'workflowId', cron: 'cron', timezone: 'timezone', params: 'params', priority: 'priority',
};

/**
 * fieldOfRefusal maps an API refusal of a schedule to the form field it
 * names, so the message shows beside that field; undefined when it names
 * none the form has.
 */
export function scheduleFieldOfRefusal(details: Record<string, unknown> | undefined): string | undefined {
  const f = details?.field;
  return typeof f === 'string' ? scheduleFields[f] : undefined;
}
