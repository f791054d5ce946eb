package api

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/casare/casare/consensus"
)

// An entry's finished jobs are counted by workflow and outcome whatever
// order they come in, each with its run duration.
func TestJobMetricsCountEveryFinishedJobOfAnEntry(t *testing.T) {
	m := newJobMetrics(prometheus.NewRegistry())
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	done := func(wf string, to consensus.JobState) consensus.Change {
		return consensus.Change{Kind: consensus.ChangeJob, WorkflowName: wf, From: consensus.JobRunning, To: to,
			Time: at, StartedAt: at.Add(-time.Second), FinishedAt: at}
	}
	m.Applied(consensus.Applied{Index: 1, Changes: []consensus.Change{
		done("a", consensus.JobSucceeded), done("a", consensus.JobSucceeded), done("a", consensus.JobSucceeded),
		done("a", consensus.JobFailed), done("b", consensus.JobSucceeded),
		{Kind: consensus.ChangeProgress, WorkflowName: "a"},
		done("b", consensus.JobSucceeded), done("a", consensus.JobSucceeded),
	}})
	for _, c := range []struct {
		wf, outcome string
		want        float64
	}{{"a", "succeeded", 4}, {"a", "failed", 1}, {"b", "succeeded", 2}} {
		var got dto.Metric
		if err := m.finished.WithLabelValues(c.wf, c.outcome).Write(&got); err != nil || got.GetCounter().GetValue() != c.want {
			t.Errorf("finished %s %s = %v (%v), want %v", c.wf, c.outcome, got.GetCounter().GetValue(), err, c.want)
		}
	}
	for outcome, want := range map[string]uint64{"succeeded": 6, "failed": 1} {
		var got dto.Metric
		if err := m.duration.WithLabelValues(outcome).(prometheus.Metric).Write(&got); err != nil || got.GetHistogram().GetSampleCount() != want {
			t.Errorf("%s durations: %d (%v), want %d", outcome, got.GetHistogram().GetSampleCount(), err, want)
		}
	}
}
