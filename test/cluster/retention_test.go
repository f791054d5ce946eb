//go:build unix

package cluster

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/internal/testutil"
)

// retentionJobs is enough finished jobs that the memory they hold stands
// well above a node's own noise (a few KB each).
const retentionJobs = 20000

// retention is longer than running retentionJobs takes, so that all of
// them are in the state when the memory with them is read.
const retention = 20 * time.Second

// memoryOf reads a node's resident set and its Go heap in use from
// /metrics (the process and Go collectors), in bytes.
func memoryOf(t *testing.T, n *node) (rss, heap float64) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, serverURL(n)+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: callTimeout}
	withTokenFile(n.tokenFile)(hc)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", n.name, resp.Status)
	}
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

// collectGarbage has a node run a full collection (its profiler's heap
// profile with gc=1), so that the heap in use counts live memory only.
func collectGarbage(t *testing.T, pprof string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: callTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// Without an archive, finished jobs leave the state after --retention,
// and the memory they held comes back: the live heap drops once they
// leave, and a second round of as many jobs runs in the memory the first
// one gave back, so the heap after it and the node's RSS stay where the
// first round left them instead of growing with every job ever run. (The
// heap does not return to where it was before any job: Raft's log cache
// keeps the newest 1024 entries, up to 16 MiB, whatever they carried.)
func TestRetentionWithoutAnArchiveGivesTheMemoryBack(t *testing.T) {
	ctx := t.Context()
	pprof := fmt.Sprintf("127.0.0.1:%d", testutil.FreePorts(t, 1)[0])
	c := startCluster(t, 1, "--retention", retention.String(), "--pprof", pprof)
	n := c.byName("n1")
	collectGarbage(t, pprof)
	rss0, heap0 := memoryOf(t, n)
	t.Logf("before any job: RSS %.0f MB, heap in use %.0f MB", rss0/1e6, heap0/1e6)
	var firstRSS, firstHeap float64 // after the first round
	for round := 1; round <= 2; round++ {
		ids := runNoops(t, n.client, retentionJobs, 1000)
		collectGarbage(t, pprof)
		rss1, heap1 := memoryOf(t, n)
		t.Logf("round %d, %d jobs finished: RSS %.0f MB, heap in use %.0f MB", round, len(ids), rss1/1e6, heap1/1e6)
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
		collectGarbage(t, pprof)
		rss2, heap2 := memoryOf(t, n)
		t.Logf("round %d, after retention: RSS %.0f MB, heap in use %.0f MB (%.0f MB given back)", round, rss2/1e6, heap2/1e6, (heap1-heap2)/1e6)
		// Raft's log cache still holds the entries that queued the
		// jobs (a third to a half of what they took, measured), so
		// only part comes back here; the second round shows the rest
		// is bounded.
		if heap2 > heap1-(heap1-heap0)/8 {
			t.Errorf("round %d: the live heap is %.0f MB after retention, %.0f MB with the jobs: less than an eighth came back", round, heap2/1e6, heap1/1e6)
		}
		if round == 1 {
			firstRSS, firstHeap = max(rss1, rss2), heap2
			continue
		}
		if heap2 > firstHeap+(heap1-heap0)/4 {
			t.Errorf("after the second round the live heap is %.0f MB, after the first %.0f MB: it grows with the jobs run", heap2/1e6, firstHeap/1e6)
		}
		if rss := max(rss1, rss2); rss > firstRSS*1.2 {
			t.Errorf("the second round took RSS to %.0f MB, the first to %.0f MB: the memory the first jobs held was not reused", rss/1e6, firstRSS/1e6)
		}
	}
}
