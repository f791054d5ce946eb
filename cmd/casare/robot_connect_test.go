package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRobotConnectRefusesBadTokens runs `casare robot connect` against a
// real node with tokens that must not get in: the command fails with a
// message that says why, instead of retrying forever.
func TestRobotConnectRefusesBadTokens(t *testing.T) {
	cfg := node.Config{
		Name: "hub", DataDir: t.TempDir(), HTTPPort: freePort(t), RaftPort: freePort(t),
		GossipPort: freePort(t), QUICPort: freePort(t), Server: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := node.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	server := "http://" + n.HTTPAddr()
	admin, err := os.ReadFile(filepath.Join(cfg.DataDir, node.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "robot", "token", "create", "--name", "pc-1", "--server", server, "--token", strings.TrimSpace(string(admin)))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	id, _, err := consensus.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	quic := "127.0.0.1:" + strconv.Itoa(cfg.QUICPort)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"wrong secret": {[]string{"--token", consensus.FormatToken(id, "guess")}, "token secret is wrong"},
		"unknown id":   {[]string{"--token", consensus.FormatToken("nope", "guess")}, "refused"},
		"wrong name":   {[]string{"--token", token, "--name", "pc-2"}, "not \"pc-2\""},
		"no token":     {[]string{"--token", ""}, "--token is required"},
		"not a token":  {[]string{"--token", "hunter2"}, "not a Casare robot token"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"robot", "connect", quic}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("robot connect: err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
