package robot

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/retry"
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

// Config describes one robot.
type Config struct {
	ID       string
	Kind     string // consensus.RobotLAN or consensus.RobotInternet
	Tags     []string
	Capacity int
	// ReportInterval is how often progress is batched to the leader
	// (default consensus.HeartbeatInterval). It must be well under the
	// visibility timeout and FenceAfter.
	ReportInterval time.Duration
	// FenceAfter is how long a run goes on without a confirmed heartbeat
	// before it pauses at the next node boundary (default
	// consensus.FenceAfter, which the leader's requeue delay is set
	// against, or three report intervals if that is longer).
	FenceAfter time.Duration
	// DrainTimeout is how long running jobs may go on after the robot is
	// told to stop before they are cancelled and handed back.
	DrainTimeout time.Duration
	Engine       *executor.Engine
	Logger       *slog.Logger
	// Journal, when set, notes running jobs so that runs that kill the
	// robot's process are reported as crashes (see CrashJournal).
	Journal *CrashJournal
	// Abort, when closed, cancels running jobs at once instead of
	// letting them drain: the cluster has shut the robot out (its token
	// was revoked) and has already handed its jobs to others. The
	// caller still cancels Run's context to stop claiming.
	Abort <-chan struct{}
}

// Robot claims jobs, runs them with the engine and reports back: claim →
// execute → report, with progress and completions batched per robot.
type Robot struct {
	cfg   Config
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
	// handover passes completions to the claim loop when the queue can
	// carry them with claims (WorkQueue).
	handover handover
	// handed tells the reporter that the handover holds completions whose
	// hold it must time.
	handed chan struct{}
	// draining is set when running jobs are cancelled at shutdown: their
	// runs are handed back, not reported as failed.
	draining atomic.Bool
}

type completion struct {
	item     consensus.Completion
	attempt  int
	handBack bool // the robot is leaving: return the job, do not complete it
	// resent marks a completion that went with a claim whose call failed:
	// it may have committed, so a refusal of it is no news.
	resent bool
}

// nudgeGap is the least time between two early progress reports. A
// checkpoint goes out at once, because a robot that dies before its
// checkpoint commits has the next robot run the node again; the gap
// bounds the Raft entries a robot whose runs checkpoint all the time can
// cause, and checkpoints that arrive meanwhile share the next report.
const nudgeGap = 10 * time.Millisecond

// claimRetry spaces the retries of a claim that failed. A retry goes out
// under the same request id, so the leader hands back the jobs the lost
// answer carried instead of leasing more.
var claimRetry = retry.Policy{First: 100 * time.Millisecond, Max: 2 * time.Second}

// claimCoalesce is how long a full robot waits after a slot frees, so
// that the slots a batch of acknowledgements frees go into one claim. A
// variable so that tests can give slow runs under the race detector the
// time a real short run takes.
var claimCoalesce = 2 * time.Millisecond

// New makes a robot that takes work from q.
func New(cfg Config, q Queue) *Robot {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = consensus.HeartbeatInterval
	}
	if cfg.FenceAfter <= 0 {
		// Three missed heartbeats, as consensus.FenceAfter is at the
		// default interval. A robot that heartbeats less often than the
		// cluster assumes cannot fence in time anyway, and a shorter
		// fence would pause it between every two heartbeats.
		cfg.FenceAfter = max(consensus.FenceAfter, 3*cfg.ReportInterval)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	return &Robot{
		cfg: cfg, queue: q, log: cfg.Logger.With("robot", cfg.ID), plans: newPlanCache(cfg.Engine),
		active: map[string]*run{}, freed: make(chan struct{}, 1), nudge: make(chan struct{}, 1),
		done: make(chan completion, cfg.Capacity), handed: make(chan struct{}, 1),
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
	if r.cfg.Abort != nil {
		stopAbort := r.abortOn(jobsCtx, cancelJobs)
		defer stopAbort()
	}
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

// abortOn cancels the running jobs when cfg.Abort closes, until the
// returned function is called.
func (r *Robot) abortOn(jobsCtx context.Context, cancelJobs context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-r.cfg.Abort:
			r.log.Warn("shut out by the cluster: cancelling running jobs", "count", r.activeCount())
			r.draining.Store(true)
			cancelJobs()
		case <-jobsCtx.Done():
		case <-done:
		}
	})
	return func() { close(done); wg.Wait() }
}

func (r *Robot) claimLoop(ctx, jobsCtx context.Context, jobs *sync.WaitGroup) {
	cmd := consensus.ClaimCmd{RobotID: r.cfg.ID, RobotKind: r.cfg.Kind, Tags: r.cfg.Tags}
	// pending is the request id of a claim whose outcome is unknown: it
	// is retried under the same id, without waiting for new work, until
	// the leader answers — so jobs it leased are handed over, not left
	// leased to nobody until the lease runs out.
	pending := ""
	// pendingSince is when the pending claim was first sent: the leader
	// stamped its leases after that, whichever retry got the answer, so
	// the runs' fences count from there.
	var pendingSince time.Time
	wait := claimRetry.Backoff()
	var failures claimFailures
	if _, ok := r.queue.(WorkQueue); ok {
		r.handover.start()
		defer func() { r.giveBack(r.handover.stop(), false) }()
	}
	for ctx.Err() == nil {
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
				retry.Sleep(ctx, claimCoalesce)
			}
			continue
		}
		cmd.Max = free
		if _, ok := r.queue.(GraphSource); ok {
			cmd.Have = r.plans.held()
		}
		if pending == "" {
			if err := r.queue.WaitWork(ctx, cmd); err != nil {
				r.log.Debug("waiting for work", "err", err)
				continue
			}
			pending, pendingSince = uuid.NewString(), time.Now()
		}
		cmd.RequestID = pending
		claimed, err := r.claim(ctx, cmd)
		if err != nil {
			failures.failed(r.log, time.Now(), err)
			retry.Sleep(ctx, wait.Next())
			continue
		}
		failures.answered(r.log, time.Now())
		wait.Reset()
		pending = ""
		before := r.activeCount()
		r.noteRuns(claimed) // before any of them can kill the process
		for _, c := range claimed {
			r.start(jobsCtx, c, pendingSince, jobs)
		}
		if _, ok := r.queue.(WorkQueue); ok && len(claimed) > 0 {
			r.awaitShortRuns(ctx, before)
		}
	}
}

// claim sends cmd, with the completions handed over when the queue can
// carry them.
func (r *Robot) claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	var jobs []consensus.ClaimedJob
	var err error
	if q, ok := r.queue.(WorkQueue); ok {
		jobs, err = r.claimCompleting(ctx, q, cmd)
	} else {
		jobs, err = r.queue.Claim(ctx, cmd)
	}
	return r.runnable(jobs), err
}

// runnable drops, with an error in the log, the claimed jobs that come
// without an id or a lease: a robot cannot report on them, and reading
// the lease's token of one would kill the process. No node of this
// build answers such a job; one that did (another build, a bug) gets
// it back when its lease, if it has one, runs out.
func (r *Robot) runnable(jobs []consensus.ClaimedJob) []consensus.ClaimedJob {
	return slices.DeleteFunc(jobs, func(c consensus.ClaimedJob) bool {
		if c.Job.ID != "" && c.Job.JobRun != nil && c.Job.Lease != nil {
			return false
		}
		r.log.Error("the node answered a claim with a job this robot cannot run: it has no id or no lease; skipping it", "job", c.Job.ID)
		return true
	})
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
