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
