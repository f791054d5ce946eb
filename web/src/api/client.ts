// The one place the app talks to the REST API. Every call goes through
// request(), which sends the browser's credentials for this origin (the
// HttpOnly session cookie that signing in sets; the page never holds a
// token) and turns the API's error envelope into an ApiError.

import type {
  Cluster, CreateWorkflowResponse, ErrorBody, Job, JobList, JobLogs, JobRequest, JobState,
  LeaveResponse, QueueStats, RemoveServerResponse, Throughput, Robot, RobotHandBack, RobotList, Schedule, ScheduleList, SchedulePreview, ScheduleRequest, TriggerScheduleResponse,
  Workflow, WorkflowList, WorkflowVersions, WhoAmI, SignInRequest,
} from './types';

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? {};
  }
}

/** The prefix of every REST v1 path. */
export const apiBase = '/api/v1';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Sent as JSON unless it is FormData. */
  body?: unknown;
  signal?: AbortSignal;
}

export type Fetcher = typeof fetch;

/** Client wraps fetch so tests can hand it a fetch of their own. */
export class Client {
  private readonly fetchFn: Fetcher;

  constructor(fetchFn: Fetcher = (input, init) => fetch(input, init)) {
    this.fetchFn = fetchFn;
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: BodyInit | undefined;
    if (opts.body instanceof FormData) {
      body = opts.body;
    } else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let resp: Response;
    try {
      resp = await this.fetchFn(path, {
        method: opts.method ?? 'GET', headers, body, signal: opts.signal, credentials: 'same-origin',
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, { code: 'unreachable', message: 'The node does not answer. Is it running?', details: {} });
    }
    if (resp.status === 204) return undefined as T;
    const text = await resp.text();
    const data = text === '' ? undefined : parseJSON(text);
    if (!resp.ok) throw new ApiError(resp.status, errorBody(resp, data));
    return data as T;
  }

  // Signing in. The answer to a sign-in sets the session cookie.
  whoami(): Promise<WhoAmI> { return this.request(`${apiBase}/auth/whoami`); }
  signIn(req: SignInRequest): Promise<WhoAmI> { return this.request(`${apiBase}/auth/signin`, { method: 'POST', body: req }); }
  signOut(): Promise<void> { return this.request(`${apiBase}/auth/signout`, { method: 'POST' }); }

  // Workflows.
  workflows(): Promise<WorkflowList> { return this.request(`${apiBase}/workflows`); }
  workflow(id: string): Promise<Workflow> { return this.request(`${apiBase}/workflows/${enc(id)}`); }
  workflowVersions(id: string): Promise<WorkflowVersions> {
    return this.request(`${apiBase}/workflows/${enc(id)}/versions`);
  }
  uploadWorkflow(form: FormData): Promise<CreateWorkflowResponse> {
    return this.request(`${apiBase}/workflows/upload`, { method: 'POST', body: form });
  }
  deleteWorkflow(id: string, force = false): Promise<void> {
    return this.request(`${apiBase}/workflows/${enc(id)}${force ? '?force=true' : ''}`, { method: 'DELETE' });
  }

  // Jobs.
  jobs(q: JobQuery = {}): Promise<JobList> { return this.request(`${apiBase}/jobs${query(q)}`); }
  job(id: string): Promise<Job> { return this.request(`${apiBase}/jobs/${enc(id)}`); }
  jobLogs(id: string, offset = 0): Promise<JobLogs> {
    return this.request(`${apiBase}/jobs/${enc(id)}/logs${query({ offset })}`);
  }
  submitJob(req: JobRequest): Promise<Job> { return this.request(`${apiBase}/jobs`, { method: 'POST', body: req }); }
  cancelJob(id: string, reason?: string): Promise<Job> {
    return this.request(`${apiBase}/jobs/${enc(id)}/cancel`, { method: 'POST', body: reason ? { reason } : {} });
  }
  rerunJob(id: string, latestVersion = false): Promise<Job> {
    return this.request(`${apiBase}/jobs/${enc(id)}/rerun`, { method: 'POST', body: { latest_version: latestVersion } });
  }

  // Queue, fleet and cluster.
  queue(): Promise<QueueStats> { return this.request(`${apiBase}/queue`); }
  robots(): Promise<RobotList> { return this.request(`${apiBase}/robots`); }
  drainRobot(id: string, drained: boolean): Promise<Robot> {
    return this.request(`${apiBase}/robots/${enc(id)}/${drained ? 'drain' : 'undrain'}`, { method: 'POST' });
  }
  handBackRobot(id: string): Promise<RobotHandBack> {
    return this.request(`${apiBase}/robots/${enc(id)}/handback`, { method: 'POST' });
  }
  cluster(): Promise<Cluster> { return this.request(`${apiBase}/cluster`); }
  /** removeServer takes a server out of the Raft configuration (admin). */
  removeServer(name: string): Promise<RemoveServerResponse> {
    return this.request(`${apiBase}/cluster/servers/${enc(name)}`, { method: 'DELETE' });
  }
  /** askLeave makes a running member leave the cluster gracefully and stop (admin). */
  askLeave(name: string): Promise<LeaveResponse> {
    return this.request(`${apiBase}/cluster/members/${enc(name)}/leave`, { method: 'POST' });
  }
  /** throughput is the last window (default 15m) of job rates and claim latency. */
  throughput(window = '15m'): Promise<Throughput> {
    return this.request(`${apiBase}/stats/throughput${query({ window })}`);
  }

  // Schedules.
  schedules(workflowId?: string): Promise<ScheduleList> {
    return this.request(`${apiBase}/schedules${query({ workflow_id: workflowId })}`);
  }
  schedule(id: string): Promise<Schedule> { return this.request(`${apiBase}/schedules/${enc(id)}`); }
  previewSchedule(cron: string, timezone: string, signal?: AbortSignal): Promise<SchedulePreview> {
    return this.request(`${apiBase}/schedules/preview${query({ cron, timezone })}`, { signal });
  }
  createSchedule(req: ScheduleRequest): Promise<Schedule> {
    return this.request(`${apiBase}/schedules`, { method: 'POST', body: req });
  }
  setScheduleEnabled(id: string, enabled: boolean): Promise<Schedule> {
    return this.request(`${apiBase}/schedules/${enc(id)}/${enabled ? 'enable' : 'disable'}`, { method: 'PUT' });
  }
  triggerSchedule(id: string): Promise<TriggerScheduleResponse> {
    return this.request(`${apiBase}/schedules/${enc(id)}/trigger`, { method: 'PUT' });
  }
  deleteSchedule(id: string): Promise<void> {
    return this.request(`${apiBase}/schedules/${enc(id)}`, { method: 'DELETE' });
  }
}

export type JobQuery = {
  state?: JobState | '';
  workflow_id?: string;
  robot_id?: string;
  schedule_id?: string;
  /** RFC 3339 bounds of the creation time. */
  created_after?: string;
  created_before?: string;
  limit?: number;
  cursor?: string;
};

/** query renders the set, non-empty values as a query string. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** errorBody reads the API's error envelope, or makes one from the status. */
export function errorBody(resp: { status: number; statusText: string }, data: unknown): ErrorBody {
  const env = data as { error?: Partial<ErrorBody> } | undefined;
  if (env?.error && typeof env.error.message === 'string') {
    return { code: env.error.code ?? 'error', message: env.error.message, details: env.error.details ?? {} };
  }
  return { code: `http_${resp.status}`, message: `${resp.status} ${resp.statusText || 'error'}`, details: {} };
}
