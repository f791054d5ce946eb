-- The archiver writes every finished job once, and must keep up with the
-- cluster: what a write maintains that no read needs goes.
-- jobs_raft_index: no query reads jobs by Raft index (the position says
-- what is archived). job_attempts' foreign key: a per-row check on every
-- attempt written, for a parent the same transaction has just written
-- (WriteBatch writes a job and its attempts together); archived jobs are
-- never deleted, so the cascade it carried has nothing to do.

-- +goose Up
DROP INDEX jobs_raft_index;
ALTER TABLE job_attempts DROP CONSTRAINT job_attempts_job_id_fkey;

-- +goose Down
ALTER TABLE job_attempts ADD CONSTRAINT job_attempts_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE;
CREATE INDEX jobs_raft_index ON jobs (raft_index);
