package consensus

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A follower's write is timed where it spends its time: the follower's
// forward, the leader's commit and the leader's log write. A follower
// commits nothing itself, so its commit histogram stays as it was.
func TestWritesAreTimedWhereTheyWait(t *testing.T) {
	ctx, leader, f := clusterWithWorkflow(t)
	before := map[string]uint64{
		"follower forward": observations(t, f.timings.forward),
		"follower commit":  observations(t, f.timings.commit),
		"leader commit":    observations(t, leader.timings.commit),
		"leader log write": observations(t, leader.timings.logWrite),
	}
	if _, err := f.SubmitJobs(ctx, []JobSpec{{ID: "timed", WorkflowID: "w1", ExecutionMode: ModeLAN}}); err != nil {
		t.Fatal(err)
	}
	after := map[string]uint64{
		"follower forward": observations(t, f.timings.forward),
		"follower commit":  observations(t, f.timings.commit),
		"leader commit":    observations(t, leader.timings.commit),
		"leader log write": observations(t, leader.timings.logWrite),
	}
	for name, grew := range map[string]bool{"follower forward": true, "leader commit": true, "leader log write": true, "follower commit": false} {
		if got := after[name] > before[name]; got != grew {
			t.Errorf("%s: %d observations before the submit, %d after", name, before[name], after[name])
		}
	}
}

func observations(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
