package executor

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/casare/casare/api/wire"
)

// Run states.
const (
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Failure kinds; see the package documentation.
const (
	FailureBusiness    = wire.FailureBusiness
	FailureApplication = wire.FailureApplication
)

// Variables a job's caller injects (DESIGN §6). On a resumed run they are
// taken from RunOptions.Vars rather than from the checkpoint, because they
// describe the current attempt.
const (
	VarJobID   = "job_id"
	VarAttempt = "attempt"
	VarRobotID = "robot_id"
)

var jobVariables = [...]string{VarJobID, VarAttempt, VarRobotID}

// EngineOptions configure an Engine. The zero value is usable.
type EngineOptions struct {
	// Logger receives engine diagnostics, and log nodes' lines when a run
	// has no OnEvent. Default: slog.Default().
	Logger *slog.Logger
	// HTTPClient serves http_request and the OAuth 2.0 nodes. Default: a
	// client without a timeout; node timeouts and the run's context bound
	// each request.
	HTTPClient *http.Client
	// BaseDir resolves relative subworkflow paths. Default: WorkDir.
	BaseDir string
	// WorkDir resolves relative paths of file, shell and screenshot nodes.
	// Default: the process's working directory.
	WorkDir string
	// ChromiumPath is the browser binary for browser nodes. Default: the
	// environment variable CASARE_CHROMIUM, then /usr/bin/chromium, then
	// chromium, chromium-browser or google-chrome on PATH.
	ChromiumPath string
	// MaxSubworkflowDepth bounds nested subworkflow calls. Default: 16.
	MaxSubworkflowDepth int
	// ExpressionCacheSize bounds the caches of compiled expressions and
	// template strings. Default: 10000 entries each.
	ExpressionCacheSize int
	// ExpressionMemory is the memory, in bytes, one expression evaluation
	// may allocate. Default: DefaultExpressionMemory.
	ExpressionMemory int64
	// ExpressionTimeout bounds one evaluation. Default:
	// DefaultExpressionTimeout.
	ExpressionTimeout time.Duration
	// NodeTypes limits the node types this engine runs (see NodePolicy).
	// Check it with NodePolicy.Check first. Default: every type.
	NodeTypes NodePolicy
	// FileRoot, when set, confines file nodes (file_read, file_write,
	// browser_screenshot, file subworkflows, the shell node's dir) to
	// this directory: a path outside it, through .. or a symbolic link,
	// fails the node as a business failure. It must exist. It does not
	// confine what a shell command does; deny shell for that.
	FileRoot string
}

// Engine runs workflows. It is safe for concurrent use: each Run has its own
// state, and runs share only the compiled expression cache.
type Engine struct {
	logger   *slog.Logger
	client   *http.Client
	baseDir  string
	workDir  string
	chromium string
	maxDepth int
	programs *exprCache
	exprs    exprLimits
	policy   NodePolicy
	root     string // FileRoot, absolute with symbolic links resolved
}

// NewEngine returns an Engine configured by opts.
func NewEngine(opts EngineOptions) *Engine {
	e := &Engine{
		logger:   opts.Logger,
		client:   opts.HTTPClient,
		baseDir:  opts.BaseDir,
		workDir:  opts.WorkDir,
		chromium: opts.ChromiumPath,
		maxDepth: opts.MaxSubworkflowDepth,
		programs: newExprCache(opts.ExpressionCacheSize),
		exprs:    exprLimits{memory: opts.ExpressionMemory, timeout: opts.ExpressionTimeout}.orDefaults(),
		policy:   opts.NodeTypes,
		root:     opts.FileRoot,
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	if e.client == nil {
		e.client = &http.Client{}
	}
	if e.baseDir == "" {
		e.baseDir = e.workDir
	}
	if e.maxDepth <= 0 {
		e.maxDepth = 16
	}
	return e
}

// RunOptions configure one run.
type RunOptions struct {
	// Vars are the run's inputs, applied over the workflow's variables:
	// job parameters plus job_id, attempt and robot_id. On a resumed run
	// the checkpoint's variables are the state; Vars then only supplies
	// names the checkpoint lacks, and the current job_id, attempt and
	// robot_id.
	Vars map[string]any
	// Resume continues a run from a checkpoint instead of starting fresh.
	// A checkpoint that covers no node (Steps == 0) starts fresh.
	Resume *Checkpoint
	// OnCheckpoint receives checkpoints, batched by CheckpointEvery and
	// CheckpointInterval. It runs on the engine's goroutine, so a slow
	// callback slows the run; hand the checkpoint off to keep up.
	OnCheckpoint func(Checkpoint)
	// CheckpointEvery batches checkpoints: one after this many completed
	// nodes. CheckpointInterval batches by time: one when this much time
	// has passed since the last. A checkpoint is due when either is
	// reached; with both zero every node is checkpointed. Nodes with side
	// effects (http, shell, files, browser, OAuth, delay, subworkflow) and
	// the end of the run always flush the pending checkpoint.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// OnEvent receives node progress and log lines. It runs on the
	// engine's goroutine.
	OnEvent func(Event)
	// BeforeNode runs before every node, including nodes of subworkflows,
	// and may block, which is how a debugger pauses a run. CallStack(ctx)
	// tells which subworkflows the node is in. vars is the live variable
	// map: read it during the call only and do not modify it. An error
	// stops the run: cancelled if it wraps context.Canceled, failed
	// otherwise.
	BeforeNode func(ctx context.Context, nodeID string, vars map[string]any) error
	// Secrets are the vault values the run may read with secret("NAME").
	// The run hides them, and the workflow's secret_variables, behind
	// *** in every event, checkpoint, result and BeforeNode view.
	Secrets map[string]string
}

// Result is the outcome of a run.
type Result struct {
	State     string         `json:"state"`
	Variables map[string]any `json:"variables"`
	Error     string         `json:"error,omitempty"`
	// FailureKind is FailureBusiness or FailureApplication for a failed
	// run, empty otherwise.
	FailureKind string `json:"failure_kind,omitempty"`
	// FailedNode is the id of the node that failed the run.
	FailedNode string `json:"failed_node,omitempty"`
	// Checkpoint is the run's final position. Resuming a failed or
	// cancelled run from it re-runs the node that failed or was cut off.
	Checkpoint Checkpoint `json:"checkpoint"`
	// StoreSecrets are values the run asks the vault to keep, by secret
	// name (an OAuth node's store_refresh_token_as). The robot sends them
	// with its completion; they are never written out with the result.
	StoreSecrets map[string]string `json:"-"`
}

// Run executes w. It never panics on a bad workflow: an invalid workflow or
// checkpoint gives a failed Result with an application failure. The run
// is bounded by the workflow's limits (see Limits); hitting one fails it
// as a business failure naming the limit.
func (e *Engine) Run(ctx context.Context, w *Workflow, opts RunOptions) Result {
	return e.RunPrepared(ctx, e.Prepare(w), opts)
}

// Prepared is a workflow checked and compiled for the runs of one
// engine (Engine.Prepare). A caller that runs one workflow many times,
// as a robot runs the jobs of a workflow version, prepares it once:
// checking the graph and resolving its nodes cost as much as running a
// short workflow. Runs only read a Prepared, so concurrent runs share it.
type Prepared struct {
	w    *Workflow
	plan *plan
	// timeout is the cause of a run's end at its time limit, made once:
	// formatting it for every run cost a short run as much as its nodes.
	timeout error
	// fail is the outcome of every run of a workflow that is invalid or
	// uses a node type the engine does not permit.
	fail *Result
}

// Prepare checks and compiles w for e's runs. w must not change after:
// the Prepared holds parts of it. A workflow that cannot run gives a
// Prepared whose runs fail, as Run fails it.
func (e *Engine) Prepare(w *Workflow) *Prepared {
	p, problems := buildPlan(w, e.programs, 0)
	if len(problems) > 0 {
		err := fmt.Errorf("invalid workflow: %w", &ValidationError{Problems: problems})
		return &Prepared{fail: &Result{State: StateFailed, FailureKind: FailureApplication, Error: err.Error()}}
	}
	if err := e.permitsPlan(p, ""); err != nil {
		return &Prepared{fail: &Result{State: StateFailed, FailureKind: FailureBusiness, Error: err.Error()}}
	}
	timeout := limitError("limits.timeout", "the run took longer than %s", p.limits.timeout)
	return &Prepared{w: w, plan: p, timeout: timeout}
}

// RunPrepared is Run of a workflow prepared by e.
func (e *Engine) RunPrepared(ctx context.Context, prep *Prepared, opts RunOptions) Result {
	if prep.fail != nil {
		res := *prep.fail
		res.Variables = map[string]any{}
		return res
	}
	w, p := prep.w, prep.plan
	ctx, cancel := context.WithTimeoutCause(ctx, p.limits.timeout, prep.timeout)
	defer cancel()
	r := newRun(e, p, &opts, &resources{
		maxSteps: p.limits.maxSteps, secrets: opts.Secrets, redact: newRedactor(opts.Secrets, w.SecretVariables),
	})
	defer r.shared.close(e.logger)

	start := p.start
	if cp := opts.Resume; cp != nil && cp.Steps > 0 {
		next, err := r.restore(cp)
		if err != nil {
			return Result{State: StateFailed, FailureKind: FailureApplication, Error: err.Error(), Variables: map[string]any{}}
		}
		start = next
	} else {
		r.vars = initialVars(p.vars, opts.Vars)
		r.eval.vars = r.vars
	}
	r.checkpoints = newCheckpointer(&opts)
	out := r.exec(ctx, start)
	return r.result(out)
}

// initialVars merges workflow defaults and inputs into a fresh map.
func initialVars(defaults, inputs map[string]any) map[string]any {
	vars := make(map[string]any, len(defaults)+len(inputs)+4)
	maps.Copy(vars, defaults)
	maps.Copy(vars, inputs)
	normalizeVars(vars)
	return vars
}

// result turns the run's outcome into a Result and flushes the final
// checkpoint.
func (r *run) result(out outcome) Result {
	res := r.rawResult(out)
	res.StoreSecrets = r.shared.stored
	if !r.shared.redact.active() {
		return res
	}
	values := r.shared.redact.values(r.vars)
	res.Variables = r.shared.redact.vars(res.Variables, values)
	res.Error = redactText(res.Error, values)
	return res
}

func (r *run) rawResult(out outcome) Result {
	res := Result{Variables: r.vars, Checkpoint: r.shared.redact.checkpoint(r.snapshot(out.next), r.vars)}
	if r.checkpoints.pending > 0 && r.opts.OnCheckpoint != nil {
		r.opts.OnCheckpoint(res.Checkpoint)
	}
	switch {
	case out.err == nil:
		res.State = StateSucceeded
	case out.cancelled:
		res.State = StateCancelled
		res.Error = clip(out.err.Error(), maxMessageBytes)
	default:
		res.State = StateFailed
		res.Error = clip(out.err.Error(), maxMessageBytes)
		res.FailureKind = failureKind(out.err)
		res.FailedNode = out.node
	}
	return res
}

// Event is a progress or log event of a run.
type Event struct {
	Time time.Time `json:"time"`
	Kind EventKind `json:"kind"`
	// NodeID names the node; nodes of subworkflows are prefixed with the
	// calling node's id and a slash ("load/fetch").
	NodeID   string        `json:"node_id"`
	NodeType string        `json:"node_type"`
	Attempt  int           `json:"attempt,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Level    slog.Level    `json:"level"`
	Message  string        `json:"message,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventNodeStarted  EventKind = "node_started"
	EventNodeFinished EventKind = "node_finished"
	EventNodeFailed   EventKind = "node_failed"
	// EventNodeRetrying follows a failed attempt that will be retried;
	// Duration is the wait before the next attempt.
	EventNodeRetrying EventKind = "node_retrying"
	EventLog          EventKind = "log"
)
