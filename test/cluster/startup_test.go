//go:build unix

package cluster

import (
	"fmt"
	"github.com/casare/casare/internal/testutil"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secondNodeExit bounds how long a second node on a taken data dir or
// port may take to give up. The product target is under a second; the
// bound is loose because the machine running the tests may be busy.
const secondNodeExit = 10 * time.Second

// withFlag returns args with the value after flag replaced.
func withFlag(args []string, flag, value string) []string {
	out := slices.Clone(args)
	i := slices.Index(out, flag)
	out[i+1] = value
	return out
}

// TestSecondNodeOnTakenDataDirOrPortsExitsAtOnce: a second node on a
// data dir a running node holds exits at once, naming the dir and the
// holder's pid, instead of blocking for good in bbolt's file lock; a
// second node with the same ports (a second `make run`) says a node is
// already running instead of "address already in use". Neither harms
// the running node.
func TestSecondNodeOnTakenDataDirOrPortsExitsAtOnce(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	n1 := c.bootstrap("n1")
	proc, _ := n1.current()
	dataDir := filepath.Join(n1.dir, "data")

	// Same data dir, ports of its own.
	ports := testutil.FreePorts(t, 4)
	other := withFlag(n1.args, "--data-dir", dataDir)
	for i, flag := range []string{"--http-port", "--raft-port", "--gossip-port", "--quic-port"} {
		other = withFlag(other, flag, strconv.Itoa(ports[i]))
	}
	res := runCLI(t, 2*secondNodeExit, other...)
	want := fmt.Sprintf("data dir %s is in use by another casare process (pid %d)", dataDir, proc.Pid)
	if res.code <= 0 || !strings.Contains(res.stderr, want) || res.took > secondNodeExit {
		t.Fatalf("second node on the same data dir, want exit with %q:\n%s", want, res)
	}
	t.Logf("a second node on the same data dir gave up after %v", res.took.Round(time.Millisecond))

	// Same command line: the data dir answers first.
	if res := runCLI(t, 2*secondNodeExit, n1.args...); res.code <= 0 || !strings.Contains(res.stderr, want) {
		t.Fatalf("the same command line again, want %q:\n%s", want, res)
	}

	// Same ports, a data dir of its own.
	again := withFlag(n1.args, "--data-dir", filepath.Join(t.TempDir(), "data"))
	res = runCLI(t, 2*secondNodeExit, again...)
	if res.code <= 0 || !strings.Contains(res.stderr, `a casare node is already running: node "n1"`) ||
		strings.Contains(res.stderr, "address already in use") || res.took > secondNodeExit {
		t.Fatalf("second node on the same ports:\n%s", res)
	}
	t.Logf("a second node on the same ports gave up after %v", res.took.Round(time.Millisecond))

	if ready, err := n1.client.Ready(t.Context()); !ready {
		t.Fatalf("the running node is no longer ready: %v", err)
	}
}

// TestSignalStopsANodeWhileItStarts: SIGTERM stops a node that is still
// starting (here: joining through an address where nothing answers)
// within the bound, not after its join times out.
func TestSignalStopsANodeWhileItStarts(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	nowhere := net.JoinHostPort("127.0.0.1", strconv.Itoa(testutil.FreePorts(t, 1)[0]))
	// A well-formed token: the node gets as far as asking nowhere for its
	// certificate, and retries that until its join times out.
	token := "casare_join_" + strings.Repeat("0", 64) + ".sha256:" + strings.Repeat("0", 64)
	n := c.add("n1", []string{"node", "join", nowhere, "--join-token", token})
	n.start()
	waitFor(t, startTimeout, "the joining node to start joining", func() (bool, error) {
		return strings.Contains(n.logText(), "asking the cluster for a node certificate"), nil
	})
	n.signal(syscall.SIGTERM)
	at := time.Now()
	n.waitExit(secondNodeExit)
	t.Logf("a starting node stopped %v after SIGTERM", time.Since(at).Round(time.Millisecond))
}
