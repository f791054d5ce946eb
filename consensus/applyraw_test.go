package consensus

import (
	"context"
	"testing"
	"time"
)

// TestApplyRawRefusesEntriesNoNodeCanApply: a forwarded envelope whose
// type this leader does not know (a newer follower during an upgrade, or
// anything else that reaches the internal endpoint), or whose payload does
// not decode as its type, is refused with CodeInvalid before it reaches
// the log. Once committed, such an entry stops every node that applies
// it, on every restart, because it stays in the log.
func TestApplyRawRefusesEntriesNoNodeCanApply(t *testing.T) {
	c := startCluster(t, 1)
	leader := c.waitLeader(5 * time.Second)
	bad := map[string][]byte{
		"unknown type":          append([]byte{200}, make([]byte, headerLen-1+2)...),
		"payload not JSON":      append(append([]byte{byte(cmdReportCrash)}, make([]byte, headerLen-1)...), "not json"...),
		"payload of wrong type": append(append([]byte{byte(cmdReportCrash)}, make([]byte, headerLen-1)...), `{"robot_id": 5}`...),
	}
	for name, buf := range bad {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := leader.ApplyRaw(ctx, buf)
		cancel()
		if !IsCode(err, CodeInvalid) {
			t.Errorf("%s: ApplyRaw = %v, want code %s", name, err, CodeInvalid)
		}
	}
	// The node still applies good entries.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := leader.ReportCrash(ctx, CrashCmd{RobotID: "r1", Items: []Crash{{JobID: "nope", Token: 1, Attempt: 1}}}); err != nil {
		t.Fatalf("a good entry after the refused ones: %v", err)
	}
}
