package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// serverModules are what a program that only calls the API must not
// link: the HTTP server, Raft and its storage, the browser driver, the
// expression engine, gossip and QUIC.
var serverModules = []string{
	"github.com/gin-gonic/gin",
	"github.com/hashicorp/raft",
	"github.com/hashicorp/raft-boltdb",
	"go.etcd.io/bbolt",
	"github.com/boltdb/bolt",
	"github.com/chromedp/chromedp",
	"github.com/chromedp/cdproto",
	"github.com/expr-lang/expr",
	"github.com/hashicorp/memberlist",
	"github.com/quic-go/quic-go",
}

// TestClientLinksNoServer lists what the client package builds on, as the
// go command sees it, and fails on any package of the server's modules
// and on any package outside the standard library other than the client
// and the wire types.
func TestClientLinksNoServer(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs the go command, which is not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/casare/casare/api/client": true,
		"github.com/casare/casare/api/wire":   true,
	}
	reported := map[string]bool{} // one error per server module is enough
	for line := range strings.Lines(string(out)) {
		path, standard, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch server := serverModule(path); {
		case server != "":
			if reported[server] {
				continue
			}
			reported[server] = true
			t.Errorf("api/client links %s (of %s): a program calling the API would link the server", path, server)
		case standard != "true" && !allowed[path]:
			t.Errorf("api/client links %s: it may build only on the standard library and api/wire", path)
		}
	}
}

// serverModule returns the entry of serverModules that path is or is
// under, or "".
func serverModule(path string) string {
	for _, m := range serverModules {
		if path == m || strings.HasPrefix(path, m+"/") {
			return m
		}
	}
	return ""
}
