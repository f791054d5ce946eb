//go:build unix

package cluster

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/casare/casare/api/client"
)

// retentionJobs is enough finished jobs that the memory they hold stands
// well above a node's own noise (a few KB each).
const retentionJobs = 20000

// memoryOf reads a node's resident set and its Go heap in use from
// /metrics (the process and Go collectors), in bytes.
func memoryOf(t *testing.T, n *node) (rss, heap float64) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, serverURL(n)+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "process_resident_memory_bytes":
			rss = v
		case "go_memstats_heap_inuse_bytes":
			heap = v
		}
	}
	if rss == 0 || heap == 0 {
		t.Fatalf("%s's /metrics has no process_resident_memory_bytes or go_memstats_heap_inuse_bytes", n.name)
	}
	return rss, heap
}

// Without an archive, finished jobs leave the state after --retention,
// and the memory they held comes back: the heap shrinks to near where it
// was before the jobs, and the resident set follows as the runtime
// returns the freed pages.
func TestRetentionWithoutAnArchiveGivesTheMemoryBack(t *testing.T) {
	ctx := t.Context()
	c := startCluster(t, 1, "--retention", "2s")
	n := c.byName("n1")
	rss0, heap0 := memoryOf(t, n)
	ids := runNoops(t, n.client, retentionJobs, 1000)
	rss1, heap1 := memoryOf(t, n)
	t.Logf("%d jobs finished: RSS %.0f → %.0f MB, heap in use %.0f → %.0f MB", len(ids), rss0/1e6, rss1/1e6, heap0/1e6, heap1/1e6)
	if heap1-heap0 < float64(retentionJobs)*500 {
		t.Fatalf("the heap grew by %.0f bytes for %d finished jobs: too little to tell it come back", heap1-heap0, retentionJobs)
	}
	waitFor(t, settleTimeout, "the finished jobs to leave the state", func() (bool, error) {
		st, err := n.client.QueueStats(ctx)
		if err != nil {
			return false, err
		}
		return st.ByState["succeeded"] == 0, fmt.Errorf("%d succeeded jobs still held", st.ByState["succeeded"])
	})
	if _, err := n.client.Job(ctx, ids[0]); !client.IsCode(err, "not_found") {
		t.Fatalf("GET a job past retention without an archive = %v, want not found", err)
	}
	var rss2, heap2 float64
	waitFor(t, 2*settleTimeout, "the memory to come back", func() (bool, error) {
		rss2, heap2 = memoryOf(t, n)
		// Back to within a quarter of what the jobs took, heap and RSS.
		ok := heap2 < heap0+(heap1-heap0)/4 && rss2 < rss0+(rss1-rss0)/2
		return ok, fmt.Errorf("RSS %.0f MB, heap in use %.0f MB", rss2/1e6, heap2/1e6)
	})
	t.Logf("after retention: RSS %.0f MB (%.0f%% of the growth given back), heap in use %.0f MB", rss2/1e6, 100*(rss1-rss2)/(rss1-rss0), heap2/1e6)
}
