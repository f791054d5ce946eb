package consensus

import (
	"slices"
	"testing"
)

// report applies one robot report entry (command 61) with a heartbeat of
// lines [first, first+n) numbered by logsEnd.
func (h *fsmHarness) report(robot string, c ClaimedJob, first, n, logsEnd int) Ack {
	h.t.Helper()
	p := Progress{JobID: c.Job.ID, Token: c.Job.Lease.Token, Logs: logLines(first, n), LogsEnd: logsEnd}
	parts := h.mustApply(cmdRobotReports, RobotReportsCmd{Reports: []RobotReport{
		{Progress: &ProgressCmd{RobotID: robot, Items: []Progress{p}}},
	}}).([]Part[[]Ack])
	if len(parts) != 1 || len(parts[0].Value) != 1 {
		h.t.Fatalf("report answered %+v", parts)
	}
	return parts[0].Value[0]
}

// messages returns the messages of the lines the job keeps.
func (h *fsmHarness) messages(id string) []string {
	var out []string
	for _, l := range h.f.state.jobs[id].Logs {
		out = append(out, l.Message)
	}
	return out
}

func wantMessages(first, n int) []string {
	var out []string
	for _, l := range logLines(first, n) {
		out = append(out, l.Message)
	}
	return out
}

// TestAResentReportRecordsItsLinesOnce: a robot that did not learn the
// outcome of a heartbeat that committed sends its lines again, with the
// same numbers, ahead of its new ones; the job holds each line once.
func TestAResentReportRecordsItsLinesOnce(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.report("r1", c, 0, 3, 3)
	h.report("r1", c, 0, 3, 3) // the same report again
	if got := h.messages("j1"); !slices.Equal(got, wantMessages(0, 3)) {
		t.Fatalf("after the same report twice: %q, want lines 0-2 once", got)
	}
	h.report("r1", c, 0, 5, 5) // put back and sent with two new lines
	if got := h.messages("j1"); !slices.Equal(got, wantMessages(0, 5)) {
		t.Fatalf("after a resend with new lines: %q, want lines 0-4 once", got)
	}
	// The completion carries lines a heartbeat already recorded, too.
	ack := h.complete("r1", Completion{JobID: "j1", Token: c.Job.Lease.Token, Succeeded: true, Logs: logLines(3, 4), LogsEnd: 7})
	if !ack.OK {
		t.Fatalf("completion refused: %+v", ack)
	}
	if got := h.messages("j1"); !slices.Equal(got, wantMessages(0, 7)) {
		t.Fatalf("after the completion: %q, want lines 0-6 once", got)
	}
}

// TestResentLinesAreRecognisedPastTheLogWindow: the lease counts lines
// in the robot's numbering, so a job whose log was cut to its window
// (LogsDropped) still knows which lines it had; the count survives a
// snapshot.
func TestResentLinesAreRecognisedPastTheLogWindow(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.report("r1", c, 0, 3*MaxJobLogLines, 3*MaxJobLogLines)
	restored := restoreHarness(t, h)
	restored.report("r1", c, 3*MaxJobLogLines-10, 20, 3*MaxJobLogLines+10)
	first, kept := restored.logJob("j1")
	if first+kept != 3*MaxJobLogLines+10 || kept != MaxJobLogLines {
		t.Fatalf("kept lines %d.. (%d), want the newest %d of %d", first, kept, MaxJobLogLines, 3*MaxJobLogLines+10)
	}
	if got := restored.messages("j1"); !slices.Equal(got, wantMessages(2*MaxJobLogLines+10, MaxJobLogLines)) {
		t.Fatalf("the window holds %q.. %q, want each line once", got[0], got[len(got)-1])
	}
}

// TestUnnumberedReportsRecordEveryLine: a robot or node that predates
// LogsEnd sends none, and its lines are all recorded, as before.
func TestUnnumberedReportsRecordEveryLine(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.report("r1", c, 0, 2, 0)
	h.report("r1", c, 0, 2, 0)
	if got, want := h.messages("j1"), append(wantMessages(0, 2), wantMessages(0, 2)...); !slices.Equal(got, want) {
		t.Fatalf("unnumbered reports: %q, want %q", got, want)
	}
}

// TestNumberingFollowsTheLease: a report that skips numbers (lines that
// went through an older node, unnumbered) is recorded whole, and each
// new lease numbers its robot's lines from 0 again.
func TestNumberingFollowsTheLease(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.report("r1", c, 0, 2, 0) // through an older node
	h.report("r1", c, 2, 2, 4) // lines 2-3 numbered
	h.report("r1", c, 2, 2, 4) // resent
	h.complete("r1", Completion{JobID: "j1", Token: c.Job.Lease.Token, Error: "boom", FailureKind: FailureApplication})
	h.advance(MaxBackoff)
	c2 := h.claim("r2", 1)[0]
	h.report("r2", c2, 0, 2, 2)
	if got, want := h.messages("j1"), append(wantMessages(0, 4), wantMessages(0, 2)...); !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

// TestALogsEndShorterThanItsLinesIsRefused: a numbering that cannot hold
// the report's lines is bad input, refused before Raft.
func TestALogsEndShorterThanItsLinesIsRefused(t *testing.T) {
	err := checkLogsEnd([]Progress{{JobID: "j1", Logs: logLines(0, 3), LogsEnd: 2}}, progressLogs)
	if !IsCode(err, CodeInvalid) {
		t.Fatalf("logs_end 2 for 3 lines: %v, want %s", err, CodeInvalid)
	}
	ok := []Completion{{JobID: "j1", Logs: logLines(0, 3), LogsEnd: 3}, {JobID: "j2", Logs: logLines(0, 3)}}
	if err := checkLogsEnd(ok, completionLogs); err != nil {
		t.Fatalf("numbered and unnumbered completions: %v", err)
	}
}
