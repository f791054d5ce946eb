package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casare/casare/api/client"
)

// TestCLIBesideTheFirstNodeNeedsNoToken replays the README's quick start
// with real processes: `casare node start` in a directory writes
// ./casare-data/admin.token and prints the token once; the CLI run in
// that directory finds it with no flag, while the same command elsewhere
// is refused with a message that says how to give a token. A restart
// prints no token again.
func TestCLIBesideTheFirstNodeNeedsNoToken(t *testing.T) {
	c := newCluster(t)
	n := c.add("solo", []string{"node", "start"})
	i := slices.Index(n.args, "--data-dir")
	n.args[i+1] = "casare-data" // the default, relative to the node's directory
	n.tokenFile = filepath.Join(n.dir, "casare-data", "admin.token")
	n.client = client.New(serverURL(n), client.WithTimeout(callTimeout), withTokenFile(n.tokenFile))
	n.start()
	n.waitReady()

	data, err := os.ReadFile(n.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(data))
	if got := strings.Count(n.logText(), token); got != 1 {
		t.Fatalf("the node printed its admin token %d times, want once", got)
	}
	status := func(dir string) (string, error) {
		cmd := exec.CommandContext(t.Context(), casareBin, "workflows", "--server", serverURL(n))
		cmd.Dir = dir
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CASARE_TOKEN=") })
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := status(n.dir); err != nil {
		t.Fatalf("casare workflows beside the node: %v\n%s", err, out)
	}
	out, err := status(t.TempDir())
	if err == nil || !strings.Contains(out, "HTTP 401") || !strings.Contains(out, "--token") {
		t.Fatalf("casare workflows elsewhere without a token: %v\n%s", err, out)
	}

	n.kill()
	n.restart()
	if got := strings.Count(n.logText(), token); got != 1 {
		t.Fatalf("after a restart the log holds the admin token %d times, want once", got)
	}
	if out, err := status(n.dir); err != nil {
		t.Fatalf("casare workflows after a restart: %v\n%s", err, out)
	}
}
