package executor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func policyEngine(t *testing.T, opts EngineOptions) *Engine {
	t.Helper()
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	return NewEngine(opts)
}

// A workflow that needs a denied node type fails before its first node
// runs, as a business failure naming the rule; nodes before the denied
// one have no side effect.
func TestDeniedNodeTypeFailsTheRunBeforeAnyNode(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "before.txt")
	w := chain(
		Node{ID: "write", Type: "file_write", Config: cfg("path", marker, "content", "x")},
		Node{ID: "sh", Type: "shell", Config: cfg("command", "true")},
	)
	for name, tc := range map[string]struct {
		policy NodePolicy
		want   string
	}{
		"deny list":  {NodePolicy{Deny: []string{"shell"}}, "node sh: node type not allowed on this robot (shell): its deny-node-types list names shell"},
		"allow list": {NodePolicy{Allow: []string{"file_write"}}, "node sh: node type not allowed on this robot (shell): its allow-node-types list is file_write"},
	} {
		t.Run(name, func(t *testing.T) {
			e := policyEngine(t, EngineOptions{WorkDir: dir, NodeTypes: tc.policy})
			res := e.Run(context.Background(), w, RunOptions{})
			if res.State != StateFailed || res.FailureKind != FailureBusiness || res.Error != tc.want {
				t.Fatalf("result %s/%s %q, want a business failure %q", res.State, res.FailureKind, res.Error, tc.want)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the node before the denied one ran: %v", err)
			}
		})
	}
}

// The policy reaches nodes of inline subworkflows before the run starts,
// and nodes of subworkflows loaded from files as they come; the error
// port does not catch the refusal.
func TestDeniedNodeTypeInsideSubworkflows(t *testing.T) {
	dir := t.TempDir()
	sub := `{"name":"sub","nodes":[{"id":"start","type":"start"},{"id":"sh","type":"shell","config":{"command":"true"}}],
	 "connections":[{"from":"start","to":"sh"}]}`
	if err := os.WriteFile(filepath.Join(dir, "sub.json"), []byte(sub), 0o600); err != nil {
		t.Fatal(err)
	}
	e := policyEngine(t, EngineOptions{WorkDir: dir, NodeTypes: NodePolicy{Deny: []string{"shell"}}})
	fromFile := parseWorkflow(t, `{"name":"outer","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"call","type":"subworkflow","config":{"path":"sub.json"}},
	 {"id":"caught","type":"log","config":{"message":"caught"}}],
	 "connections":[{"from":"start","to":"call"},{"from":"call","to":"caught","port":"error"}]}`)
	res := e.Run(context.Background(), fromFile, RunOptions{})
	if res.State != StateFailed || res.FailureKind != FailureBusiness || !strings.Contains(res.Error, "node sh: node type not allowed on this robot (shell)") ||
		!strings.Contains(res.Error, "deny-node-types") {
		t.Fatalf("file subworkflow: %s/%s %q", res.State, res.FailureKind, res.Error)
	}
}

func TestNodePolicyCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		p    NodePolicy
		want string
	}{
		"unknown type": {NodePolicy{Deny: []string{"shel"}}, `unknown node type "shel"`},
		"both lists":   {NodePolicy{Allow: []string{"log"}, Deny: []string{"shell"}}, "not both"},
		"fine":         {NodePolicy{Deny: []string{"shell", "file_write"}}, ""},
	} {
		err := tc.p.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Check() = %v, want %q", name, err, tc.want)
		}
	}
}

// File nodes cannot leave the file root: not by an absolute path, not by
// .., not through a symbolic link; paths inside it work, including new
// directories.
func TestFileRootConfinesFileNodes(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	e := policyEngine(t, EngineOptions{WorkDir: root, FileRoot: root})
	run := func(n Node) Result {
		return e.Run(context.Background(), chain(n), RunOptions{})
	}
	for name, path := range map[string]string{
		"absolute":       secret,
		"dot dot":        "../outside/secret.txt",
		"symlink":        "link/secret.txt",
		"symlink new":    "link/new.txt",
		"dot dot inside": "sub/../../outside/secret.txt",
	} {
		t.Run(name, func(t *testing.T) {
			for _, n := range []Node{
				{ID: "read", Type: "file_read", Config: cfg("path", path, "output_var", "out")},
				{ID: "write", Type: "file_write", Config: cfg("path", path, "content", "pwned")},
			} {
				res := run(n)
				if res.State != StateFailed || res.FailureKind != FailureBusiness ||
					!strings.Contains(res.Error, "outside the robot's file root") || !strings.Contains(res.Error, "file-root") {
					t.Fatalf("%s %s: %s/%s %q, want a business failure naming the file root", n.Type, path, res.State, res.FailureKind, res.Error)
				}
			}
			if data, _ := os.ReadFile(secret); string(data) != "s3cret" {
				t.Fatalf("the file outside the root was changed: %q", data)
			}
			if _, err := os.Stat(filepath.Join(outside, "new.txt")); err == nil {
				t.Fatal("a file was created outside the root")
			}
		})
	}
	res := run(Node{ID: "write", Type: "file_write", Config: cfg("path", "deep/dir/ok.txt", "content", "fine")})
	if res.State != StateSucceeded {
		t.Fatalf("write inside the root: %s %q", res.State, res.Error)
	}
	res = run(Node{ID: "read", Type: "file_read", Config: cfg("path", filepath.Join(root, "deep/dir/ok.txt"), "output_var", "out")})
	if res.State != StateSucceeded || res.Variables["out"] != "fine" {
		t.Fatalf("read inside the root: %s %q %v", res.State, res.Error, res.Variables["out"])
	}
	res = run(Node{ID: "sh", Type: "shell", Config: cfg("command", "true", "dir", outside)})
	if res.State != StateFailed || res.FailureKind != FailureBusiness || !strings.Contains(res.Error, "file root") {
		t.Fatalf("shell dir outside the root: %s/%s %q", res.State, res.FailureKind, res.Error)
	}
}
