//go:build unix

package cluster

import (
	"cmp"
	"context"
	"fmt"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
)

// deposedReadRounds is how many times TestDeposedLeaderServesNoStaleReads
// freezes a leader; each round is a fresh chance for a reply that was on
// the wire when the leader froze to be read after it wakes.
const deposedReadRounds = 12

// TestDeposedLeaderServesNoStaleReads freezes the leader while writes
// through it are in flight, lets the others elect a new leader and
// acknowledge a write, and then wakes the old leader with consistent
// reads already queued on its socket. Each of those reads began after the
// write was acknowledged, so each must see it or fail: the old leader may
// still believe it leads, and the followers' replies to its last
// heartbeats and appends, sent before it froze, wait unread on its
// connections. Those replies must not count as a confirmation of its
// leadership for a read that began after they were sent.
func TestDeposedLeaderServesNoStaleReads(t *testing.T) {
	c := startCluster(t, 3)
	ctx := t.Context()
	created, err := c.leader().client.CreateWorkflow(ctx, registerWrite(0, 0), client.IdempotencyKey("deposed-init"))
	if err != nil {
		t.Fatal(err)
	}
	id := created.WorkflowID
	for round := 1; round <= deposedReadRounds; round++ {
		old := c.leader()
		stopNoise := writeNoise(t, old, round)
		old.pause()
		pausedAt := time.Now()
		stopNoise()
		elected, took := c.waitNewLeader(old, pausedAt)
		if _, err := elected.client.CreateWorkflow(ctx, registerWrite(0, round), client.IdempotencyKey(fmt.Sprintf("deposed-%d", round))); err != nil {
			t.Fatalf("round %d: write through new leader %s: %v", round, elected.name, err)
		}
		t.Logf("round %d: %s frozen, %s elected after %v and acknowledged value %d", round, old.name, elected.name, took, round)
		reads := queueReads(t, old, id, 16, round)
		old.resume()
		wrong, served := reads()
		switch {
		case wrong != "":
			t.Errorf("round %d: %s", round, wrong)
		case served == 0:
			t.Errorf("round %d: %s served none of the queued consistent reads after waking", round, old.name)
		default:
			t.Logf("round %d: %s served %d of the queued consistent reads after waking, none stale", round, old.name, served)
		}
		c.waitReplicated()
	}
}

// writeNoise keeps writes flowing through n, so appends are in flight
// when it is frozen, until the returned func is called.
func writeNoise(t *testing.T, n *node, round int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	flowing := make(chan struct{})
	markFlowing := sync.OnceFunc(func() { close(flowing) })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("noise-%d-%d-%d", round, w, i)
				callCtx, cancelCall := context.WithTimeout(ctx, time.Second)
				_, err := n.client.CreateWorkflow(callCtx, registerWrite(1, 4*i+w), client.IdempotencyKey(key))
				cancelCall()
				if err == nil {
					markFlowing()
				}
			}
		})
	}
	stop = func() { cancel(); wg.Wait() }
	// Freeze n only once its writes are being acknowledged.
	select {
	case <-flowing:
	case <-time.After(settleTimeout):
		stop()
		t.Fatalf("no write through %s was acknowledged within %v", n.name, settleTimeout)
	}
	return stop
}

// queueReads sends count consistent reads of register 0's workflow to n
// and returns a func that waits for them. It describes the first read
// that saw a value older than want, or that does not decode, and counts
// the reads served.
func queueReads(t *testing.T, n *node, id string, count, want int) func() (wrong string, served int) {
	t.Helper()
	type result struct {
		served bool
		wrong  string
	}
	results := make(chan result, count)
	var written sync.WaitGroup
	written.Add(count)
	for range count {
		go func() {
			// The request is on n's socket once written: the kernel
			// accepts the connection and holds the bytes while n is
			// frozen.
			wrote := sync.OnceFunc(written.Done)
			defer wrote()
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote() }}
			callCtx, cancel := context.WithTimeout(httptrace.WithClientTrace(t.Context(), trace), 10*time.Second)
			defer cancel()
			wf, err := n.client.Workflow(callCtx, id, client.Consistent())
			if err != nil {
				results <- result{} // a failed read shows nothing stale
				return
			}
			value, err := registerValue(wf.Graph)
			switch {
			case err != nil:
				results <- result{served: true, wrong: fmt.Sprintf("%s answered a consistent read: %v", n.name, err)}
			case value < want:
				results <- result{served: true, wrong: fmt.Sprintf("%s answered a consistent read with value %d after %d was acknowledged", n.name, value, want)}
			default:
				results <- result{served: true}
			}
		}()
	}
	written.Wait()
	return func() (string, int) {
		wrong, served := "", 0
		for range count {
			r := <-results
			if r.served {
				served++
			}
			wrong = cmp.Or(wrong, r.wrong)
		}
		return wrong, served
	}
}
