package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// Queue is what a robot needs from the cluster. A server node serves it
// from its own store; other robots reach it through a server.
type Queue interface {
	Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error)
	Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error)
	Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error)
	// HandBack returns unfinished jobs without spending their attempts.
	HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error)
	// WaitWork returns when a claim by cmd's robot may find a job, or
	// after a while anyway; robots call it before claiming so idle robots
	// do not flood the log with empty claims.
	WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error
}

// RobotConfig describes one robot.
type RobotConfig struct {
	ID       string
	Kind     string // consensus.RobotLAN or consensus.RobotInternet
	Tags     []string
	Capacity int
	// ReportInterval is how often progress is batched to the leader. It
	// must be well under the visibility timeout.
	ReportInterval time.Duration
	// DrainTimeout is how long running jobs may go on after the robot is
	// told to stop before they are cancelled and handed back.
	DrainTimeout time.Duration
	Engine       *executor.Engine
	Logger       *slog.Logger
	// Journal, when set, notes running jobs so that runs that kill the
	// robot's process are reported as crashes (see CrashJournal).
	Journal *CrashJournal
}

// Robot claims jobs, runs them with the engine and reports back: claim →
// execute → report, with progress and completions batched per robot.
type Robot struct {
	cfg   RobotConfig
	queue Queue
	log   *slog.Logger
	plans *planCache

	mu     sync.Mutex
	active map[string]*run
	freed  chan struct{} // signalled when a slot frees up
	// nudge asks the reporter to send progress early: a checkpoint is
	// waiting, and until it reaches Raft a crash would repeat the nodes
	// it covers (side effects are at-least-once; this keeps the window
	// short).
	nudge chan struct{}

	done chan completion
	// draining is set when running jobs are cancelled at shutdown: their
	// runs are handed back, not reported as failed.
	draining atomic.Bool
}

// run is one job executing on this robot.
type run struct {
	job    consensus.Job
	cancel context.CancelFunc
	nudge  chan<- struct{}

	mu         sync.Mutex
	checkpoint *executor.Checkpoint // latest, not yet reported
	logs       []consensus.LogLine
	status     map[string]string
	stopReason string
}

type completion struct {
	item     consensus.Completion
	attempt  int
	handBack bool // the robot is leaving: return the job, do not complete it
}

// nudgeGap is the least time between two early progress reports. A
// checkpoint goes out at once, because a robot that dies before its
// checkpoint commits has the next robot run the node again; the gap
// bounds the Raft entries a robot whose runs checkpoint all the time can
// cause, and checkpoints that arrive meanwhile share the next report.
const nudgeGap = 10 * time.Millisecond

// claimCoalesce is how long a full robot waits after a slot frees, so
// that the slots a batch of acknowledgements frees go into one claim.
const claimCoalesce = 2 * time.Millisecond

// NewRobot makes a robot that takes work from q.
func NewRobot(cfg RobotConfig, q Queue) *Robot {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	return &Robot{
		cfg: cfg, queue: q, log: cfg.Logger.With("robot", cfg.ID), plans: newPlanCache(),
		active: map[string]*run{}, freed: make(chan struct{}, 1), nudge: make(chan struct{}, 1),
		done: make(chan completion, cfg.Capacity),
	}
}

// Run works until ctx ends, then waits for its jobs to finish or be
// cancelled and their outcomes to be reported.
func (r *Robot) Run(ctx context.Context) {
	// Reporting outlives claiming: jobs still running at shutdown get
	// their final reports through.
	reportCtx, stopReports := context.WithCancel(context.WithoutCancel(ctx))
	var reporters sync.WaitGroup
	reporters.Go(func() { r.reportProgress(reportCtx) })
	completions := make(chan struct{})
	go func() {
		defer close(completions)
		r.reportCompletions(reportCtx)
	}()

	// Jobs outlive claiming by DrainTimeout, so a leaving robot finishes
	// short jobs instead of handing them back.
	jobsCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	var jobs sync.WaitGroup
	r.reportCrashes(ctx)
	r.claimLoop(ctx, jobsCtx, &jobs)
	r.announceDrain()
	drained := make(chan struct{})
	go func() { jobs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(r.cfg.DrainTimeout):
		r.log.Warn("handing back jobs still running at shutdown", "count", r.activeCount())
		r.draining.Store(true)
		cancelJobs()
		<-drained
	}
	// Every job has queued its completion; let the batcher send them all
	// before the reporters stop.
	close(r.done)
	select {
	case <-completions:
	case <-time.After(r.cfg.DrainTimeout):
		// The cluster is unreachable: give up on the last reports; the
		// leases will expire and the jobs run again from their checkpoints.
		r.log.Warn("giving up on unsent completions at shutdown")
		stopReports()
		<-completions
	}
	stopReports()
	reporters.Wait()
}

func (r *Robot) claimLoop(ctx, jobsCtx context.Context, jobs *sync.WaitGroup) {
	cmd := consensus.ClaimCmd{RobotID: r.cfg.ID, RobotKind: r.cfg.Kind, Tags: r.cfg.Tags}
	// pending is the request id of a claim whose outcome is unknown: it
	// is retried under the same id, without waiting for new work, until
	// the leader answers — so jobs it leased are handed over, not left
	// leased to nobody until the lease runs out.
	pending := ""
	for attempt := 0; ctx.Err() == nil; {
		free := r.cfg.Capacity - r.activeCount()
		if free == 0 {
			select {
			case <-ctx.Done():
				return
			case <-r.freed:
			}
			// Slots free up in bursts when a batch of completions is
			// acknowledged; gather them into one claim.
			if r.cfg.Capacity > 4 {
				sleep(ctx, claimCoalesce)
			}
			continue
		}
		cmd.Max = free
		if pending == "" {
			if err := r.queue.WaitWork(ctx, cmd); err != nil {
				r.log.Debug("waiting for work", "err", err)
				continue
			}
			pending = uuid.NewString()
		}
		cmd.RequestID = pending
		claimed, err := r.claim(ctx, cmd)
		if err != nil {
			attempt++
			r.log.Warn("claim failed; retrying it", "err", err)
			sleep(ctx, min(time.Duration(attempt)*100*time.Millisecond, 2*time.Second))
			continue
		}
		attempt, pending = 0, ""
		for _, c := range claimed {
			r.start(jobsCtx, c, jobs)
		}
	}
}

// claim retries a claim whose outcome is unknown with the same request
// id, so the leader hands back the same jobs instead of leasing more.
func (r *Robot) claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	var err error
	for try := range 3 {
		var claimed []consensus.ClaimedJob
		if claimed, err = r.queue.Claim(ctx, cmd); err == nil {
			return claimed, nil
		}
		sleep(ctx, time.Duration(try+1)*100*time.Millisecond)
	}
	return nil, err
}

// announceDrain says what a stopping robot waits for, so that an
// operator who pressed Ctrl-C sees why the process has not exited yet.
func (r *Robot) announceDrain() {
	ids := r.activeIDs()
	if len(ids) == 0 {
		return
	}
	r.log.Info("stopping: waiting for running jobs to finish; those still running at the deadline are handed back",
		"count", len(ids), "jobs", ids, "deadline", time.Now().Add(r.cfg.DrainTimeout).Format(time.RFC3339),
		"drain_timeout", r.cfg.DrainTimeout)
}

func (r *Robot) activeIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.active))
}

func (r *Robot) activeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}

func (r *Robot) start(ctx context.Context, c consensus.ClaimedJob, jobs *sync.WaitGroup) {
	runCtx, cancel := context.WithCancel(ctx)
	ru := &run{job: c.Job, cancel: cancel, status: map[string]string{}, nudge: r.nudge}
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
		forget := r.noteRun(c.Job) // before the run can kill the process
		r.execute(runCtx, ru, c)
		forget()
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
		r.done <- completion{item: item, attempt: job.Attempt}
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
		logs, status := ru.takeReport()
		r.done <- completion{handBack: true, attempt: job.Attempt, item: consensus.Completion{
			JobID: job.ID, Token: job.Lease.Token, Checkpoint: cp, Logs: logs, NodeStatus: status,
		}}
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
	item.Logs, item.NodeStatus = ru.takeReport()
	item.StoreSecrets = res.StoreSecrets
	// The slot frees as soon as the run ends; the completion goes out in
	// the next batch while the robot already runs its next job.
	r.done <- completion{item: item, attempt: job.Attempt}
}

func (r *Robot) runWorkflow(ctx context.Context, ru *run, graph json.RawMessage, secrets map[string]string) (executor.Result, error) {
	job := ru.job
	wf, err := r.plans.get(job.WorkflowID, job.WorkflowVersion, graph)
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
	}
	if len(job.Checkpoint) > 0 {
		var cp executor.Checkpoint
		if err := json.Unmarshal(job.Checkpoint, &cp); err != nil {
			return executor.Result{}, fmt.Errorf("job %s checkpoint: %w", job.ID, err)
		}
		opts.Resume = &cp
	}
	return r.cfg.Engine.Run(ctx, wf, opts), nil
}

func (ru *run) setCheckpoint(cp executor.Checkpoint) {
	ru.mu.Lock()
	ru.checkpoint = &cp
	ru.mu.Unlock()
	if cp.Next == "" {
		return // the run's last checkpoint goes out with its completion
	}
	select {
	case ru.nudge <- struct{}{}:
	default:
	}
}

func (ru *run) onEvent(ev executor.Event) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	switch ev.Kind {
	case executor.EventLog:
		ru.logs = append(ru.logs, consensus.LogLine{Time: ev.Time, Level: ev.Level.String(), NodeID: ev.NodeID, Message: ev.Message})
	case executor.EventNodeStarted:
		ru.status[ev.NodeID] = "running"
	case executor.EventNodeFinished:
		ru.status[ev.NodeID] = "succeeded"
	case executor.EventNodeFailed:
		ru.status[ev.NodeID] = "failed"
		ru.logs = append(ru.logs, consensus.LogLine{Time: ev.Time, Level: "ERROR", NodeID: ev.NodeID, Message: ev.Error})
	case executor.EventNodeRetrying:
		ru.status[ev.NodeID] = "retrying"
	}
}

// takeReport returns what happened since the last report and forgets it.
func (ru *run) takeReport() ([]consensus.LogLine, map[string]string) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	logs, status := ru.logs, ru.status
	ru.logs, ru.status = nil, map[string]string{}
	if len(status) == 0 {
		status = nil
	}
	return logs, status
}

// takeProgress takes what the next heartbeat carries; giveBack returns
// it when the heartbeat did not get through, so nothing is lost.
func (ru *run) takeProgress() (consensus.Progress, *executor.Checkpoint) {
	logs, status := ru.takeReport()
	p := consensus.Progress{JobID: ru.job.ID, Token: ru.job.Lease.Token, Logs: logs, NodeStatus: status}
	ru.mu.Lock()
	cp := ru.checkpoint
	if cp != nil {
		p.Checkpoint, _ = json.Marshal(cp)
		ru.checkpoint = nil
	}
	ru.mu.Unlock()
	return p, cp
}

func (ru *run) hasCheckpoint() bool {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.checkpoint != nil
}

func (ru *run) giveBack(p consensus.Progress, cp *executor.Checkpoint) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	ru.logs = append(p.Logs, ru.logs...)
	for node, state := range p.NodeStatus {
		if _, newer := ru.status[node]; !newer {
			ru.status[node] = state
		}
	}
	if ru.checkpoint == nil {
		ru.checkpoint = cp
	}
}

func (ru *run) stop(reason string) {
	ru.mu.Lock()
	ru.stopReason = reason
	ru.mu.Unlock()
	ru.cancel()
}

func (ru *run) stopped() string {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.stopReason
}

// reportProgress sends one batched heartbeat for all running jobs per
// tick, and an early report as soon as a run checkpoints. An ack that
// says stop cancels the run.
func (r *Robot) reportProgress(ctx context.Context) {
	t := time.NewTicker(r.cfg.ReportInterval)
	defer t.Stop()
	for {
		early := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.nudge:
			early = true
		}
		runs := r.reportable(early)
		if len(runs) == 0 {
			continue
		}
		cmd := consensus.ProgressCmd{RobotID: r.cfg.ID}
		checkpoints := make(map[string]*executor.Checkpoint, len(runs))
		for id, ru := range runs {
			p, cp := ru.takeProgress()
			cmd.Items = append(cmd.Items, p)
			checkpoints[id] = cp
		}
		acks, err := r.queue.Progress(ctx, cmd)
		if err != nil {
			r.log.Warn("heartbeat failed", "jobs", len(cmd.Items), "err", err)
			for _, p := range cmd.Items {
				runs[p.JobID].giveBack(p, checkpoints[p.JobID])
			}
			continue
		}
		for _, ack := range acks {
			if ru := runs[ack.JobID]; ru != nil && ack.Stop {
				ru.stop(ack.Reason)
			}
		}
		if early {
			sleep(ctx, nudgeGap)
		}
	}
}

// reportable returns the runs a progress report covers: every active
// run on a tick, only those with an unreported checkpoint when a
// checkpoint asked for an early report.
func (r *Robot) reportable(early bool) map[string]*run {
	r.mu.Lock()
	defer r.mu.Unlock()
	runs := make(map[string]*run, len(r.active))
	for id, ru := range r.active {
		if !early || ru.hasCheckpoint() {
			runs[id] = ru
		}
	}
	return runs
}

// reportCompletions batches completions until r.done is closed:
// whatever has queued up while the previous batch was in flight goes in
// the next one.
func (r *Robot) reportCompletions(ctx context.Context) {
	for c := range r.done {
		batch := []completion{c}
	drain:
		for len(batch) < 512 {
			select {
			case c, ok := <-r.done:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		r.completeBatch(ctx, batch)
	}
}

// completeBatch retries until the leader answers: an outcome must not be
// lost to a leader change. If the robot gives up, the lease expires and
// the job runs again from its last checkpoint.
func (r *Robot) completeBatch(ctx context.Context, batch []completion) {
	var back []completion
	batch = slices.DeleteFunc(batch, func(c completion) bool {
		if c.handBack {
			back = append(back, c)
		}
		return c.handBack
	})
	if len(back) > 0 {
		r.handBack(ctx, back)
	}
	if len(batch) == 0 {
		return
	}
	cmd := consensus.CompleteCmd{RobotID: r.cfg.ID}
	for _, c := range batch {
		cmd.Items = append(cmd.Items, c.item)
	}
	var acks []consensus.Ack
	var err error
	for attempt := 1; ; attempt++ {
		acks, err = r.queue.Complete(ctx, cmd)
		if err == nil || ctx.Err() != nil || attempt == 20 {
			break
		}
		r.log.Warn("report completions", "jobs", len(batch), "attempt", attempt, "err", err)
		sleep(ctx, min(time.Duration(attempt)*200*time.Millisecond, 2*time.Second))
	}
	if err != nil {
		r.log.Error("completions not reported; their leases will expire and the jobs run again from their checkpoints",
			"jobs", len(batch), "err", err)
		return
	}
	if !r.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for i, a := range acks {
		r.log.Debug("job reported", "job", a.JobID, "attempt", batch[i].attempt, "succeeded", batch[i].item.Succeeded, "accepted", a.OK, "state", a.State, "reason", a.Reason)
	}
}

// handBack returns jobs cancelled at shutdown, once; if it fails their
// leases expire and they run again anyway, at the cost of an attempt.
func (r *Robot) handBack(ctx context.Context, batch []completion) {
	cmd := consensus.HandBackCmd{RobotID: r.cfg.ID, Reason: "robot " + r.cfg.ID + " is shutting down"}
	for _, c := range batch {
		cmd.Items = append(cmd.Items, consensus.Progress{
			JobID: c.item.JobID, Token: c.item.Token, Checkpoint: c.item.Checkpoint, Logs: c.item.Logs, NodeStatus: c.item.NodeStatus,
		})
	}
	if _, err := r.queue.HandBack(ctx, cmd); err != nil {
		r.log.Warn("hand back jobs", "jobs", len(batch), "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// planCache keeps parsed workflow versions: versions are immutable, so a
// parse is never stale.
type planCache struct {
	mu    sync.Mutex
	plans map[planKey]*executor.Workflow
}

type planKey struct {
	id      string
	version int
}

func newPlanCache() *planCache { return &planCache{plans: map[planKey]*executor.Workflow{}} }

func (p *planCache) get(id string, version int, graph json.RawMessage) (*executor.Workflow, error) {
	key := planKey{id, version}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wf := p.plans[key]; wf != nil {
		return wf, nil
	}
	wf, err := executor.ParseAndValidate(graph)
	if err != nil {
		return nil, fmt.Errorf("workflow %s version %d: %w", id, version, err)
	}
	if len(p.plans) > 1000 {
		clear(p.plans)
	}
	p.plans[key] = wf
	return wf, nil
}
