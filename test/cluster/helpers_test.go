//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/internal/proctest"

	"github.com/casare/casare/internal/testutil"
	"github.com/casare/casare/node/peer"
	"github.com/casare/casare/pki"
)

// waitFor polls cond until it holds, failing the test with what and
// cond's last error once timeout has passed.
var waitFor = testutil.Eventually

// agreedLeader asks every node in nodes who leads and returns the name
// they all give, provided each also knows the leader's API address.
func agreedLeader(ctx context.Context, nodes []*node) (string, error) {
	leader := ""
	for _, n := range nodes {
		cl, err := n.client.Cluster(ctx)
		switch {
		case err != nil:
			return "", fmt.Errorf("%s: %w", n.name, err)
		case cl.Leader == nil || cl.Leader.HTTPAddr == "":
			return "", fmt.Errorf("%s knows no leader", n.name)
		case leader != "" && cl.Leader.Name != leader:
			return "", fmt.Errorf("%s names %s, another node names %s", n.name, cl.Leader.Name, leader)
		}
		leader = cl.Leader.Name
	}
	return leader, nil
}

// leader waits until every running node names the same running leader
// and returns it.
func (c *cluster) leader() *node {
	c.tb.Helper()
	var leader *node
	waitFor(c.tb, settleTimeout, "a leader all running nodes agree on", func() (bool, error) {
		name, err := agreedLeader(c.tb.Context(), c.running())
		if err != nil {
			return false, err
		}
		for _, n := range c.running() {
			if n.name == name {
				leader = n
				return true, nil
			}
		}
		return false, fmt.Errorf("the agreed leader %s is not running", name)
	})
	return leader
}

// follower returns a running node other than the leader.
func (c *cluster) follower() *node {
	c.tb.Helper()
	others := c.others(c.leader())
	if len(others) == 0 {
		c.tb.Fatal("no follower is running")
	}
	return others[0]
}

// waitNewLeader polls the survivors until all of them name one leader
// other than old, and returns it with the time since killedAt.
func (c *cluster) waitNewLeader(old *node, killedAt time.Time) (*node, time.Duration) {
	c.tb.Helper()
	survivors := c.others(old)
	const fastPoll = 10 * time.Millisecond
	deadline := killedAt.Add(settleTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(c.tb.Context(), time.Second)
		name, err := agreedLeader(ctx, survivors)
		cancel()
		if err == nil && name != old.name {
			elapsed := time.Since(killedAt)
			for _, n := range survivors {
				if n.name == name {
					return n, elapsed
				}
			}
			lastErr = fmt.Errorf("survivors name %s, which is not a survivor", name)
		} else if err != nil {
			lastErr = err
		} else {
			lastErr = fmt.Errorf("survivors still name the old leader %s", name)
		}
		time.Sleep(fastPoll)
	}
	c.tb.Fatalf("no new leader within %v of killing %s (last: %v)", settleTimeout, old.name, lastErr)
	return nil, 0
}

// servers returns the Raft configuration as node n sees it.
func servers(tb testing.TB, n *node) ([]api.ClusterServer, error) {
	cl, err := n.client.Cluster(tb.Context())
	return cl.Servers, err
}

// waitServers waits until the leader's configuration has want servers.
func (c *cluster) waitServers(want int) {
	c.tb.Helper()
	waitFor(c.tb, settleTimeout, fmt.Sprintf("%d servers in the Raft configuration", want), func() (bool, error) {
		srvs, err := servers(c.tb, c.leader())
		if err != nil {
			return false, err
		}
		return len(srvs) == want, fmt.Errorf("configuration: %s", describeServers(srvs))
	})
}

func describeServers(srvs []api.ClusterServer) string {
	var parts []string
	for _, s := range srvs {
		role := "non-voter"
		if s.Voter {
			role = "voter"
		}
		parts = append(parts, fmt.Sprintf("%s(%s alive=%v leader=%v)", s.Name, role, s.Alive, s.Leader))
	}
	return strings.Join(parts, ", ")
}

// appliedIndex returns the Raft index node n has applied.
func appliedIndex(tb testing.TB, n *node) (uint64, error) {
	cl, err := n.client.Cluster(tb.Context())
	return cl.AppliedIndex, err
}

// waitReplicated makes a write through the leader and waits until every
// running node has applied it: proof that restarted nodes replicate
// again and hold everything acknowledged before the call.
func (c *cluster) waitReplicated() {
	c.tb.Helper()
	leader := c.leader()
	name := fmt.Sprintf("replication-probe-%d", time.Now().UnixNano())
	if _, err := leader.client.CreateWorkflow(c.tb.Context(), api.CreateWorkflowRequest{
		WorkflowName: name, WorkflowJSON: workflowJSON(name, nil), TriggerType: "none",
	}, client.IdempotencyKey(name)); err != nil {
		c.tb.Fatalf("probe write through leader %s: %v", leader.name, err)
	}
	target, err := appliedIndex(c.tb, leader)
	if err != nil {
		c.tb.Fatalf("applied index of leader %s: %v", leader.name, err)
	}
	for _, n := range c.running() {
		waitFor(c.tb, settleTimeout, fmt.Sprintf("%s to apply index %d", n.name, target), func() (bool, error) {
			idx, err := appliedIndex(c.tb, n)
			if err != nil {
				return false, err
			}
			return idx >= target, fmt.Errorf("%s applied %d", n.name, idx)
		})
	}
}

// step is one node of a test workflow.
type step struct {
	id     string
	typ    string
	config map[string]any
}

// workflowJSON builds a workflow that runs steps in order between a
// start and an end node, with vars as its variables.
func workflowJSON(name string, vars map[string]any, steps ...step) json.RawMessage {
	type wfNode struct {
		ID     string         `json:"id"`
		Type   string         `json:"type"`
		Config map[string]any `json:"config,omitempty"`
	}
	type connection struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	nodes := []wfNode{{ID: "start", Type: "start"}}
	for _, s := range steps {
		nodes = append(nodes, wfNode{ID: s.id, Type: s.typ, Config: s.config})
	}
	nodes = append(nodes, wfNode{ID: "end", Type: "end"})
	var conns []connection
	for i := 1; i < len(nodes); i++ {
		conns = append(conns, connection{From: nodes[i-1].ID, To: nodes[i].ID})
	}
	data, err := json.Marshal(map[string]any{"name": name, "variables": vars, "nodes": nodes, "connections": conns})
	if err != nil {
		panic(err) // only plain maps and strings go in
	}
	return data
}

// appendLine is a step that appends one line to a file.
func appendLine(id, path, line string) step {
	return step{id: id, typ: "file_write", config: map[string]any{"path": path, "content": line + "\n", "append": true}}
}

// delay is a step that waits.
func delay(id string, d time.Duration) step {
	return step{id: id, typ: "delay", config: map[string]any{"duration": d.String()}}
}

// jobsPage is the page size of listJobs: small enough that the tests'
// few hundred jobs take several pages.
const jobsPage = 100

// listJobs returns every job of a workflow in the given state ("" for
// all), page by page, read consistently through node n. A job listed
// twice is an error: cursors must not repeat.
func listJobs(tb testing.TB, n *node, workflowID, state string) ([]api.Job, error) {
	var out []api.Job
	seen := map[string]bool{}
	q := client.JobQuery{WorkflowID: workflowID, State: state, Limit: jobsPage}
	for range 1000 {
		page, err := n.client.Jobs(tb.Context(), q, client.Consistent())
		if err != nil {
			return nil, err
		}
		for _, j := range page.Jobs {
			if seen[j.ID] {
				return nil, fmt.Errorf("job %s listed twice by %s", j.ID, n.name)
			}
			seen[j.ID] = true
		}
		out = append(out, page.Jobs...)
		if page.NextCursor == nil {
			return out, nil
		}
		q.Cursor = *page.NextCursor
	}
	return nil, fmt.Errorf("more than 1000 pages of jobs")
}

// countStates tallies jobs by state.
func countStates(jobs []api.Job) map[string]int {
	counts := map[string]int{}
	for _, j := range jobs {
		counts[j.State]++
	}
	return counts
}

// durationStats returns the median and the maximum of ds.
func durationStats(ds []time.Duration) (median, maximum time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	median = sorted[mid]
	if len(sorted)%2 == 0 {
		median = (sorted[mid-1] + sorted[mid]) / 2
	}
	return median, sorted[len(sorted)-1]
}

// peer is a client of n's internal endpoints on its cluster port,
// authenticated as n itself with the node certificate in n's data dir, as
// another node of the cluster calls them.
func (n *node) peer() *peer.Client {
	n.tb.Helper()
	id, err := pki.PathsIn(filepath.Join(n.dir, "data")).Load()
	if err != nil {
		n.tb.Fatalf("load %s's node certificate: %v", n.name, err)
	}
	return peer.New("http://"+n.cluster, client.WithDialer(clusternet.HTTPDialer(id.ClientConfig())))
}

// withTokenFile authenticates every call with the token in a node's
// token file.
var withTokenFile = proctest.WithTokenFile
