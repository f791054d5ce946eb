package robot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// What happens to one claimed job on this robot: it starts, runs its
// workflow version (prepared once, planCache) behind its lease fence,
// and ends in a completion for the reporter.

// start runs a claimed job; sent is when its claim was first sent.
func (r *Robot) start(ctx context.Context, c consensus.ClaimedJob, sent time.Time, jobs *sync.WaitGroup) {
	runCtx, cancel := context.WithCancel(ctx)
	ru := &run{
		job: c.Job, cancel: cancel, status: map[string]string{}, nudge: r.nudge,
		fence: newLeaseFence(r.cfg.FenceAfter, sent, r.log, c.Job.ID, c.Job.Attempt),
	}
	if c.Job.Debug != nil {
		ru.debug = newDebugSession(c.Job.Debug.Options, r.nudge, r.log.With("job", c.Job.ID))
	}
	r.mu.Lock()
	if old := r.active[c.Job.ID]; old != nil {
		// This robot lost the job's lease (it was cut off too long) and
		// has just been given it again: only the new lease counts.
		old.stop("re-leased under a newer fencing token")
	}
	r.active[c.Job.ID] = ru
	r.mu.Unlock()
	jobs.Go(func() {
		defer cancel()
		r.execute(runCtx, ru, c)
		r.forgetRun(c.Job)
		r.mu.Lock()
		if r.active[ru.job.ID] == ru {
			delete(r.active, ru.job.ID)
		}
		r.mu.Unlock()
		select {
		case r.freed <- struct{}{}:
		default:
		}
	})
}

// execute runs one job and reports its outcome.
func (r *Robot) execute(ctx context.Context, ru *run, c consensus.ClaimedJob) {
	job := ru.job
	item := consensus.Completion{JobID: job.ID, Token: job.Lease.Token}
	if c.SecretError != "" {
		// The server that served the claim would not or could not hand
		// over a secret the workflow needs: fail without running it.
		item.Error, item.FailureKind = c.SecretError, c.SecretErrorKind
		r.finish(completion{item: item, attempt: job.Attempt})
		return
	}
	res, err := r.runWorkflow(ctx, ru, c.Graph, c.Secrets)
	switch {
	case err != nil:
		item.Error, item.FailureKind = err.Error(), consensus.FailureApplication
	case res.State == executor.StateCancelled && ru.stopped() != "":
		r.log.Info("job stopped", "job", job.ID, "attempt", job.Attempt, "reason", ru.stopped())
		return // cancelled or lease lost: the leader already moved on
	case res.State == executor.StateCancelled && r.draining.Load():
		r.log.Info("handing the job back", "job", job.ID, "attempt", job.Attempt, "robot", r.cfg.ID)
		cp, _ := json.Marshal(res.Checkpoint)
		rep := ru.takeFinalReport()
		r.finish(completion{handBack: true, attempt: job.Attempt, item: consensus.Completion{
			JobID: job.ID, Token: job.Lease.Token, Checkpoint: cp, Logs: rep.logs, LogsEnd: rep.logsEnd, NodeStatus: rep.status,
		}})
		return
	case res.State == executor.StateSucceeded:
		item.Succeeded = true
		item.Result, _ = json.Marshal(res.Variables)
	default:
		item.Error, item.FailureKind = res.Error, res.FailureKind
		if res.State == executor.StateCancelled {
			item.Error, item.FailureKind = "robot "+r.cfg.ID+" stopped the run: "+res.Error, consensus.FailureApplication
		}
	}
	if err == nil && !item.Succeeded {
		item.Checkpoint, _ = json.Marshal(res.Checkpoint)
	}
	rep := ru.takeFinalReport()
	item.Logs, item.LogsEnd, item.NodeStatus = rep.logs, rep.logsEnd, rep.status
	if ru.debug != nil {
		item.Debug = ru.debug.take()
	}
	item.StoreSecrets = res.StoreSecrets
	// The slot frees as soon as the run ends; the completion goes out in
	// the next batch while the robot already runs its next job.
	r.finish(completion{item: item, attempt: job.Attempt})
}

// plan returns the parsed workflow version of a claimed job: from the
// cache, from the graph the claim carried, or — when the claim left out a
// graph the robot has since lost — fetched from the cluster.
func (r *Robot) plan(ctx context.Context, ref consensus.GraphRef, graph json.RawMessage) (*executor.Prepared, error) {
	wf, err := r.plans.get(ref, graph)
	if !errors.Is(err, errNoGraph) {
		return wf, err
	}
	src, ok := r.queue.(GraphSource)
	if !ok {
		return nil, fmt.Errorf("workflow %s version %d: the claim carried no graph", ref.WorkflowID, ref.Version)
	}
	graph, err = src.Graph(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetch the graph of workflow %s version %d: %w", ref.WorkflowID, ref.Version, err)
	}
	return r.plans.get(ref, graph)
}

func (r *Robot) runWorkflow(ctx context.Context, ru *run, graph json.RawMessage, secrets map[string]string) (executor.Result, error) {
	job := ru.job
	prep, err := r.plan(ctx, consensus.GraphRef{WorkflowID: job.WorkflowID, Version: job.WorkflowVersion}, graph)
	if err != nil {
		return executor.Result{}, err
	}
	vars := map[string]any{}
	if len(job.Params) > 0 {
		if err := json.Unmarshal(job.Params, &vars); err != nil {
			return executor.Result{}, fmt.Errorf("job %s params: %w", job.ID, err)
		}
	}
	vars["job_id"], vars["attempt"], vars["robot_id"] = job.ID, job.Attempt, r.cfg.ID
	opts := executor.RunOptions{
		Vars:               vars,
		OnCheckpoint:       ru.setCheckpoint,
		CheckpointInterval: r.cfg.ReportInterval / 4,
		OnEvent:            ru.onEvent,
		Secrets:            secrets,
		// A robot that cannot confirm its lease starts no node: the job
		// may be about to go to another robot.
		BeforeNode: ru.fence.wait,
	}
	if ru.debug != nil {
		// The debugger stops first, so that a run resumed after a long
		// stop starts no node before its lease is confirmed again.
		opts.BeforeNode = func(ctx context.Context, nodeID string, vars map[string]any) error {
			if err := ru.debug.beforeNode(ctx, nodeID, vars); err != nil {
				return err
			}
			return ru.fence.wait(ctx, nodeID, vars)
		}
	}
	if len(job.Checkpoint) > 0 {
		var cp executor.Checkpoint
		if err := json.Unmarshal(job.Checkpoint, &cp); err != nil {
			return executor.Result{}, fmt.Errorf("job %s checkpoint: %w", job.ID, err)
		}
		opts.Resume = &cp
	}
	return r.cfg.Engine.RunPrepared(ctx, prep, opts), nil
}

func crashOf(job consensus.Job) consensus.Crash {
	return consensus.Crash{JobID: job.ID, Token: job.Lease.Token, Attempt: job.Attempt}
}

// noteRuns notes the runs of a claim in the journal before any of them
// starts; forgetRun forgets each when it ends.
func (r *Robot) noteRuns(claimed []consensus.ClaimedJob) {
	j := r.cfg.Journal
	if j == nil || len(claimed) == 0 {
		return
	}
	cs := make([]consensus.Crash, len(claimed))
	for i, c := range claimed {
		cs[i] = crashOf(c.Job)
	}
	if err := j.begin(cs...); err != nil {
		// The runs go ahead: losing the notes only loses the crash
		// count if one of these runs kills the process.
		r.log.Warn("crash journal: cannot note runs", "jobs", len(cs), "err", err)
	}
}

// forgetRun forgets a run that ended, however it ended.
func (r *Robot) forgetRun(job consensus.Job) {
	j := r.cfg.Journal
	if j == nil {
		return
	}
	if err := j.end(crashOf(job)); err != nil {
		r.log.Warn("crash journal: cannot forget a run", "job", job.ID, "err", err)
	}
}
