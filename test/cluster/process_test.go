//go:build unix

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// This file runs casare subcommands other than cluster nodes: one-shot
// CLI calls, whose exit code and output the tests judge, and long-lived
// processes such as `casare robot connect`, tracked like nodes (started,
// SIGKILLed, cleaned up) but kept out of the cluster's node list, which
// the harness asks for leaders.

// startProcess runs `casare args...` as a tracked process, its output in
// name.log in its own directory. It is killed when the test ends and its
// log tail printed if the test failed. It has no API client.
func startProcess(tb testing.TB, name string, args ...string) *node {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), name)
	p := &node{tb: tb, name: name, dir: dir, logPath: filepath.Join(dir, name+".log"), args: args}
	startOwned(tb, p)
	return p
}

// startOwned makes p's directory and starts p, which the test kills when
// it ends (showing its log if the test failed).
func startOwned(tb testing.TB, p *node) {
	tb.Helper()
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		p.killQuietly()
		if tb.Failed() {
			p.dumpLog()
		}
	})
	p.start()
}

// cliResult is what one CLI call did.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int // exit code; -1 if it did not exit by itself
	took           time.Duration
}

func (r cliResult) String() string {
	return fmt.Sprintf("`casare %s` exited %d after %v\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// runCLI runs `casare args...` to the end, killing it after timeout.
func runCLI(tb testing.TB, timeout time.Duration, args ...string) cliResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, casareBin, args...)
	cmd.Dir = tb.TempDir()
	cmd.SysProcAttr = procAttr()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := cliResult{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.code = -1
	case err == nil:
		res.code = 0
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		tb.Fatalf("run casare %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// serverURL is the --server value that names node n's API.
func serverURL(n *node) string { return "http://" + n.http }

// quicAddr is the address internet robots dial on node n, read from the
// command line the harness gave it.
func quicAddr(tb testing.TB, n *node) string {
	tb.Helper()
	i := slices.Index(n.args, "--quic-port")
	if i < 0 || i+1 >= len(n.args) {
		tb.Fatalf("%s has no --quic-port in %v", n.name, n.args)
	}
	return net.JoinHostPort("127.0.0.1", n.args[i+1])
}

// createRobotToken makes a token bound to robot name with the CLI and
// returns it and its id: the token is alone on the last line of the
// output, and the id it carries is named before it.
func createRobotToken(tb testing.TB, n *node, name string) (token, id string) {
	tb.Helper()
	res := runCLI(tb, callTimeout, "robot", "token", "create", "--name", name, "--server", serverURL(n), "--token-file", n.tokenFile)
	if res.code != 0 {
		tb.Fatalf("robot token create: %s", res)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	token = strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(token, "casare_") || strings.ContainsAny(token, " \t") {
		tb.Fatalf("the last line of `robot token create` is not a token alone: %q\n%s", token, res)
	}
	id, _, err := consensus.ParseToken(token)
	if err != nil {
		tb.Fatalf("`robot token create` printed %q: %v", token, err)
	}
	if !strings.Contains(strings.Join(lines[:len(lines)-1], "\n"), id) {
		tb.Errorf("`robot token create` does not name the token id %s before the token:\n%s", id, res)
	}
	return token, id
}
