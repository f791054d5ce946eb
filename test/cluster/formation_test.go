//go:build unix

package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
)

const (
	// formationRuns is how often each start order is tried, each time
	// with fresh data dirs.
	formationRuns = 3
	// formationBound is how long three servers launched together may
	// take to elect a leader and make all three voters. Joiners retry
	// their seed with a backoff of up to 2 s, so a seed that starts late
	// costs a few seconds; anything near the joiners' 60 s give-up is a
	// failure to form.
	formationBound = 20 * time.Second
	// lateSeedDelay is how long after the joiners the seed starts in the
	// "seed last" order.
	lateSeedDelay = 1500 * time.Millisecond
)

// TestClusterFormsHoweverStarted launches three servers without waiting
// for each other — n1 `node start`, n2 and n3 `node join` n1's HTTP
// address — all at once, and with the joiners first and the seed
// 1.5 s later. Every time, within formationBound, one leader must be
// agreed on by all three and all three must be voters ("a three-server
// cluster that forms every time however its members are started"). Then
// all three are SIGKILLed and launched again the same way from their
// data dirs: the cluster must form again and keep an acknowledged write.
func TestClusterFormsHoweverStarted(t *testing.T) {
	orders := []struct {
		name      string
		seedDelay time.Duration
	}{
		{"together", 0},
		{"seed_last", lateSeedDelay},
	}
	for _, order := range orders {
		for run := 1; run <= formationRuns; run++ {
			t.Run(fmt.Sprintf("%s/%d", order.name, run), func(t *testing.T) {
				c := newCluster(t)
				seed := c.add("n1", []string{"node", "start"})
				c.setSeed(seed)
				joiners := []*node{
					c.add("n2", c.joinCmd()),
					c.add("n3", c.joinCmd()),
				}
				launch := func() time.Time {
					at := time.Now()
					if order.seedDelay == 0 {
						seed.start()
					}
					for _, n := range joiners {
						n.start()
					}
					if order.seedDelay > 0 {
						time.Sleep(order.seedDelay)
						seed.start()
					}
					return at
				}
				took := waitFormed(t, c, launch())
				leader := c.leader()
				t.Logf("first boot: leader %s agreed by all, three voters, %v after launch", leader.name, took.Round(time.Millisecond))

				// The same command lines, in the same order, must bring the
				// whole cluster back after every member crashed, with what
				// it had acknowledged.
				const probe = "formation-probe"
				wf, err := leader.client.CreateWorkflow(t.Context(), noneTrigger(probe))
				if err != nil {
					t.Fatalf("write through %s: %v", leader.name, err)
				}
				for _, n := range c.all() {
					n.kill()
				}
				took = waitFormed(t, c, launch())
				leader = c.leader()
				t.Logf("restart of all three: leader %s agreed by all, three voters, %v after launch", leader.name, took.Round(time.Millisecond))
				got, err := leader.client.Workflow(t.Context(), wf.WorkflowID, client.Consistent())
				if err != nil || got.Name != probe {
					t.Errorf("after the restart, workflow %s written before the crash: %+v, %v", wf.WorkflowID, got.WorkflowSummary, err)
				}
			})
		}
	}
}

// waitFormed waits until every node names the same leader and the
// leader's configuration holds the three nodes as voters, and returns
// how long after launched that was first seen. A node that exits fails
// the test at once.
func waitFormed(t *testing.T, c *cluster, launched time.Time) time.Duration {
	t.Helper()
	deadline := launched.Add(formationBound)
	var last string
	for time.Now().Before(deadline) {
		for _, n := range c.all() {
			if !n.running() {
				t.Fatalf("%s exited while the cluster formed; its log:\n%s", n.name, n.logTail())
			}
		}
		ok, why := formed(t, c)
		if ok {
			return time.Since(launched)
		}
		last = why
		time.Sleep(pollInterval)
	}
	t.Fatalf("no cluster of three voters within %v of launch: %s", formationBound, last)
	return 0
}

func formed(t *testing.T, c *cluster) (bool, string) {
	leaderName, err := agreedLeader(t.Context(), c.all())
	if err != nil {
		return false, err.Error()
	}
	idx := slices.IndexFunc(c.all(), func(n *node) bool { return n.name == leaderName })
	if idx < 0 {
		return false, fmt.Sprintf("the agreed leader %q is none of the nodes", leaderName)
	}
	srvs, err := servers(t, c.all()[idx])
	if err != nil {
		return false, err.Error()
	}
	names := map[string]bool{}
	for _, s := range srvs {
		if s.Voter {
			names[s.Name] = true
		}
	}
	if len(srvs) != 3 || !names["n1"] || !names["n2"] || !names["n3"] {
		return false, fmt.Sprintf("leader %s's configuration: %s", leaderName, describeServers(srvs))
	}
	return true, ""
}
