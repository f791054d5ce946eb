package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

func TestRobotTokenCommands(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	out := mustRun(t, "robot", "token", "create", "--name", "r-berlin", "--server", node.URL)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	token := lines[len(lines)-1]
	id, secret, err := consensus.ParseToken(token)
	if err != nil || token != strings.TrimSpace(token) {
		t.Fatalf("last line %q is not the token alone: %v\n%s", token, err, out)
	}
	if err := node.VerifyToken(token, "r-berlin"); err != nil {
		t.Errorf("the printed token does not verify: %v", err)
	}

	out = mustRun(t, "robot", "token", "list", "--server", node.URL)
	if !regexp.MustCompile(`(?m)^`+id+`\s+r-berlin\s+-\s+-\s+\d{4}-\S+ \S+\s+-\s+no$`).MatchString(out) || strings.Contains(out, secret) {
		t.Errorf("robot token list:\n%s", out)
	}
	out = mustRun(t, "robot", "token", "create", "--name", "laptop-1", "--tags", "sap,eu", "--capacity", "2", "--ttl", "720h", "--server", node.URL)
	if !strings.Contains(out, "for robot laptop-1, tags sap,eu, capacity 2, expires ") {
		t.Errorf("robot token create with what it fixes:\n%s", out)
	}
	out = mustRun(t, "robot", "token", "list", "--server", node.URL)
	if !regexp.MustCompile(`(?m)\s+laptop-1\s+sap,eu\s+2\s+\d{4}-\S+ \S+\s+\d{4}-\S+ \S+\s+no$`).MatchString(out) {
		t.Errorf("robot token list with what a token fixes:\n%s", out)
	}
	if _, _, err := runCLI(t, "robot", "token", "create", "--ttl", "-1h", "--server", node.URL); err == nil || !strings.Contains(err.Error(), "--ttl") {
		t.Errorf("a negative --ttl: %v", err)
	}
	if out := mustRun(t, "robot", "token", "revoke", id, "--server", node.URL); strings.TrimSpace(out) != "revoked robot token "+id {
		t.Errorf("robot token revoke: %q", out)
	}
	if err := node.VerifyToken(token, "r-berlin"); err == nil {
		t.Error("a revoked token verifies")
	}
	if _, _, err := runCLI(t, "robot", "token", "revoke", "no-such-token", "--server", node.URL); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("revoke of an unknown token: %v", err)
	}
}

func TestRobotsCommand(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	err := node.Store.SetRobotStatus(t.Context(), consensus.RobotRecord{
		ID: "web-1", Kind: consensus.RobotInternet, Node: "n1", Connected: true, Capacity: 2, Tags: []string{"browser"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "robots", "--server", node.URL)
	if !regexp.MustCompile(`(?m)^ID\s+KIND\s+STATE\s+NODE\s+CAPACITY\s+JOBS\s+TAGS\s+SINCE\n` +
		`web-1\s+internet\s+alive\s+n1\s+2\s+-\s+browser\s+\d{4}-`).MatchString(out) {
		t.Errorf("robots:\n%s", out)
	}
}
