// The JSON of REST v1, as api/types*.go defines it. Only the fields the
// app reads are typed strictly; timestamps are RFC 3339 strings and
// absent when zero.

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'dead';
export const jobStates: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead'];
export const terminalStates: JobState[] = ['succeeded', 'failed', 'cancelled', 'dead'];

export type ExecutionMode = 'lan' | 'internet' | 'any';

export interface WorkflowSummary {
  id: string;
  name: string;
  latest_version: number;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface WorkflowList {
  workflows: WorkflowSummary[];
  applied_index: number;
}

export interface WorkflowSettings {
  max_concurrency: number;
  visibility_timeout: string;
  paused: boolean;
}

export interface Workflow extends WorkflowSummary {
  checksum: string;
  graph: WorkflowGraph;
  settings: WorkflowSettings;
}

export interface WorkflowVersion {
  version: number;
  checksum: string;
  created_at: string;
  graph: WorkflowGraph;
}

export interface WorkflowVersions {
  workflow_id: string;
  versions: WorkflowVersion[];
  applied_index: number;
}

/** A workflow's graph: the JSON `casare run` accepts. */
export interface WorkflowGraph {
  name?: string;
  variables?: Record<string, unknown>;
  nodes: GraphNode[];
  connections?: GraphConnection[];
}

export interface GraphNode {
  id: string;
  type: string;
  config?: Record<string, unknown>;
}

export interface GraphConnection {
  from: string;
  to: string;
  port?: string;
}

export interface JobAttempt {
  attempt: number;
  robot_id: string;
  started_at: string;
  finished_at?: string;
  outcome?: string;
  error?: string;
}

export interface LogLine {
  time: string;
  level: string;
  node_id?: string;
  message: string;
}

/** The executor's checkpoint (executor/checkpoint.go). */
export interface Checkpoint {
  next?: string;
  completed?: string[];
  variables?: Record<string, unknown>;
  steps?: number;
}

export interface Job {
  id: string;
  workflow_id: string;
  workflow_version: number;
  state: JobState;
  priority: number;
  execution_mode: ExecutionMode;
  attempt: number;
  max_attempts: number;
  robot_id: string;
  robot_tags?: string[];
  pinned_robot?: string;
  params: Record<string, unknown>;
  result?: unknown;
  error?: string;
  failure_kind?: string;
  unique_key?: string;
  backoff?: string;
  lease_expires_at?: string;
  attempts?: JobAttempt[];
  not_before?: string;
  deadline?: string;
  late: boolean;
  checkpoint?: Checkpoint;
  last_logs?: LogLine[];
  schedule_id?: string;
  fire_time?: string;
  created_at: string;
  updated_at: string;
  started_at?: string;
  finished_at?: string;
  rerun_of?: string;
  node_status?: Record<string, string>;
}

export interface JobList {
  jobs: Job[];
  next_cursor: string | null;
  applied_index: number;
}

export interface JobLogs {
  job_id: string;
  lines: LogLine[];
  next_offset: number;
  finished: boolean;
  applied_index: number;
}

export interface JobRequest {
  workflow_id: string;
  workflow_version?: number;
  params?: Record<string, unknown>;
  priority?: number;
  execution_mode?: ExecutionMode;
  robot_tags?: string[];
  /** Run only on this robot (a LAN robot's id is its node's name). */
  pinned_robot?: string;
  unique_key?: string;
  max_attempts?: number;
  not_before?: string;
  deadline?: string;
  /** Makes the job a debug session that stops before these nodes. */
  debug?: { breakpoints: string[]; pause_timeout?: string };
}

export interface QueueStats {
  paused: boolean;
  paused_workflows: string[];
  by_state: Record<JobState, number>;
  queued_by_priority: Record<string, number>;
  oldest_queued_at?: string;
  oldest_queued_age_seconds: number;
  finished_last_minute: number;
  applied_index: number;
}

export type RobotState = 'alive' | 'suspect' | 'dead' | 'left' | 'disconnected';

export interface Robot {
  id: string;
  name: string;
  kind: 'lan' | 'internet';
  state: RobotState;
  tags: string[];
  capacity: number;
  node: string;
  current_jobs: string[];
  since?: string;
  /** An admin drained it: it finishes what it runs and claims no more. */
  drained: boolean;
  /** The last heartbeat the leader accepted for a running job. */
  last_heartbeat_at?: string;
}

export interface RobotHandBack {
  robot: Robot;
  handed_back: string[];
}

export interface SchedulePreview {
  cron: string;
  timezone: string;
  next: string[];
}

/** One change of GET /api/v1/events; only its type's fields are set. */
export interface StreamEvent {
  index: number;
  type: 'job' | 'progress' | 'schedule_fire' | 'robot' | 'drain' | 'leader';
  time?: string;
  job_id?: string;
  workflow_id?: string;
  schedule_id?: string;
  robot_id?: string;
  from?: JobState;
  to?: JobState;
  attempt?: number;
  error?: string;
  node_status?: Record<string, string>;
  fire_time?: string;
  skipped?: string;
  manual?: boolean;
  state?: RobotState;
  kind?: 'lan' | 'internet';
  node?: string;
  drained?: boolean;
  leader?: string;
  term?: number;
}

export interface QueueCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  dead: number;
}

/** One message of the event stream. */
export interface EventFrame {
  type: 'hello' | 'events' | 'reload' | 'dropped';
  /** Pass as ?since= to continue after this frame. */
  resume: number;
  events?: StreamEvent[];
  queue?: QueueCounts;
  leader?: string;
  term?: number;
  robots?: Robot[];
  node?: string;
  message?: string;
}

export interface RobotList {
  robots: Robot[];
  applied_index: number;
}

export interface ScheduleFire {
  fire_time: string;
  job_id?: string;
  skipped?: string;
  queued_at: string;
  manual?: boolean;
}

export interface Schedule {
  id: string;
  workflow_id: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  misfire: string;
  catchup_window: string;
  overlap: string;
  priority: number;
  execution_mode: ExecutionMode;
  params: Record<string, unknown>;
  robot_tags?: string[];
  max_attempts: number;
  next_run?: string;
  last_run?: string;
  history?: ScheduleFire[];
  created_at: string;
  updated_at: string;
}

export interface ScheduleList {
  schedules: Schedule[];
  applied_index: number;
}

export interface ScheduleRequest {
  workflow_id: string;
  cron: string;
  timezone?: string;
  enabled?: boolean;
  misfire?: string;
  catchup_window?: string;
  overlap?: string;
  priority?: number;
  execution_mode?: ExecutionMode;
  params?: Record<string, unknown>;
  robot_tags?: string[];
  max_attempts?: number;
}

export interface TriggerScheduleResponse {
  schedule_id: string;
  job_id: string;
  fire_time: string;
}

export interface Leader {
  name: string;
  http_addr: string;
}

export interface ClusterServer {
  name: string;
  raft_addr: string;
  http_addr: string;
  voter: boolean;
  alive: boolean;
  leader: boolean;
}

/** The answer to DELETE /api/v1/cluster/servers/{name}. */
export interface RemoveServerResponse {
  removed: string;
  /** The non-voter promoted to keep the voter count. */
  promoted?: string;
  voters: number;
}

export interface ClusterMember {
  name: string;
  state: string;
  roles: string[];
  http_addr: string;
  tags?: string[];
  capacity?: number;
}

/** GET /api/v1/stats/throughput: rates per second per interval, oldest first. */
export interface Throughput {
  node: string;
  now: string;
  window_seconds: number;
  interval_seconds: number;
  points: ThroughputInterval[];
}

export interface ThroughputInterval {
  start: string;
  submitted: number;
  claimed: number;
  succeeded: number;
  /** Failed or dead-lettered. */
  failed: number;
  cancelled: number;
  claim_latency_p50_seconds: number | null;
  claim_latency_p95_seconds: number | null;
}

export interface LeaveResponse {
  node: string;
  status: 'leaving';
}

export interface Cluster {
  node: string;
  leader: Leader | null;
  servers: ClusterServer[];
  members: ClusterMember[];
  applied_index: number;
  raft_state: string;
  term: number;
}

export interface CreateWorkflowResponse {
  workflow_id: string;
  version: number;
  created: boolean;
  job_id?: string;
  schedule_id?: string;
}

export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** What an API credential may do; each role allows what those before it allow. */
export type Role = 'viewer' | 'operator' | 'admin';

/** GET /api/v1/auth/whoami: whose credential the page uses. */
export interface WhoAmI {
  name: string;
  role: Role;
  /** 'session' for a signed-in browser, 'token' for a bearer token. */
  kind: string;
  token_id: string;
  expires_at?: string;
}

/** POST /api/v1/auth/signin takes exactly one of these. */
export type SignInRequest = { token: string } | { code: string };
