package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

type submitOptions struct {
	mode     string
	priority int
	name     string
	wait     bool
	timeout  time.Duration
	job      jobOptions
}

// jobOptions are the options of the queued job beyond mode and priority.
type jobOptions struct {
	params      []string
	uniqueKey   string
	notBefore   string
	deadline    string
	maxAttempts int
	backoff     string
	tags        []string
	robot       string
}

// Polling of a job that --wait waits for: soon at first, for short jobs,
// then every few seconds.
const (
	firstPoll = 100 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// Exit codes of submit --wait.
const (
	exitJobFailed   = 1
	exitJobTimeout  = 2
	exitInterrupted = 130
)

func newSubmitCmd() *cobra.Command {
	var flags *clientFlags
	var opts submitOptions
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Store a workflow file in the cluster and queue a job for it",
		Long: "Store the workflow in FILE (a new version if its graph changed) and queue a\n" +
			"job for it, in one Raft entry. Parameters are given as --param key=value\n" +
			"(a string) or --param key:=JSON (a number, boolean, list or object).\n\n" +
			"With --wait, wait for the job to finish and print its outcome; the exit\n" +
			"status is 0 if it succeeded, 1 if it failed, died or was cancelled, and 2\n" +
			"if --timeout passed first (the job goes on in the cluster).\n\n" +
			"The request is JSON and limited to 1 MiB; casare workflows upload FILE takes\n" +
			"workflow files of up to 8 MiB.",
		Example: "  casare submit invoice.json --mode lan --priority 7 --param customer=acme --param retries:=3\n" +
			"  casare submit invoice.json --wait --timeout 10m\n" +
			"  casare submit invoice.json --unique-key inv-42 --not-before 10m --deadline 2030-01-02T15:00:00Z\n" +
			"  casare submit invoice.json --tag sap --tag eu --max-attempts 5 --backoff 30s\n" +
			"  casare submit invoice.json --robot vm-7",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			req, err := opts.request(args[0], cmd.Flags().Changed("priority"), cmd.Flags().Changed("max-attempts"), time.Now())
			if err != nil {
				return err
			}
			if err := checkRequestSize(args[0], req); err != nil {
				return err
			}
			c := newClient(cmd, flags.server)
			created, err := c.CreateWorkflow(cmd.Context(), req)
			if err != nil {
				return submitError(args[0], flags.server, err)
			}
			if !opts.wait {
				return printSubmitted(cmd.OutOrStdout(), flags, created, req.WorkflowName)
			}
			if !flags.json() {
				if err := printSubmitted(cmd.OutOrStdout(), flags, created, req.WorkflowName); err != nil {
					return err
				}
			}
			return waitAndReport(cmd, c, flags, created.JobID, opts.timeout)
		},
	}
	flags = addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.mode, "mode", "any", "which robots may run the job: lan, internet or any")
	f.IntVar(&opts.priority, "priority", 5, "job priority, 0 (lowest) to 9 (highest)")
	f.StringVar(&opts.name, "name", "", "workflow name (default: the file's name field, else the file name)")
	f.BoolVar(&opts.wait, "wait", false, "wait for the job to finish; the exit status says how it went")
	f.DurationVar(&opts.timeout, "timeout", 0, "with --wait, give up waiting after this long (0: no limit)")
	addJobFlags(cmd, &opts.job)
	return cmd
}

// addJobFlags registers the options of a queued job.
func addJobFlags(cmd *cobra.Command, j *jobOptions) {
	f := cmd.Flags()
	f.StringArrayVar(&j.params, "param", nil, "job parameter key=value (string) or key:=JSON; repeatable")
	f.StringVar(&j.uniqueKey, "unique-key", "", "a second submit with the same key returns the first job instead of queueing another")
	f.StringVar(&j.notBefore, "not-before", "", "run no earlier than this: an RFC 3339 time or a duration from now such as 10m")
	f.StringVar(&j.deadline, "deadline", "", "mark the job late after this: an RFC 3339 time or a duration from now such as 2h")
	f.IntVar(&j.maxAttempts, "max-attempts", consensus.DefaultMaxAttempts, "attempts before an application failure is final")
	f.StringVar(&j.backoff, "backoff", "", "first retry delay after an application failure, doubled each attempt (default 1s, at most 5m)")
	f.StringArrayVar(&j.tags, "tag", nil, "run only on a robot with this tag; repeatable (all must match)")
	f.StringVar(&j.robot, "robot", "", "run only on the robot of this name (pinned robot)")
}

// window reads --not-before and --deadline as the API's RFC 3339 times.
func (j jobOptions) window(now time.Time) (notBefore, deadline string, err error) {
	if notBefore, err = timeOrDelay("--not-before", j.notBefore, now); err != nil {
		return "", "", err
	}
	deadline, err = timeOrDelay("--deadline", j.deadline, now)
	return notBefore, deadline, err
}

// submitError explains a failed submit; a body over the JSON limit
// points to the upload, which takes larger files.
func submitError(file, server string, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code == "body_too_large" {
		return tooLargeError(file, ae.Message)
	}
	return callError("submit "+file, server, err)
}

// checkRequestSize refuses a request the API would refuse for its size
// before sending it: a server that stops reading a large body may close
// the connection before the client reads its answer.
func checkRequestSize(file string, req api.CreateWorkflowRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	if len(body) > api.DefaultMaxBodyBytes {
		return tooLargeError(file, fmt.Sprintf("the request is %d bytes", len(body)))
	}
	return nil
}

func tooLargeError(file, why string) error {
	return fmt.Errorf("submit %s: %s: the JSON API takes requests of up to %d MiB, uploads take workflow files of up to %d MiB:\n"+
		"  casare workflows upload %s --trigger manual   (it takes the same job flags as submit)", file, why, api.DefaultMaxBodyBytes>>20, api.DefaultMaxUploadBytes>>20, file)
}

func printSubmitted(w io.Writer, flags *clientFlags, created api.CreateWorkflowResponse, name string) error {
	if flags.json() {
		return printJSON(w, created)
	}
	tw := newTable(w)
	workflow := created.WorkflowID
	if name != "" {
		workflow += " (" + name + ")"
	}
	row(tw, "Workflow:", workflow)
	row(tw, "Version:", created.Version)
	if created.JobID != "" {
		row(tw, "Job:", created.JobID)
	}
	return tw.Flush()
}

// waitAndReport waits for the job to finish, prints its outcome and
// turns it into the exit status.
func waitAndReport(cmd *cobra.Command, c *client.Client, flags *clientFlags, jobID string, timeout time.Duration) error {
	ctx := cmd.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	job, err := waitForJob(ctx, c, jobID)
	switch {
	case err != nil && cmd.Context().Err() != nil:
		return exitError{code: exitInterrupted, msg: fmt.Sprintf("interrupted; job %s goes on in the cluster", jobID)}
	case err != nil && ctx.Err() != nil:
		return exitError{code: exitJobTimeout, msg: fmt.Sprintf("job %s is still %s after %s; it goes on in the cluster",
			jobID, cmp.Or(job.State, "unfinished"), timeout)}
	case err != nil:
		return callError("wait for job "+jobID, flags.server, err)
	}
	if err := printOutcome(cmd.OutOrStdout(), flags, job); err != nil {
		return err
	}
	if job.State != wire.JobSucceeded {
		return exitError{code: exitJobFailed, msg: fmt.Sprintf("job %s %s", job.ID, describeEnd(job.State, job.Error))}
	}
	return nil
}

// waitForJob polls the job, more slowly as time goes by, until it has
// finished. On failure it returns the job as last seen.
func waitForJob(ctx context.Context, c *client.Client, id string) (api.Job, error) {
	var job api.Job
	delay := firstPoll
	for {
		latest, err := c.Job(ctx, id)
		if err != nil {
			return job, err
		}
		job = latest
		if wire.JobTerminal(job.State) {
			return job, nil
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*3/2, maxPoll)
	}
}

func printOutcome(w io.Writer, flags *clientFlags, job api.Job) error {
	if flags.json() {
		return printJSON(w, job)
	}
	tw := newTable(w)
	row(tw, "State:", job.State)
	if job.Error != "" {
		row(tw, "Error:", strings.TrimSpace(job.FailureKind+" "+job.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if isAbsentJSON(job.Result) {
		return nil
	}
	var result bytes.Buffer
	if err := json.Indent(&result, job.Result, "  ", "  "); err != nil {
		return fmt.Errorf("format result: %w", err)
	}
	_, err := fmt.Fprintf(w, "Result:\n  %s\n", escapeText(result.String()))
	return err
}

func isAbsentJSON(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null"))
}

// request reads the workflow file and builds the create request.
func (o submitOptions) request(file string, prioritySet, maxAttemptsSet bool, now time.Time) (api.CreateWorkflowRequest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return api.CreateWorkflowRequest{}, fmt.Errorf("read workflow: %w", err)
	}
	var head struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return api.CreateWorkflowRequest{}, fmt.Errorf("%s is not a workflow JSON object: %w", file, describeJSONError(err))
	}
	params, err := parseParams(o.job.params)
	if err != nil {
		return api.CreateWorkflowRequest{}, err
	}
	base := filepath.Base(file)
	req := api.CreateWorkflowRequest{
		WorkflowName:  cmp.Or(o.name, head.Name, strings.TrimSuffix(base, filepath.Ext(base))),
		WorkflowJSON:  data,
		TriggerType:   "manual",
		ExecutionMode: o.mode,
		Params:        params,
	}
	if prioritySet {
		req.Priority = &o.priority
	}
	if maxAttemptsSet {
		req.MaxAttempts = &o.job.maxAttempts
	}
	j := o.job
	req.UniqueKey, req.Backoff, req.RobotTags, req.PinnedRobot = j.uniqueKey, j.backoff, j.tags, j.robot
	req.NotBefore, req.Deadline, err = j.window(now)
	return req, err
}

// timeOrDelay reads an RFC 3339 time or a duration from now, and gives
// the API its RFC 3339 form.
func timeOrDelay(flag, value string, now time.Time) (string, error) {
	if value == "" {
		return "", nil
	}
	if _, err := time.Parse(time.RFC3339Nano, value); err == nil {
		return value, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return "", fmt.Errorf("%s %q: want an RFC 3339 time such as 2030-01-02T15:04:05Z or a duration from now such as 10m", flag, value)
	}
	return now.Add(d).UTC().Format(time.RFC3339), nil
}

func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("invalid JSON at byte %d: %w", syntax.Offset, err)
	}
	return err
}

// parseParams turns key=value and key:=JSON pairs into a JSON object.
func parseParams(pairs []string) (json.RawMessage, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	params := make(map[string]json.RawMessage, len(pairs))
	for _, pair := range pairs {
		if key, raw, ok := strings.Cut(pair, ":="); ok && key != "" && !strings.Contains(key, "=") {
			if !json.Valid([]byte(raw)) {
				return nil, fmt.Errorf("--param %s: %q after := is not valid JSON", pair, raw)
			}
			params[key] = json.RawMessage(raw)
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--param %q: want key=value or key:=JSON", pair)
		}
		encoded, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("--param %s: %w", key, err)
		}
		params[key] = encoded
	}
	return json.Marshal(params)
}
