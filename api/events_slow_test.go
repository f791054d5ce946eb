package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// A client that reads slower than events arrive is dropped with the
// index to resume from, and resuming there works; a fast client on the
// same node keeps up the whole time. The load is node progress of 200
// running jobs with 100-node workflows: a few MiB a second, enough to
// fill the buffers of a connection its client stopped reading.
func TestEventStreamDropsSlowClientWithResumeIndex(t *testing.T) {
	t.Parallel()
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.EventBuffer = 8192
		// The stalled client starts reading after the load; until then
		// the node's write to it must not time out, which would close
		// its connection without telling it anything.
		c.EventWriteTimeout = 5 * time.Minute
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	wf := createWorkflow(t, node)
	ids := submitN(t, node, wf, "job", 200)
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: len(ids)})
	if err != nil || len(claimed) != len(ids) {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	slow := dialSmallWindow(t, node, "")
	fast := dialEvents(t, node, "")
	if f, err := slow.next(t, 10*time.Second); err != nil || f.Type != api.FrameHello {
		t.Fatalf("slow hello: %+v, %v", f, err)
	}
	const steps = 80
	final := fmt.Sprintf("step-%02d", steps-1)
	fastSeen := map[string]bool{}
	fastDone := make(chan error, 1)
	go func() {
		for {
			f, err := fast.next(t, 30*time.Second)
			if err != nil {
				fastDone <- err
				return
			}
			if f.Type == api.FrameDropped || f.Type == api.FrameReload {
				fastDone <- fmt.Errorf("fast client got %s: %s", f.Type, f.Message)
				return
			}
			for _, e := range f.Events {
				if e.Type == api.EventProgress && e.NodeStatus["n099"] == final {
					fastSeen[e.JobID] = true
				}
			}
			if len(fastSeen) == len(ids) {
				fastDone <- nil
				return
			}
		}
	}()
	for step := range steps {
		cmd := consensus.ProgressCmd{RobotID: "r1"}
		for _, c := range claimed {
			status := map[string]string{}
			for n := range 100 {
				status[fmt.Sprintf("n%03d", n)] = fmt.Sprintf("step-%02d", step)
			}
			cmd.Items = append(cmd.Items, consensus.Progress{JobID: c.Job.ID, Token: c.Job.Lease.Token, NodeStatus: status})
		}
		if _, err := node.Store.Progress(t.Context(), cmd); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // pace the load like a robot's ticks, not to synchronise
	}
	if err := <-fastDone; err != nil {
		t.Fatalf("fast client: %v", err)
	}
	// The slow client stalled through the whole load: the node's write
	// to it blocked while the events it had not been sent piled up past
	// the lag limit. Now it reads: the blocked write finishes, and the
	// next frame it is sent is the drop.
	var dropped api.EventFrame
	for dropped.Type != api.FrameDropped {
		var err error
		if dropped, err = slow.next(t, 30*time.Second); err != nil {
			t.Fatalf("slow client: %v before a dropped frame", err)
		}
	}
	if dropped.Resume == 0 || !strings.Contains(dropped.Message, fmt.Sprintf("since=%d", dropped.Resume)) {
		t.Fatalf("dropped frame %+v: want a resume index named in the message", dropped)
	}
	if _, err := slow.next(t, 10*time.Second); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Errorf("after the dropped frame: %v, want close 1013 (try again later)", err)
	}
	again := dialEvents(t, node, fmt.Sprintf("?since=%d", dropped.Resume))
	resumed := map[string]bool{}
	apitest.WaitFor(t, 20*time.Second, "the resumed client to see every job's last step", func() bool {
		f, err := again.next(t, 20*time.Second)
		if err != nil || f.Type == api.FrameReload || f.Type == api.FrameDropped {
			t.Fatalf("resumed stream: %+v, %v", f, err)
		}
		for _, e := range f.Events {
			if e.Type == api.EventProgress && e.NodeStatus["n099"] == final {
				resumed[e.JobID] = true
			}
		}
		return len(resumed) == len(ids)
	})
	metrics := get(t, node.URL+"/metrics")
	if !strings.Contains(string(metrics.body), "casare_event_stream_drops_total 1") {
		t.Errorf("metrics do not count one drop:\n%s", grepLines(string(metrics.body), "casare_event_stream"))
	}
}
