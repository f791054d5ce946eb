-- job_attempts was keyed (job_id, attempt). A job whose robot is lost
-- (declared dead or cut off) runs again under the same attempt number,
-- since a lost robot spends no attempt, so its runs collapsed into one
-- row, and a batch holding such a job fell back from COPY to upserts.
-- run numbers the entries of a job's attempts from 1, in their order.
-- Rows archived before keep run = attempt: theirs were unique.

-- +goose Up
ALTER TABLE job_attempts ADD COLUMN run integer;
UPDATE job_attempts SET run = attempt;
ALTER TABLE job_attempts ALTER COLUMN run SET NOT NULL;
ALTER TABLE job_attempts DROP CONSTRAINT job_attempts_pkey;
ALTER TABLE job_attempts ADD PRIMARY KEY (job_id, run);

-- +goose Down
DELETE FROM job_attempts a USING job_attempts b
WHERE a.job_id = b.job_id AND a.attempt = b.attempt AND a.run > b.run;
ALTER TABLE job_attempts DROP CONSTRAINT job_attempts_pkey;
ALTER TABLE job_attempts ADD PRIMARY KEY (job_id, attempt);
ALTER TABLE job_attempts DROP COLUMN run;
