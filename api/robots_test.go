package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

func TestRobotTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client

	created, err := c.CreateRobotToken(ctx, "r-berlin")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^casare_`+regexp.QuoteMeta(created.ID)+`_[A-Za-z0-9_-]{43}$`).MatchString(created.Token) ||
		created.Name != "r-berlin" || created.CreatedAt.IsZero() {
		t.Fatalf("created token %+v", created)
	}
	id, secret, err := consensus.ParseToken(created.Token)
	if err != nil || id != created.ID {
		t.Fatalf("parse %s: %s, %v", created.Token, id, err)
	}
	if err := node.VerifyToken(created.Token, "r-berlin"); err != nil {
		t.Errorf("store refuses the printed token: %v", err)
	}
	if err := node.VerifyToken(created.Token, "r-paris"); err == nil {
		t.Error("a token bound to r-berlin verifies for r-paris")
	}

	resp := get(t, node.URL+"/api/v1/robots/tokens")
	if strings.Contains(string(resp.body), secret) || strings.Contains(string(resp.body), consensus.HashToken(secret)) ||
		strings.Contains(string(resp.body), "hash") {
		t.Errorf("token list leaks the secret or its hash: %s", resp.body)
	}
	var list api.RobotTokenList
	resp.decode(t, &list)
	if len(list.Tokens) != 1 || list.Tokens[0].ID != created.ID || list.Tokens[0].Revoked {
		t.Errorf("tokens %+v", list.Tokens)
	}

	// The secret is shown once: a retry under the same key cannot show it.
	if _, err := c.CreateRobotToken(ctx, "r2", client.IdempotencyKey("k")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRobotToken(ctx, "r2", client.IdempotencyKey("k")); !client.IsCode(err, "conflict") {
		t.Errorf("retried token create: %v, want conflict", err)
	}

	revoked, err := c.RevokeRobotToken(ctx, created.ID)
	if err != nil || !revoked.Revoked {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	if err := node.VerifyToken(created.Token, "r-berlin"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked token verifies: %v", err)
	}
	anyRobot, err := c.CreateRobotToken(ctx, "")
	if err != nil || anyRobot.Name != "" {
		t.Fatalf("token for any robot: %+v, %v", anyRobot, err)
	}
}

func TestRobotsMergeGossipAndRaft(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	since := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.Members = func() []api.Member {
			return []api.Member{
				{Name: "n1", State: "alive", Roles: []string{"server"}},
				{Name: "n2", State: "dead", Roles: []string{"server"}},
				{Name: "lan-1", State: "alive", Roles: []string{"robot"}, Tags: []string{"sap"}, Capacity: 2, Since: since},
				{Name: "lan-2", State: "suspect", Roles: []string{"server", "robot"}},
			}
		}
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	for _, r := range []consensus.RobotRecord{
		{ID: "web-1", Kind: "internet", Node: "n1", Connected: true, Capacity: 1, Tags: []string{"browser"}},
		{ID: "web-2", Kind: "internet", Node: "n2", Connected: true},
		{ID: "web-3", Kind: "internet", Node: "n1", Connected: false},
	} {
		if err := node.Store.SetRobotStatus(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	wf := newWorkflow(t, node)
	job := submit(t, node, `{"workflow_id":"`+wf+`","pinned_robot":"lan-1"}`)
	if _, err := node.Peer.RobotClaim(ctx, consensus.ClaimCmd{RobotID: "lan-1", RobotKind: "lan", Max: 1}); err != nil {
		t.Fatal(err)
	}

	resp := get(t, node.URL+"/api/v1/robots")
	if resp.status != http.StatusOK || resp.header.Get("X-Casare-Applied-Index") == "" {
		t.Fatalf("robots: %d %s", resp.status, resp.body)
	}
	var list api.RobotList
	resp.decode(t, &list)
	var got []string
	for _, r := range list.Robots {
		got = append(got, r.ID+":"+r.Kind+":"+r.State+":"+r.Node+":"+strings.Join(r.CurrentJobs, ","))
	}
	want := []string{
		"lan-1:lan:alive:lan-1:" + job.ID, "lan-2:lan:suspect:lan-2:",
		"web-1:internet:alive:n1:", "web-2:internet:suspect:n2:", "web-3:internet:disconnected:n1:",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("robots\n got %v\nwant %v", got, want)
	}
	lan1 := list.Robots[0]
	if !lan1.Since.Equal(since) || lan1.Capacity != 2 || lan1.Tags[0] != "sap" || list.Robots[2].Tags[0] != "browser" {
		t.Errorf("robot details %+v / %+v", lan1, list.Robots[2])
	}
	if !strings.Contains(string(resp.body), `"current_jobs":[]`) || !strings.Contains(string(resp.body), `"tags":[]`) {
		t.Errorf("empty lists do not render as []: %s", resp.body)
	}
}

// TestRobotHoldingJobsWithoutHeartbeatIsSuspect: gossip still shows the
// robot alive, but it holds a job it stopped heartbeating, so the fleet
// lists it as suspect until a heartbeat arrives.
func TestRobotHoldingJobsWithoutHeartbeatIsSuspect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const suspectAfter = time.Second
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.RobotSuspectAfter = suspectAfter
		c.Members = func() []api.Member {
			return []api.Member{
				{Name: "n1", State: "alive", Roles: []string{"server"}},
				{Name: "busy", State: "alive", Roles: []string{"robot"}},
				{Name: "idle", State: "alive", Roles: []string{"robot"}},
			}
		}
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	wf := newWorkflow(t, node)
	job := submit(t, node, `{"workflow_id":"`+wf+`","pinned_robot":"busy"}`)
	// The leader stamps the lease's renewal while the claim is in flight,
	// so the clock starts before the call, not after its answer.
	claimedAt := time.Now()
	claimed, err := node.Peer.RobotClaim(ctx, consensus.ClaimCmd{RobotID: "busy", RobotKind: "lan", Max: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	states := func() map[string]api.Robot {
		list, err := node.Client.Robots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]api.Robot{}
		for _, r := range list.Robots {
			out[r.ID] = r
		}
		return out
	}
	if got := states(); got["busy"].State != "alive" || got["idle"].State != "alive" {
		t.Fatalf("right after the claim: busy %s, idle %s", got["busy"].State, got["idle"].State)
	}
	apitest.WaitFor(t, 5*time.Second, "busy to turn suspect", func() bool { return states()["busy"].State == "suspect" })
	got := states()
	if waited := time.Since(claimedAt); waited < suspectAfter {
		t.Errorf("suspect after %v, before the %v without heartbeat", waited, suspectAfter)
	}
	if got["idle"].State != "alive" || got["busy"].CurrentJobs[0] != job.ID || got["busy"].Since.IsZero() {
		t.Errorf("suspect fleet: %+v", got)
	}

	acks, err := node.Peer.RobotProgress(ctx, consensus.ProgressCmd{RobotID: "busy",
		Items: []consensus.Progress{{JobID: job.ID, Token: claimed[0].Job.Lease.Token}}})
	if err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("heartbeat: %v %v", acks, err)
	}
	if s := states()["busy"].State; s != "alive" {
		t.Errorf("after a heartbeat busy is %s, want alive", s)
	}
}

// A token can fix tags and capacity and expire; what it fixes is checked
// field by field before anything is stored.
func TestRobotTokenFixesAndExpires(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client

	before := time.Now()
	created, err := c.CreateRobotTokenFor(ctx, api.CreateRobotTokenRequest{Name: "laptop-1", Tags: []string{"a", "b"}, Capacity: 2, TTL: "720h"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Capacity != 2 || strings.Join(created.Tags, ",") != "a,b" ||
		created.ExpiresAt.Before(before.Add(719*time.Hour)) || created.ExpiresAt.After(time.Now().Add(721*time.Hour)) {
		t.Fatalf("created token %+v, want tags a,b, capacity 2 and expiry in 720h", created)
	}
	list, err := c.RobotTokens(ctx)
	if err != nil || len(list.Tokens) != 1 || !list.Tokens[0].ExpiresAt.Equal(created.ExpiresAt) || list.Tokens[0].Capacity != 2 {
		t.Fatalf("tokens %+v, %v", list.Tokens, err)
	}
	for name, tc := range map[string]struct {
		req  api.CreateRobotTokenRequest
		want string
	}{
		"bad ttl":       {api.CreateRobotTokenRequest{TTL: "a month"}, "ttl"},
		"negative ttl":  {api.CreateRobotTokenRequest{TTL: "-1h"}, "ttl"},
		"zero ttl":      {api.CreateRobotTokenRequest{TTL: "0s"}, "ttl"},
		"huge capacity": {api.CreateRobotTokenRequest{Capacity: 100000}, "capacity"},
		"bad tag":       {api.CreateRobotTokenRequest{Tags: []string{"x\x1b[2J"}}, "tags"},
	} {
		_, err := c.CreateRobotTokenFor(ctx, tc.req)
		if !client.IsCode(err, "invalid") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want invalid naming %s", name, err, tc.want)
		}
	}
	if list, _ := c.RobotTokens(ctx); len(list.Tokens) != 1 {
		t.Errorf("refused tokens were stored: %+v", list.Tokens)
	}
}
