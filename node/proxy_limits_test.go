package node

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// TestRobotOnlyNodeCutsSlowBodyDespiteFollow: a robot-only node lifts
// its deadlines for log streams it passes through, but only for them. A
// request that merely carries ?follow=true (here a POST whose body
// trickles in) is still cut off at the node's read timeout, instead of
// holding the connection for as long as it trickles.
func TestRobotOnlyNodeCutsSlowBodyDespiteFollow(t *testing.T) {
	const readTimeout = time.Second
	srv := startNode(t, testConfig(t, "server1", ""))
	cfg := joinConfig(t, "worker", srv)
	cfg.Server, cfg.Robot = false, false
	cfg.HTTPTimeouts = api.Timeouts{Read: readTimeout}
	worker := startNode(t, cfg)

	// Well under the server's own 30 s read timeout, which would end the
	// proxied request otherwise.
	took, held := trickleBody(t, worker.HTTPAddr(), "/api/v1/jobs?follow=true", 10*time.Second)
	if held {
		t.Fatalf("a slow body with ?follow=true still held its connection to the robot-only node after %v (read timeout %v)", took.Round(time.Millisecond), readTimeout)
	}
	t.Logf("a slow body was cut off after %v (read timeout %v)", took.Round(time.Millisecond), readTimeout)
}

// TestIsLogStream: the proxy lifts deadlines for log streams only.
func TestIsLogStream(t *testing.T) {
	for target, want := range map[string]bool{
		"GET /api/v1/jobs/j1/logs?follow=true":      true,
		"GET /api/v1/jobs/j1/logs?follow=1":         true,
		"GET /api/v1/jobs/j1/logs":                  false,
		"GET /api/v1/jobs/j1/logs?follow=false":     false,
		"POST /api/v1/jobs/j1/logs?follow=true":     false,
		"POST /api/v1/jobs?follow=true":             false,
		"GET /api/v1/jobs/logs?follow=true":         false,
		"GET /api/v1/jobs/a/b/logs?follow=true":     false,
		"GET /api/v1/workflows/j1/logs?follow=true": false,
	} {
		method, url, _ := strings.Cut(target, " ")
		r := httptest.NewRequest(method, url, nil)
		if got := isLogStream(r); got != want {
			t.Errorf("isLogStream(%s) = %v, want %v", target, got, want)
		}
	}
}
