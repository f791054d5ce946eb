//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// The load the partition tests run under: a few workers that each submit
// a batch of jobs, wait a little and submit the next, trying a random
// node per call and retrying an unanswered batch under its idempotency
// key, as a client of a cluster behind a flaky network would.
const (
	loadWorkers = 3
	loadBatch   = 10
	// loadGap paces each worker: three workers make about 100 jobs a
	// second, well within what three robots of capacity 4 finish with
	// labJobWork per job, so a backlog comes only from the cuts.
	loadGap = 300 * time.Millisecond
	// loadCallTimeout bounds one submit try, so that a worker whose call
	// went to a cut-off node moves on to another node.
	loadCallTimeout = 3 * time.Second
	// loadTries bounds the tries of one batch; a batch that never got an
	// answer is not acknowledged, so it is not counted.
	loadTries = 15
	// labJobWork is how long each job runs after its side effect.
	labJobWork = 100 * time.Millisecond
)

// jobLoad is a running load; acked holds every acknowledged job id.
type jobLoad struct {
	tb    testing.TB
	c     *cluster
	wfID  string
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	acks  atomic.Int64
	mu    sync.Mutex
	acked map[string]ackInfo
}

type ackInfo struct {
	at  time.Time
	via string
}

func startJobLoad(tb testing.TB, c *cluster, wfID string) *jobLoad {
	l := &jobLoad{tb: tb, c: c, wfID: wfID, stop: make(chan struct{}), acked: map[string]ackInfo{}}
	// A test that fails half-way still stops its load, before the
	// cluster's cleanup kills the nodes under it.
	tb.Cleanup(l.halt)
	for w := range loadWorkers {
		l.wg.Go(func() {
			for b := 0; ; b++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.submit(fmt.Sprintf("load-%s-w%d-b%d", wfID, w, b))
				select {
				case <-l.stop:
					return
				case <-time.After(loadGap):
				}
			}
		})
	}
	return l
}

// submit sends one batch until some node acknowledges it.
func (l *jobLoad) submit(key string) {
	reqs := make([]api.JobRequest, loadBatch)
	for i := range reqs {
		reqs[i] = api.JobRequest{WorkflowID: l.wfID}
	}
	for range loadTries {
		nodes := l.c.running()
		if len(nodes) == 0 {
			return
		}
		n := nodes[rand.IntN(len(nodes))]
		ctx, cancel := context.WithTimeout(l.tb.Context(), loadCallTimeout)
		jobs, err := n.client.SubmitJobs(ctx, reqs, client.IdempotencyKey(key))
		cancel()
		if err == nil {
			l.record(jobs, n.name)
			return
		}
		if l.tb.Context().Err() != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// record counts jobs acknowledged through node via.
func (l *jobLoad) record(jobs []api.Job, via string) {
	now := time.Now()
	l.mu.Lock()
	for _, j := range jobs {
		l.acked[j.ID] = ackInfo{at: now, via: via}
	}
	l.mu.Unlock()
	l.acks.Add(int64(len(jobs)))
}

// waitAcked waits until at least n jobs have been acknowledged.
func (l *jobLoad) waitAcked(n int64) {
	l.tb.Helper()
	waitFor(l.tb, settleTimeout, fmt.Sprintf("%d jobs acknowledged", n), func() (bool, error) {
		return l.acks.Load() >= n, fmt.Errorf("%d acknowledged", l.acks.Load())
	})
}

// halt stops the load and waits for its workers.
func (l *jobLoad) halt() {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// finish stops the load and returns the acknowledged ids.
func (l *jobLoad) finish() map[string]bool {
	l.halt()
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make(map[string]bool, len(l.acked))
	for id := range l.acked {
		ids[id] = true
	}
	return ids
}

// pollUntil polls cond until it holds or timeout passes, and returns
// cond's last error then: for checks after which a test goes on, so that
// one failed check does not hide the others and the summary line.
func pollUntil(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = errors.New("condition never held")
			}
			return err
		}
		time.Sleep(pollInterval)
	}
}

// currentLeader returns the node that says it leads with the highest
// term, asking only the nodes that answer.
func currentLeader(tb testing.TB, c *cluster) *node {
	tb.Helper()
	var leader *node
	waitFor(tb, settleTimeout, "a node that leads", func() (bool, error) {
		var term uint64
		leader = nil
		for _, n := range c.running() {
			ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Second)
			cl, err := n.client.Cluster(ctx)
			cancel()
			if err == nil && cl.RaftState == "Leader" && cl.Term >= term {
				leader, term = n, cl.Term
			}
		}
		return leader != nil, fmt.Errorf("no node says it leads")
	})
	return leader
}

// localJobStates lists a workflow's jobs as node n has them, without
// asking the leader: what n would serve a plain read.
func localJobStates(ctx context.Context, n *node, workflowID string) (map[string]string, error) {
	out := map[string]string{}
	q := client.JobQuery{WorkflowID: workflowID, Limit: jobsPage}
	for range 1000 {
		page, err := n.client.Jobs(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		for _, j := range page.Jobs {
			out[j.ID] = j.State
		}
		if page.NextCursor == nil {
			return out, nil
		}
		q.Cursor = *page.NextCursor
	}
	return nil, fmt.Errorf("%s: more than 1000 pages of jobs", n.name)
}

// clusterView is what one node serves about the cluster: the Raft
// configuration, the leader and its gossip view.
func clusterView(ctx context.Context, n *node) (config, leader string, gossip []string, err error) {
	cl, err := n.client.Cluster(ctx)
	if err != nil {
		return "", "", nil, fmt.Errorf("%s: %w", n.name, err)
	}
	var srvs []string
	for _, s := range cl.Servers {
		srvs = append(srvs, fmt.Sprintf("%s(voter=%t)", s.Name, s.Voter))
	}
	slices.Sort(srvs)
	for _, m := range cl.Members {
		gossip = append(gossip, m.Name+"="+m.State)
	}
	slices.Sort(gossip)
	if cl.Leader != nil {
		leader = cl.Leader.Name
	}
	return strings.Join(srvs, ","), leader, gossip, nil
}

// labWorkflow creates the workflow the load submits: it appends the
// job's id to runsFile (its side effect) and works a little.
func labWorkflow(tb testing.TB, n *node, name, runsFile string) string {
	tb.Helper()
	wf, err := n.client.CreateWorkflow(tb.Context(), api.CreateWorkflowRequest{
		WorkflowName: name, TriggerType: "none",
		WorkflowJSON: workflowJSON(name, nil, appendLine("append", runsFile, "{{ job_id }}"), delay("work", labJobWork)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return wf.WorkflowID
}

func newRunsFile(tb testing.TB) string { return filepath.Join(tb.TempDir(), "runs.txt") }
