-- The position counts Raft indexes of one cluster state. An operator
-- restore brings jobs that carry another cluster's indexes, under a new
-- restore id (consensus.JobQueue.RestoreID): a position kept under an
-- older id is reset before it is used, so the restored jobs are read
-- again rather than taken as archived.

-- +goose Up
ALTER TABLE position ADD COLUMN restore_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE position DROP COLUMN restore_id;
