-- The archive of a Casare cluster: what Raft held, kept for good.
-- Every table is keyed by the ids Raft chose, so a row written twice is
-- written once; raft_index says which entry a row reflects.

-- +goose Up
-- position is the archiver's watermark: every job finished at or before
-- this Raft index is in the archive. One row, updated in the same
-- transaction as the rows it covers.
CREATE TABLE position (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    raft_index  bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO position (raft_index) VALUES (0);

CREATE TABLE workflows (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    -- node_types lists the node types of the latest version, space separated.
    node_types  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    search      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A') ||
        setweight(to_tsvector('english', description), 'B') ||
        setweight(to_tsvector('simple', replace(node_types, '_', ' ') || ' ' || node_types), 'C')
    ) STORED
);
CREATE INDEX workflows_search ON workflows USING gin (search);

CREATE TABLE workflow_versions (
    workflow_id text NOT NULL,
    version     integer NOT NULL,
    graph       jsonb NOT NULL,
    checksum    text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE jobs (
    id               text PRIMARY KEY,
    seq              bigint NOT NULL,
    workflow_id      text NOT NULL,
    workflow_version integer NOT NULL,
    state            text NOT NULL,
    priority         integer NOT NULL,
    execution_mode   text NOT NULL,
    robot_id         text,
    attempt          integer NOT NULL,
    max_attempts     integer NOT NULL,
    error            text,
    failure_kind     text,
    schedule_id      text,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz NOT NULL,
    -- raft_index is the entry that finished the job.
    raft_index       bigint NOT NULL,
    -- doc is the job as the API returns it (params, result, attempts…).
    doc              jsonb NOT NULL
);
CREATE INDEX jobs_seq ON jobs (seq DESC);
CREATE INDEX jobs_workflow ON jobs (workflow_id, seq DESC);
CREATE INDEX jobs_state ON jobs (state, seq DESC);
CREATE INDEX jobs_raft_index ON jobs (raft_index);

CREATE TABLE job_attempts (
    job_id      text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    robot_id    text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text,
    error       text,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_attempts_robot ON job_attempts (robot_id);

-- job_logs holds every line of every attempt; the lines of a running
-- job are taken before they leave Raft's window, so they come before
-- the job's row. line_no counts from 0 over the whole log.
CREATE TABLE job_logs (
    job_id   text NOT NULL,
    line_no  integer NOT NULL,
    attempt  integer NOT NULL,
    time     timestamptz NOT NULL,
    level    text NOT NULL,
    node_id  text,
    message  text NOT NULL,
    search   tsvector GENERATED ALWAYS AS (to_tsvector('simple', message)) STORED,
    PRIMARY KEY (job_id, line_no)
);
CREATE INDEX job_logs_search ON job_logs USING gin (search);

CREATE TABLE schedules (
    id          text PRIMARY KEY,
    workflow_id text NOT NULL,
    cron        text NOT NULL,
    timezone    text NOT NULL,
    enabled     boolean NOT NULL,
    misfire     text NOT NULL,
    overlap     text NOT NULL,
    last_fired  timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    doc         jsonb NOT NULL
);

CREATE TABLE schedule_fires (
    schedule_id text NOT NULL,
    fire_time   timestamptz NOT NULL,
    manual      boolean NOT NULL,
    job_id      text,
    -- skipped is why no job was made (overlap, misfire, coalesced); NULL when one was.
    skipped     text,
    queued_at   timestamptz NOT NULL,
    -- lateness is how long after its fire time the fire was handled.
    lateness    interval GENERATED ALWAYS AS (queued_at - fire_time) STORED,
    PRIMARY KEY (schedule_id, fire_time, manual)
);

CREATE TABLE robots (
    id        text PRIMARY KEY,
    kind      text NOT NULL,
    node      text NOT NULL,
    tags      text[] NOT NULL DEFAULT '{}',
    capacity  integer NOT NULL,
    connected boolean NOT NULL,
    since     timestamptz NOT NULL
);

-- Runs, success rate and duration percentiles per workflow version.
CREATE VIEW workflow_stats AS
SELECT j.workflow_id,
       coalesce(w.name, '') AS workflow_name,
       j.workflow_version,
       count(*) AS runs,
       count(*) FILTER (WHERE j.state = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE j.state IN ('failed', 'dead')) AS failed,
       count(*) FILTER (WHERE j.state = 'succeeded')::float8 / count(*) AS success_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.finished_at - j.started_at)) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM j.finished_at - j.started_at)) AS p95_seconds
FROM jobs j LEFT JOIN workflows w ON w.id = j.workflow_id
GROUP BY j.workflow_id, w.name, j.workflow_version;

-- Finished jobs and their wait in the queue, per execution mode and priority.
CREATE VIEW queue_stats AS
SELECT execution_mode,
       priority,
       count(*) AS jobs,
       count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) AS p50_wait_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) AS p95_wait_seconds
FROM jobs
GROUP BY execution_mode, priority;

-- Attempts, outcomes and busy time per robot.
CREATE VIEW robot_stats AS
SELECT a.robot_id,
       count(*) AS attempts,
       count(*) FILTER (WHERE a.outcome = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE a.outcome IS DISTINCT FROM 'succeeded') AS not_succeeded,
       coalesce(sum(extract(epoch FROM a.finished_at - a.started_at)), 0) AS busy_seconds,
       max(a.finished_at) AS last_finished_at
FROM job_attempts a
GROUP BY a.robot_id;

-- +goose Down
DROP VIEW robot_stats;
DROP VIEW queue_stats;
DROP VIEW workflow_stats;
DROP TABLE robots;
DROP TABLE schedule_fires;
DROP TABLE schedules;
DROP TABLE job_logs;
DROP TABLE job_attempts;
DROP TABLE jobs;
DROP TABLE workflow_versions;
DROP TABLE workflows;
DROP TABLE position;
