package executor

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Run limits. Every run is bounded in time, steps, memory and data, so
// that no workflow can hang or kill the robot that runs it. The defaults
// suit RPA work (minutes of web and file work, lists of thousands of
// rows); a workflow may change the run timeout and step limit in its
// "limits" object, up to the caps below.
const (
	// DefaultRunTimeout bounds one attempt of a run when the workflow sets
	// no limits.timeout: long enough for a slow batch of browser work,
	// short enough that a stuck run frees its robot the same hour.
	DefaultRunTimeout = time.Hour
	// MaxRunTimeout caps limits.timeout: a job that needs more than a day
	// per attempt should be split into jobs.
	MaxRunTimeout = 24 * time.Hour
	// DefaultMaxSteps bounds node executions per attempt (loop iterations
	// included, subworkflows counted): a loop over 100,000 rows of ten
	// nodes fits, an endless loop does not run for the whole timeout.
	DefaultMaxSteps = 1_000_000
	// MaxMaxSteps caps limits.max_steps.
	MaxMaxSteps = 100_000_000

	// MaxRetries caps a node's retry.max: with the 5-minute backoff cap,
	// 20 retries already take over an hour and a half.
	MaxRetries = 20
	// MaxRetryBackoff caps retry.backoff and retry.max_backoff.
	MaxRetryBackoff = time.Hour
	// MaxNodeDuration caps a node's timeout and a delay node's duration:
	// neither may outlast the longest run.
	MaxNodeDuration = MaxRunTimeout
	// MaxLoopIterations caps while's max_iterations and the items of a
	// for_each: more iterations belong in several jobs, and each iteration
	// is at least one checkpointed step.
	MaxLoopIterations = 1_000_000
	// defaultWhileIterations is while's max_iterations when unset.
	defaultWhileIterations = 10_000

	// MaxVariableBytes caps one variable, measured as its JSON size.
	// Variables travel in every checkpoint through Raft and the robot
	// endpoints (16 MiB bodies), so big data belongs in files.
	MaxVariableBytes = 4 << 20
	// MaxVariablesBytes caps all variables a run sets, for the same reason.
	MaxVariablesBytes = 8 << 20
	// MaxFileReadBytes caps file_read: the content goes into a variable.
	MaxFileReadBytes = MaxVariableBytes
	// maxResponseBody caps an http_request response body, which goes into
	// a variable.
	maxResponseBody = MaxVariableBytes
	// maxShellOutput caps the stdout and stderr kept from one command;
	// both go into one output variable.
	maxShellOutput = MaxVariableBytes / 4
	// maxValueDepth caps the nesting of a variable: Go's JSON decoder
	// refuses more than 10,000 levels, and a checkpoint must decode again.
	maxValueDepth = 1000

	// maxMessageBytes caps a log line and a run's error message: both go
	// through Raft, which keeps the last 200 lines of every job.
	maxMessageBytes = 16 << 10

	// DefaultExpressionMemory is the memory one expression evaluation may
	// allocate, checked before each allocation that grows with its
	// inputs; enough to transform the largest variable several times.
	DefaultExpressionMemory = 64 << 20
	// DefaultExpressionTimeout bounds one evaluation even when the node
	// and run deadlines are far: a template is a formula, not a program.
	DefaultExpressionTimeout = 10 * time.Second
)

// Limits are a workflow's own run limits, from its "limits" object. Zero
// fields take the defaults; subworkflows run under their caller's limits.
type Limits struct {
	// Timeout bounds one attempt of a run, as a Go duration ("2h").
	Timeout string `json:"timeout,omitempty"`
	// MaxSteps bounds node executions per attempt.
	MaxSteps int64 `json:"max_steps,omitempty"`
}

// ErrLimit marks a run or node that hit one of its limits. Such a failure
// is a business failure: running it again on another robot hits the same
// limit.
var ErrLimit = errors.New("limit exceeded")

// LimitError names the limit that was hit.
type LimitError struct {
	// Limit names the limit as a user sets or reads it, for example
	// "limits.timeout" or "variable size".
	Limit  string
	Detail string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %s limit exceeded", e.Detail, e.Limit)
}

// Is makes errors.Is(err, ErrLimit) true for every LimitError.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// limitError returns a business failure naming the limit.
func limitError(limit, format string, args ...any) error {
	return &kindError{kind: FailureBusiness, err: &LimitError{Limit: limit, Detail: fmt.Sprintf(format, args...)}}
}

// runLimits are a plan's limits, resolved.
type runLimits struct {
	timeout  time.Duration
	maxSteps int64
}

// prepareLimits checks a workflow's limits against the caps.
func prepareLimits(l *Limits) (runLimits, []Problem) {
	out := runLimits{timeout: DefaultRunTimeout, maxSteps: DefaultMaxSteps}
	if l == nil {
		return out, nil
	}
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if l.Timeout != "" {
		d, err := parseDuration(l.Timeout)
		switch {
		case err != nil:
			add("limits.timeout", "%v", err)
		case d == 0:
			add("limits.timeout", "must be positive; leave it out for the default of %s", DefaultRunTimeout)
		case d > MaxRunTimeout:
			add("limits.timeout", "%s is above the cap of %s", d, MaxRunTimeout)
		default:
			out.timeout = d
		}
	}
	switch {
	case l.MaxSteps < 0:
		add("limits.max_steps", "must not be negative")
	case l.MaxSteps > MaxMaxSteps:
		add("limits.max_steps", "%d is above the cap of %d", l.MaxSteps, MaxMaxSteps)
	case l.MaxSteps > 0:
		out.maxSteps = l.MaxSteps
	}
	return out, problems
}

// capDuration adds a problem when d is above max.
func capDuration(problems []Problem, node, field string, d, max time.Duration) []Problem {
	if d > max {
		problems = append(problems, Problem{NodeID: node, Field: field, Message: fmt.Sprintf("%s is above the cap of %s", d, max)})
	}
	return problems
}

// clip cuts s to at most max bytes, at a character boundary, saying how
// much it cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… [%d more bytes cut]", s[:cut], len(s)-cut)
}
