package peer_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/peer"
)

// TestReportsNumberTheirLinesInTheQuery: the numbers of a robot's log
// lines go in the query, one per item, and never in the body, which a
// server that predates them decodes strictly and would refuse.
func TestReportsNumberTheirLinesInTheQuery(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var ends [][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, ends = append(bodies, string(b)), append(ends, r.URL.Query()["logs_end"])
		mu.Unlock()
		_ = json.NewEncoder(w).Encode([]consensus.Ack{{JobID: "j1", OK: true}, {JobID: "j2", OK: true}})
	}))
	defer srv.Close()
	p := peer.New(srv.URL)
	lines := []consensus.LogLine{{Message: "a"}, {Message: "b"}}
	progress := consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{
		{JobID: "j1", Token: 1, Logs: lines, LogsEnd: 2}, {JobID: "j2", Token: 1}}}
	if _, err := p.RobotProgress(t.Context(), progress); err != nil {
		t.Fatal(err)
	}
	if progress.Items[0].LogsEnd != 2 {
		t.Error("sending a heartbeat changed the caller's items")
	}
	if _, err := p.RobotHandBack(t.Context(), consensus.HandBackCmd{RobotID: "r1", Items: progress.Items}); err != nil {
		t.Fatal(err)
	}
	done := consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{{JobID: "j1", Token: 1, Logs: lines, LogsEnd: 5}}}
	if _, err := p.RobotComplete(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	unnumbered := consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{JobID: "j1", Token: 1, Logs: lines}}}
	if _, err := p.RobotProgress(t.Context(), unnumbered); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := [][]string{{"2", "0"}, {"2", "0"}, {"5"}, nil}
	for i, body := range bodies {
		if strings.Contains(body, "logs_end") {
			t.Errorf("call %d carries logs_end in its body: %s", i, body)
		}
		if !slices.Equal(ends[i], want[i]) {
			t.Errorf("call %d: logs_end %q in the query, want %q", i, ends[i], want[i])
		}
	}
}
