package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPprofServesOnLoopbackOnly: --pprof refuses an address other hosts
// could reach, and on loopback serves the profiler's index.
func TestPprofServesOnLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "10.1.2.3:6060", "localhost:6060", "127.0.0.1"} {
		if _, _, err := servePprof(t.Context(), addr, log); !errors.Is(err, errPprofAddr) {
			t.Errorf("--pprof %s: want errPprofAddr, got %v", addr, err)
		}
	}
	addr, stop, err := servePprof(t.Context(), "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof index: %s\n%s", resp.Status, body)
	}
}
