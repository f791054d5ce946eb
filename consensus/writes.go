package consensus

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/casare/casare/executor"
)

// newRequestID names one call, so that the FSM can tell the retries the
// apply loop makes after a leader change from a new call.
func newRequestID() string { return uuid.NewString() }

// PutWorkflow stores a workflow version (a new one only when the graph
// changed) and queues cmd.Jobs for it, in one Raft entry.
func (s Catalog) PutWorkflow(ctx context.Context, cmd PutWorkflowCmd) (PutWorkflowResult, error) {
	secrets, err := workflowSecrets(cmd.Graph)
	if err != nil {
		return PutWorkflowResult{}, err
	}
	cmd.Secrets, cmd.SecretVariables = secrets, executor.SecretVariables(cmd.Graph)
	specs := cmd.Jobs
	return withSealedParams(ctx, s.Store, func() (PutWorkflowResult, error) {
		cmd.Jobs, err = s.sealSpecs(specs, func(JobSpec) []string { return cmd.SecretVariables })
		if err != nil {
			return PutWorkflowResult{}, err
		}
		return apply[PutWorkflowResult](ctx, s.Store, cmdPutWorkflow, cmd)
	})
}

// DeleteWorkflow removes a workflow. It refuses while the workflow has
// queued or running jobs unless force is set, which cancels them.
func (s Catalog) DeleteWorkflow(ctx context.Context, id string, force bool) error {
	_, err := apply[struct{}](ctx, s.Store, cmdDeleteWorkflow, DeleteWorkflowCmd{ID: id, Force: force, RequestID: newRequestID()})
	return err
}

// SubmitJobs queues a batch of jobs atomically: all or none. A spec whose
// id or unique key is already known returns the existing job. Concurrent
// calls on this node share Raft entries.
//
// The values of the params a workflow declares secret are sealed here,
// before the entry (vault_params.go).
func (s JobQueue) SubmitJobs(ctx context.Context, specs []JobSpec) ([]Job, error) {
	return withSealedParams(ctx, s.Store, func() ([]Job, error) {
		sealed, err := s.sealSpecs(specs, s.specSecretVariables(specs))
		if err != nil {
			return nil, err
		}
		groups := [][]JobSpec{sealed}
		a, err := s.submits.do(ctx, groups)
		if err != nil {
			return nil, err
		}
		res, err := a.results(groups)
		if err != nil {
			return nil, err
		}
		if res[0].Error != nil {
			return nil, res[0].Error
		}
		return res[0].Jobs, nil
	})
}

// submitGroups commits independent groups of specs in one entry.
// Robots waiting on this node hear of the jobs as soon as Raft has the
// entry (see announcer), so that their claims follow it into the log.
// A busy follower's forward says so (SubmitGroupsCmd.More); the
// leader's own entries do not, as nothing reads it in the log. (One built
// on a follower that became the leader before it applied it can carry
// it: replicas ignore it.)
func (s JobQueue) submitGroups(ctx context.Context, groups [][]JobSpec) (submitAnswer, error) {
	announce := func() { s.announceSubmit(groups) }
	cmd := SubmitGroupsCmd{Groups: groups, Brief: true, More: flushWasBusy(ctx) && !s.IsLeader()}
	return applyThen[submitAnswer](ctx, s.Store, cmdSubmitGroups, cmd, announce)
}

// CancelJob cancels a queued or running job.
func (s JobQueue) CancelJob(ctx context.Context, id, reason string) (Job, error) {
	return apply[Job](ctx, s.Store, cmdCancelJob, CancelJobCmd{ID: id, Reason: reason})
}

// registerNode records a server's addresses.
func (s Membership) registerNode(ctx context.Context, n NodeInfo) error {
	_, err := apply[struct{}](ctx, s.Store, cmdRegisterNode, RegisterNodeCmd{Node: n})
	return err
}

// Claim leases up to cmd.Max eligible jobs to a robot. Concurrent
// claims on this node share an entry; each robot gets only its own jobs,
// and one claim's error fails no other.
// The server serving the claim then opens the secrets each job's
// workflow references and hands them over in the claim (attachSecrets):
// values never travel through Raft. A caller that gives up once its claim
// is on its way still gets the claim's jobs, intact.
func (s RobotQueue) Claim(ctx context.Context, cmd ClaimCmd) ([]ClaimedJob, error) {
	jobs, err := s.robots.claim(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return s.handOver(ctx, jobs), nil
}

// handOver opens the secrets of claimed jobs and fills in their graphs.
func (s RobotQueue) handOver(ctx context.Context, jobs []ClaimedJob) []ClaimedJob {
	// The jobs are leased whether or not the caller still waits (a claim
	// on its way is awaited): open their secrets even if ctx ended
	// meanwhile, or a follower that has not applied the claim yet would
	// fail every job it hands over for the caller's ended context.
	secretCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultApplyTimeout)
	defer cancel()
	if err := s.attachSecrets(secretCtx, jobs); err != nil {
		// The jobs are leased; without their secrets the robot fails
		// them as an application failure, which is retried.
		for i := range jobs {
			jobs[i].Job.SealedParams = nil
			jobs[i].SecretError, jobs[i].SecretErrorKind = err.Error(), FailureApplication
		}
	}
	s.fillGraphs(jobs)
	return jobs
}

// WorkOutcome is the outcome of RobotQueue.Work: the completions' acks,
// or why they were not recorded, and the jobs claimed.
type WorkOutcome struct {
	Acks        []Ack
	CompleteErr error
	Jobs        []ClaimedJob
}

// Work records an internet robot's completions and sends its claim in
// one step, so that both share an entry (robot_work.go): Complete and
// Claim in turn would make the claim wait for the completions' entry to
// commit, and side by side each would have an entry of its own. The
// error is the claim's; the completions' is in the outcome. A claim of
// another kind of robot goes after the completions, in its own entry.
func (s RobotQueue) Work(ctx context.Context, done CompleteCmd, claim ClaimCmd) (WorkOutcome, error) {
	var out WorkOutcome
	done, err := s.prepareCompletion(ctx, done)
	if err != nil || claim.RobotKind != RobotInternet {
		if err == nil {
			out.Acks, err = s.robots.report(ctx, RobotReport{Complete: &done})
		}
		out.CompleteErr = err
		out.Jobs, err = s.Claim(ctx, claim)
		return out, err
	}
	var jobs []ClaimedJob
	out.Acks, out.CompleteErr, jobs, err = s.robots.work(ctx, done, claim)
	if err != nil {
		return out, err
	}
	out.Jobs = s.handOver(ctx, jobs)
	return out, nil
}

// Progress extends a robot's leases and records checkpoints, logs and
// node status, for all of its jobs. The heartbeats of every robot this
// node serves go out together, in at most one entry per
// Config.ProgressInterval (robot_groups.go); each ack's Waited says how
// long this one was held for that. Stale tokens are refused item by item.
// A heartbeat whose outcome the robot did not learn may be sent again:
// lines numbered (Progress.LogsEnd) below what the lease holds are not
// recorded twice; a numbering that cannot hold its lines is CodeInvalid.
func (s RobotQueue) Progress(ctx context.Context, cmd ProgressCmd) ([]Ack, error) {
	if err := checkLogsEnd(cmd.Items, progressLogs); err != nil {
		return nil, err
	}
	return s.robots.report(ctx, RobotReport{Progress: &cmd})
}

// Complete records the outcome of attempts; stale tokens are refused
// item by item. Completions go out at once, in one entry with the other
// completions and the heartbeats this node holds.
//
// Values a run asks the vault to keep are sealed and stored first, each
// as its own entry, and never enter the completion's entry.
func (s RobotQueue) Complete(ctx context.Context, cmd CompleteCmd) ([]Ack, error) {
	cmd, err := s.prepareCompletion(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return s.robots.report(ctx, RobotReport{Complete: &cmd})
}

// prepareCompletion checks completions' log numbering and stores the
// values their runs ask the vault to keep.
func (s RobotQueue) prepareCompletion(ctx context.Context, cmd CompleteCmd) (CompleteCmd, error) {
	if err := checkLogsEnd(cmd.Items, completionLogs); err != nil {
		return cmd, err
	}
	cmd.Items = slices.Clone(cmd.Items)
	for i := range cmd.Items {
		s.storeRunSecrets(ctx, cmd.RobotID, &cmd.Items[i])
	}
	return cmd, nil
}

// HandBack returns a leaving robot's unfinished jobs without spending
// their attempts. The heartbeats this node holds commit first, as they
// do before a completion: after the hand-back they would be refused as
// stale and their log lines lost.
func (s RobotQueue) HandBack(ctx context.Context, cmd HandBackCmd) ([]Ack, error) {
	if err := checkLogsEnd(cmd.Items, progressLogs); err != nil {
		return nil, err
	}
	// A barrier that failed for any reason but ctx failed with the
	// heartbeats it would have sent: none of them can commit after this.
	if _, err := s.robots.reports.do(ctx, reportCall{barrier: true}); err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("hand back: send the heartbeats held here first: %w", err)
	}
	return apply[[]Ack](ctx, s.Store, cmdHandBack, cmd)
}

// Pause pauses or resumes the queue (workflowID "") or one workflow.
func (s JobQueue) Pause(ctx context.Context, workflowID string, paused bool) error {
	_, err := apply[struct{}](ctx, s.Store, cmdPause, PauseCmd{WorkflowID: workflowID, Paused: paused})
	return err
}

// SetSettings changes a workflow's queue settings.
func (s JobQueue) SetSettings(ctx context.Context, cmd SettingsCmd) (WorkflowSettings, error) {
	return apply[WorkflowSettings](ctx, s.Store, cmdSettings, cmd)
}

// CreateToken stores a robot token's hash.
func (s Credentials) CreateToken(ctx context.Context, cmd CreateTokenCmd) (RobotToken, error) {
	return apply[RobotToken](ctx, s.Store, cmdCreateToken, cmd)
}

// RevokeToken revokes a robot token.
func (s Credentials) RevokeToken(ctx context.Context, id string) (RobotToken, error) {
	return apply[RobotToken](ctx, s.Store, cmdRevokeToken, RevokeTokenCmd{ID: id})
}

// SetRobotStatus records an internet robot connecting or disconnecting.
func (s RobotQueue) SetRobotStatus(ctx context.Context, r RobotRecord) error {
	_, err := apply[struct{}](ctx, s.Store, cmdRobotStatus, RobotStatusCmd{Robot: r})
	return err
}

// Noop commits an entry that changes nothing, through the same path as
// every write. Benchmarks use it to measure the bare Raft apply rate
// beside the rate of real commands.
func (s *Store) Noop(ctx context.Context) error {
	_, _, err := s.applyOrForward(ctx, []byte{byte(cmdNoop), 0, 0, 0, 0, 0, 0, 0, 0}, nil)
	return err
}

// CreateAPIToken stores an API credential's hash. It is idempotent by
// cmd.ID: a retry returns the credential the first call made.
func (s Credentials) CreateAPIToken(ctx context.Context, cmd CreateAPITokenCmd) (APIToken, error) {
	return apply[APIToken](ctx, s.Store, cmdCreateAPIToken, cmd)
}

// RevokeAPIToken revokes an API credential on every replica; CodeNotFound
// if there is none with id.
func (s Credentials) RevokeAPIToken(ctx context.Context, id string) (APIToken, error) {
	return apply[APIToken](ctx, s.Store, cmdRevokeAPIToken, RevokeAPITokenCmd{ID: id})
}

// RedeemCode exchanges a one-time sign-in code for a session, once;
// CodeInvalid for a code that is unknown, used or expired.
func (s Credentials) RedeemCode(ctx context.Context, cmd RedeemCodeCmd) (APIToken, error) {
	return apply[APIToken](ctx, s.Store, cmdRedeemCode, cmd)
}
