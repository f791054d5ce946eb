//go:build unix

package cluster

import (
	"github.com/casare/casare/internal/testutil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one security CLI call: a refused join answers at
// once; a rotation is three steps on each of a few members.
const cliTimeout = 60 * time.Second

// TestJoinWithAWrongTokenExitsAndChangesNothing: `casare node join` with
// a wrong join token and with none exits non-zero saying why, and the
// cluster keeps exactly its members.
func TestJoinWithAWrongTokenExitsAndChangesNothing(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 1)
	n1 := c.byName("n1")
	token, err := os.ReadFile(c.seedToken)
	if err != nil {
		t.Fatal(err)
	}
	secret, fingerprint, _ := strings.Cut(strings.TrimSpace(string(token)), ".")
	wrong := secret[:len(secret)-4] + "0000" + "." + fingerprint
	if wrong == strings.TrimSpace(string(token)) {
		wrong = secret[:len(secret)-4] + "1111" + "." + fingerprint
	}
	before, err := servers(t, n1)
	if err != nil {
		t.Fatal(err)
	}
	for what, tc := range map[string]struct {
		args []string
		says string
	}{
		"a wrong token": {[]string{"--join-token", wrong}, "join token is wrong"},
		"no token":      {nil, "no join token given"},
	} {
		ports := testutil.FreePorts(t, 4)
		args := append([]string{"node", "join", n1.http, "--name", "n2", "--data-dir", filepath.Join(t.TempDir(), "data"),
			"--http-port", strconv.Itoa(ports[0]), "--raft-port", strconv.Itoa(ports[1]), "--gossip-port", strconv.Itoa(ports[2]), "--quic-port", strconv.Itoa(ports[3])}, tc.args...)
		res := runCLI(t, cliTimeout, args...)
		if res.code == 0 || res.code == -1 || !strings.Contains(res.stderr, tc.says) {
			t.Errorf("join with %s: want a non-zero exit saying %q; got %s", what, tc.says, res)
		}
	}
	after, err := servers(t, n1)
	if err != nil {
		t.Fatal(err)
	}
	if describeServers(after) != describeServers(before) {
		t.Fatalf("refused joins changed the servers: before %s, after %s", describeServers(before), describeServers(after))
	}
}

// TestGossipKeyRotateCommand: `casare operator gossip-key rotate` on a
// node's machine gives every member the same new key, and the cluster
// keeps serving.
func TestGossipKeyRotateCommand(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3)
	n1 := c.byName("n1")
	keys := func(n *node) string {
		data, err := os.ReadFile(filepath.Join(n.dir, "data", "gossip.keys"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	old := keys(n1)
	res := runCLI(t, cliTimeout, "operator", "gossip-key", "rotate", "--server", serverURL(n1), "--data-dir", filepath.Join(n1.dir, "data"))
	if res.code != 0 || !strings.Contains(res.stdout, "rotated on 3 members") {
		t.Fatalf("rotate: %s", res)
	}
	for _, n := range c.all() {
		if got := keys(n); got == old || got != keys(n1) {
			t.Fatalf("%s's gossip keys after rotation %q; n1's %q, before %q", n.name, got, keys(n1), old)
		}
	}
	// Another node's certificate does not authenticate a rotation here.
	n2 := c.byName("n2")
	res = runCLI(t, cliTimeout, "operator", "gossip-key", "rotate", "--server", serverURL(n1), "--data-dir", filepath.Join(n2.dir, "data"))
	if res.code == 0 || !strings.Contains(res.stderr, `certificate in`) {
		t.Fatalf("rotate with n2's data dir against n1: %s", res)
	}
	c.waitServers(3)
}
