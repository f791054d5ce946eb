package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/client"
)

// Commands take a workflow by id, by name or by a unique prefix of its
// id, and jobs and schedules by id or unique id prefix. The CLI resolves
// them through the API rather than the API accepting them itself: a REST
// URL keeps one meaning (an id is an id, so a script never hits a
// workflow that happens to be named like another's id), while a person
// at a terminal gets names and short ids. The cost is one list request
// when the argument is not a full id; for jobs the list is paged, and
// only read when the exact lookup misses.

// fullIDLen is the length of the ids the cluster makes (UUIDs). An
// argument that long is taken as a whole id and never as a prefix, so a
// lookup of a job that does not exist costs no list, and the jobs of a
// deleted workflow can still be listed by its id.
const fullIDLen = 36

// resolveError says that an argument names no record or more than one.
type resolveError struct{ msg string }

func (e *resolveError) Error() string { return e.msg }

// candidate is one record an argument may name.
type candidate struct {
	id, label string
}

// resolveWorkflow turns a workflow id, name or unique id prefix into its
// id.
func resolveWorkflow(ctx context.Context, c *client.Client, arg string) (string, error) {
	list, err := c.Workflows(ctx)
	if err != nil {
		return "", err
	}
	var all []candidate
	for _, wf := range list.Workflows {
		if wf.ID == arg || wf.Name == arg {
			return wf.ID, nil
		}
		all = append(all, candidate{id: wf.ID, label: wf.Name})
	}
	if len(arg) == fullIDLen {
		return arg, nil
	}
	return pickByPrefix("workflow", "id, name or id prefix", arg, all)
}

// resolveSchedule turns a schedule id or unique id prefix into its id.
func resolveSchedule(ctx context.Context, c *client.Client, arg string) (string, error) {
	list, err := c.Schedules(ctx, "")
	if err != nil {
		return "", err
	}
	var all []candidate
	for _, sc := range list.Schedules {
		if sc.ID == arg {
			return sc.ID, nil
		}
		all = append(all, candidate{id: sc.ID, label: sc.Cron})
	}
	return pickByPrefix("schedule", "id or id prefix", arg, all)
}

// resolveJob turns a job id or unique id prefix into its id. A full id
// costs one request; a prefix pages through the job list.
func resolveJob(ctx context.Context, c *client.Client, arg string) (string, error) {
	job, err := c.Job(ctx, arg)
	if err == nil {
		return job.ID, nil
	}
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || len(arg) >= fullIDLen {
		return "", err
	}
	var matches []candidate
	query := client.JobQuery{Limit: logPage}
	for {
		page, err := c.Jobs(ctx, query)
		if err != nil {
			return "", err
		}
		for _, j := range page.Jobs {
			if strings.HasPrefix(j.ID, arg) {
				matches = append(matches, candidate{id: j.ID, label: j.State})
			}
		}
		if page.NextCursor == nil {
			break
		}
		query.Cursor = *page.NextCursor
	}
	return pickByPrefix("job", "id or id prefix", arg, matches)
}

// maxCandidates is how many matches an ambiguity error lists: enough to
// pick from, few enough to read.
const maxCandidates = 10

// pickByPrefix returns the one candidate whose id starts with arg.
func pickByPrefix(kind, accepted, arg string, all []candidate) (string, error) {
	var matches []candidate
	for _, c := range all {
		if arg != "" && strings.HasPrefix(c.id, arg) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0].id, nil
	case 0:
		return "", &resolveError{fmt.Sprintf("no %s has the %s %q", kind, accepted, arg)}
	}
	lines := make([]string, 0, min(len(matches), maxCandidates))
	for _, m := range matches[:min(len(matches), maxCandidates)] {
		lines = append(lines, fmt.Sprintf("  %s  %s", m.id, m.label))
	}
	more := ""
	if len(matches) > maxCandidates {
		more = fmt.Sprintf("\n  … and %d more", len(matches)-maxCandidates)
	}
	return "", &resolveError{fmt.Sprintf("%q is ambiguous: it begins the ids of %d %ss; give more of the id:\n%s%s",
		arg, len(matches), kind, strings.Join(lines, "\n"), more)}
}

// resolved runs resolve and reports its failure as the action's error,
// so a command needs one line per argument.
func resolved(ctx context.Context, c *client.Client, server, action, arg string,
	resolve func(context.Context, *client.Client, string) (string, error)) (string, error) {
	id, err := resolve(ctx, c, arg)
	var re *resolveError
	switch {
	case errors.As(err, &re):
		return "", fmt.Errorf("%s: %w", action, err)
	case err != nil:
		return "", callError(action, server, err)
	}
	return id, nil
}

// idCmd completes cmd (its Use, Short and Long set) as a command on one
// object: it resolves the one argument, runs do on what it names and
// prints the result as a table or, with --output json, as JSON. action
// names the call in errors ("get job").
func idCmd[T any](cmd *cobra.Command, action string,
	resolve func(context.Context, *client.Client, string) (string, error),
	do func(ctx context.Context, c *client.Client, id string) (T, error),
	print func(io.Writer, T) error) *cobra.Command {
	flags := addClientFlags(cmd)
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := flags.check(); err != nil {
			return err
		}
		c := newClient(cmd, flags.server)
		id, err := resolved(cmd.Context(), c, flags.server, action, args[0], resolve)
		if err != nil {
			return err
		}
		v, err := do(cmd.Context(), c, id)
		if err != nil {
			return callError(action, flags.server, err)
		}
		if flags.json() {
			return printJSON(cmd.OutOrStdout(), v)
		}
		return print(cmd.OutOrStdout(), v)
	}
	return cmd
}

// get adapts a client method that fetches one object by id to idCmd.
func get[T any](fetch func(*client.Client, context.Context, string, ...client.CallOption) (T, error)) func(context.Context, *client.Client, string) (T, error) {
	return func(ctx context.Context, c *client.Client, id string) (T, error) { return fetch(c, ctx, id) }
}
