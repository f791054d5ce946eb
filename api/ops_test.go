package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	leader := apitest.StartLeader(t, "n1")
	for _, path := range []string{"/health", "/health?ready=1", "/health/ready"} {
		resp := get(t, leader.URL+path)
		var h api.Health
		resp.decode(t, &h)
		if resp.status != http.StatusOK || h.Status != "ok" || !h.Ready || h.Leader == nil || h.Leader.Name != "n1" {
			t.Errorf("GET %s on the leader: %d %s", path, resp.status, resp.body)
		}
	}

	// A node that has not joined any cluster is alive but not ready.
	lonely := apitest.Start(t, apitest.Config{Name: "n2"})
	resp := get(t, lonely.URL+"/health")
	var h api.Health
	resp.decode(t, &h)
	if resp.status != http.StatusOK || h.Ready || h.Leader != nil {
		t.Errorf("GET /health on a node without leader: %d %s", resp.status, resp.body)
	}
	for _, path := range []string{"/health?ready=1", "/health/ready"} {
		if resp := get(t, lonely.URL+path); resp.status != http.StatusServiceUnavailable {
			t.Errorf("GET %s on a node without leader: %d %s", path, resp.status, resp.body)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	var created api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, nil)).decode(t, &created)
	get(t, node.URL+"/api/v1/jobs/"+created.JobID)
	get(t, node.URL+"/api/v1/jobs/no-such-job")

	resp := get(t, node.URL+"/metrics")
	if resp.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.status)
	}
	body := string(resp.body)
	for _, want := range []string{
		`casare_raft_state{state="Leader"} 1`,
		`casare_raft_state{state="Follower"} 0`,
		`casare_jobs{state="queued"} 1`,
		`casare_http_requests_total{code="201",method="POST",route="/api/v1/workflows"} 1`,
		`casare_http_requests_total{code="200",method="GET",route="/api/v1/jobs/:id"} 1`,
		`casare_http_requests_total{code="404",method="GET",route="/api/v1/jobs/:id"} 1`,
		`casare_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/:id"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, re := range []string{`casare_raft_term [1-9]`, `casare_raft_log_write_seconds_count [1-9]`, `casare_raft_commit_seconds_count [1-9]`, `casare_raft_forward_seconds_count 0\n`, `casare_raft_forward_wait_seconds_count 0\n`, `casare_raft_applied_index [1-9]`, `casare_raft_commit_index [1-9]`, `casare_raft_applied_entries_total{command="put_workflow"} [1-9]`} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("metrics do not match %s", re)
		}
	}
	if strings.Contains(body, created.JobID) {
		t.Error("a raw job id leaked into a metric label")
	}
}

func TestClusterShowsGossip(t *testing.T) {
	t.Parallel()
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.Members = func() []api.Member {
			return []api.Member{
				{Name: "n1", State: "alive", Roles: []string{"server", "robot"}, HTTPAddr: "127.0.0.1:1", Capacity: 4},
				{Name: "r9", State: "suspect", Roles: []string{"robot"}, HTTPAddr: "127.0.0.1:2", Tags: []string{"gpu"}},
			}
		}
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	resp := get(t, node.URL+"/api/v1/cluster")
	var c api.Cluster
	resp.decode(t, &c)
	if c.Node != "n1" || c.Leader == nil || c.Leader.Name != "n1" || c.Leader.HTTPAddr != node.Addr ||
		c.RaftState != "Leader" || c.Term == 0 || c.AppliedIndex == 0 {
		t.Errorf("cluster %s", resp.body)
	}
	if len(c.Servers) != 1 || !c.Servers[0].Alive || !c.Servers[0].Voter || !c.Servers[0].Leader || c.Servers[0].HTTPAddr != node.Addr {
		t.Errorf("servers %+v", c.Servers)
	}
	if len(c.Members) != 2 || c.Members[1].State != "suspect" || c.Members[1].Tags[0] != "gpu" || c.Members[0].Roles[1] != "robot" {
		t.Errorf("members %+v", c.Members)
	}
	if resp.header.Get("X-Casare-Applied-Index") == "" {
		t.Error("cluster read lacks X-Casare-Applied-Index")
	}
}

func TestLeaveCallsOnLeaveOnce(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	left := make(chan struct{}, 2)
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.OnLeave = func() { calls.Add(1); left <- struct{}{} }
	}})
	for range 2 {
		if resp := postJSON(t, node.URL+"/internal/v1/leave", ``); resp.status != http.StatusAccepted {
			t.Fatalf("leave: %d %s", resp.status, resp.body)
		}
	}
	select {
	case <-left:
	case <-time.After(5 * time.Second):
		t.Fatal("OnLeave was not called")
	}
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("OnLeave called %d times, want 1", n)
	}
}
