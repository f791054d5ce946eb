package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
	"github.com/casare/casare/node"
)

// startHub starts a single-server node on loopback ports that were free a
// moment ago. One can still be taken before the node binds it, by another
// test binary's listener; then the node fails to bind, and is started
// again on fresh ports and a fresh data dir, a few times.
func startHub(ctx context.Context, t *testing.T) (*node.Node, node.Config) {
	t.Helper()
	const attempts = 5
	for try := 1; ; try++ {
		p := testutil.FreePorts(t, 4)
		cfg := node.Config{
			Name: "hub", DataDir: t.TempDir(), HTTPPort: p[0], RaftPort: p[1],
			GossipPort: p[2], QUICPort: p[3], Server: true,
		}
		n, err := node.Start(ctx, cfg)
		if err == nil {
			return n, cfg
		}
		if try == attempts || !portTaken(err) {
			t.Fatalf("start node on ports %v (attempt %d): %v", p, try, err)
		}
		t.Logf("start node on ports %v: %v; again on fresh ports", p, err)
	}
}

// portTaken reports whether a node failed to start because one of its
// ports was taken. memberlist formats its listener errors with %v, so for
// the gossip port the errno is in the message only.
func portTaken(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, node.ErrAlreadyRunning) ||
		strings.Contains(err.Error(), "address already in use")
}

// TestRobotConnectRefusesBadTokens runs `casare robot connect` against a
// real node with tokens that must not get in: the command fails with a
// message that says why, instead of retrying forever.
func TestRobotConnectRefusesBadTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, cfg := startHub(ctx, t)
	defer n.Close()
	server := "http://" + n.HTTPAddr()
	admin, err := os.ReadFile(filepath.Join(cfg.DataDir, node.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "robot", "token", "create", "--name", "pc-1", "--server", server, "--token", strings.TrimSpace(string(admin)))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	parts, err := consensus.ParseRobotToken(token)
	if err != nil {
		t.Fatal(err)
	}
	id, fp := parts.ID, parts.CAFingerprint
	wrong := consensus.FormatRobotToken(id, "guess", fp)
	quic := "127.0.0.1:" + strconv.Itoa(cfg.QUICPort)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"wrong secret":    {[]string{"--token", wrong}, "unknown token id or wrong secret"},
		"unknown id":      {[]string{"--token", consensus.FormatRobotToken("nope", "guess", fp)}, "unknown token id or wrong secret"},
		"no fingerprint":  {[]string{"--token", consensus.FormatToken(id, "guess")}, "carries no cluster CA fingerprint"},
		"bad fingerprint": {[]string{"--token", consensus.FormatRobotToken(id, "guess", "sha256:abc")}, "not sha256:<64 hex digits>"},
		"no token":        {[]string{"--token", ""}, "no robot token"},
		"not a token":     {[]string{"--token", "hunter2"}, "not a Casare robot token"},
		// The token file reaches the node: the wrong secret in it is
		// refused there, as if it were given with --token.
		"token file":         {[]string{"--token-file", writeFile(t, "robot.token", wrong+"\n")}, "unknown token id or wrong secret"},
		"empty token file":   {[]string{"--token-file", writeFile(t, "empty.token", " \n")}, "is empty"},
		"missing token file": {[]string{"--token-file", filepath.Join(t.TempDir(), "none")}, "no such file"},
		"file and flag":      {[]string{"--token-file", writeFile(t, "t", token), "--token", token}, "not both"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"robot", "connect", quic}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("robot connect: err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("environment", func(t *testing.T) {
		t.Setenv(envRobotToken, wrong)
		_, errOut, err := runCLI(t, "robot", "connect", quic)
		if err == nil || !strings.Contains(err.Error(), "unknown token id or wrong secret") {
			t.Fatalf("robot connect with %s: err = %v, want the node's refusal of the wrong secret", envRobotToken, err)
		}
		if strings.Contains(errOut, "warning") {
			t.Fatalf("a token from the environment drew a warning:\n%s", errOut)
		}
	})
	t.Run("flag warns", func(t *testing.T) {
		_, errOut, _ := runCLI(t, "robot", "connect", quic, "--token", wrong)
		if !strings.Contains(errOut, "shell history") {
			t.Fatalf("--token drew no warning about shell history; stderr:\n%s", errOut)
		}
	})
}

// TestPortTakenRecognisesEveryListener starts a node with each of its
// ports taken in turn (TCP for HTTP and Raft, UDP for QUIC, both for
// gossip) and checks that startHub would start it again on fresh ports.
func TestPortTakenRecognisesEveryListener(t *testing.T) {
	for _, port := range []string{"http", "raft", "gossip", "quic"} {
		t.Run(port, func(t *testing.T) {
			p := testutil.FreePorts(t, 4)
			cfg := node.Config{
				Name: "taken", DataDir: t.TempDir(), HTTPPort: p[0], RaftPort: p[1],
				GossipPort: p[2], QUICPort: p[3], Server: true,
			}
			taken := map[string]int{"http": p[0], "raft": p[1], "gossip": p[2], "quic": p[3]}[port]
			addr := "127.0.0.1:" + strconv.Itoa(taken)
			if port != "quic" {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
			}
			if port == "gossip" || port == "quic" {
				pc, err := net.ListenPacket("udp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			n, err := node.Start(ctx, cfg)
			if err == nil {
				n.Close()
				t.Fatalf("the node started with its %s port %d taken", port, taken)
			}
			if !portTaken(err) {
				t.Fatalf("start with the %s port taken: %v; portTaken says no", port, err)
			}
		})
	}
}
