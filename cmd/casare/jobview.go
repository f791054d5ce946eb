package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/casare/casare/api"
)

// shownLogLines is how many of the newest log lines jobs get prints:
// enough to see how a job ended, short enough to keep the summary on
// one screen; jobs logs prints all the cluster keeps.
const shownLogLines = 10

// printJob shows one job for people: the summary table, why it waits,
// its attempts, then its checkpoint and newest log lines.
func printJob(w io.Writer, j api.Job) error {
	tw := newTable(w)
	row(tw, "ID:", j.ID)
	row(tw, "Workflow:", fmt.Sprintf("%s (version %d)", j.WorkflowID, j.WorkflowVersion))
	state := j.State
	if j.Late {
		state += " (late)"
	}
	row(tw, "State:", state)
	if j.WaitingReason != "" {
		row(tw, "Waiting:", j.WaitingReason)
	}
	row(tw, "Priority:", j.Priority)
	row(tw, "Mode:", j.ExecutionMode)
	row(tw, "Attempt:", fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts))
	row(tw, "Robot:", orDash(j.RobotID))
	optional := [][2]string{
		{"Pinned robot:", j.PinnedRobot}, {"Robot tags:", strings.Join(j.RobotTags, ",")},
	}
	printOptional(tw, optional)
	row(tw, "Params:", string(j.Params))
	if j.Error != "" {
		row(tw, "Error:", strings.TrimSpace(j.FailureKind+" "+j.Error))
	}
	if len(j.Result) > 0 {
		row(tw, "Result:", string(j.Result))
	}
	optional = [][2]string{
		{"Deadline:", formatOptionalTime(j.Deadline)}, {"Not before:", formatOptionalTime(j.NotBefore)},
		{"Schedule:", j.ScheduleID}, {"Re-run of:", j.RerunOf}, {"Unique key:", j.UniqueKey}, {"Backoff:", j.Backoff},
	}
	printOptional(tw, optional)
	row(tw, "Created:", formatTime(j.CreatedAt))
	row(tw, "Updated:", formatTime(j.UpdatedAt))
	row(tw, "Finished:", formatTime(j.FinishedAt))
	for _, a := range j.Attempts {
		row(tw, fmt.Sprintf("Attempt %d:", a.Attempt), describeAttempt(a))
	}
	if len(j.NodeStatus) > 0 {
		row(tw, "Nodes:", describeNodeStatus(j.NodeStatus))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printCheckpoint(w, j.Checkpoint); err != nil {
		return err
	}
	return printLastLogs(w, j)
}

func printOptional(tw io.Writer, fields [][2]string) {
	for _, f := range fields {
		if f[1] != "" {
			row(tw, f[0], f[1])
		}
	}
}

// describeAttempt says how an attempt went, where and when: "cancelled:
// wrong invoice on vm, 10:00:01 to 10:00:07".
func describeAttempt(a api.JobAttempt) string {
	outcome := cmp.Or(a.Outcome, "running")
	if a.Error != "" {
		outcome += ": " + a.Error
	}
	when := "since " + formatTime(a.StartedAt)
	if !a.FinishedAt.IsZero() {
		when = fmt.Sprintf("%s to %s", formatTime(a.StartedAt), formatTime(a.FinishedAt))
	}
	return fmt.Sprintf("%s on %s, %s", outcome, a.RobotID, when)
}

// describeNodeStatus lists the current attempt's node states by node id:
// "say succeeded, wait running".
func describeNodeStatus(status map[string]string) string {
	parts := make([]string, 0, len(status))
	for _, id := range slices.Sorted(maps.Keys(status)) {
		parts = append(parts, id+" "+status[id])
	}
	return strings.Join(parts, ", ")
}

// formatOptionalTime renders a timestamp that is usually absent as "".
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func printCheckpoint(w io.Writer, checkpoint json.RawMessage) error {
	if isAbsentJSON(checkpoint) {
		return nil
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, checkpoint, "  ", "  "); err != nil {
		return fmt.Errorf("format checkpoint: %w", err)
	}
	_, err := fmt.Fprintf(w, "Checkpoint:\n  %s\n", escapeText(indented.String()))
	return err
}

func printLastLogs(w io.Writer, j api.Job) error {
	if len(j.LastLogs) == 0 {
		return nil
	}
	lines := j.LastLogs[max(0, len(j.LastLogs)-shownLogLines):]
	header := "Last log lines:"
	if hidden := len(j.LastLogs) - len(lines); hidden > 0 {
		header = fmt.Sprintf("Last log lines (%d earlier: casare jobs logs %s):", hidden, escapeCell(j.ID))
	}
	if _, err := fmt.Fprintln(w, header); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := io.WriteString(w, "  "); err != nil {
			return err
		}
		if err := printLogLine(w, l); err != nil {
			return err
		}
	}
	return nil
}
