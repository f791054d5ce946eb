// Package proctest holds what the tests that run casare as processes
// share: building the binary once per test binary, and API clients that
// authenticate with the token file a node writes.
package proctest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casare/casare/api/client"
)

// Main is a TestMain body: it builds casare into a temporary directory,
// sets *bin to the binary, runs the tests and removes the directory. It
// returns the exit code for os.Exit.
func Main(m *testing.M, bin *string) int {
	dir, err := os.MkdirTemp("", "casare-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = BuildCasare(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// BuildCasare builds cmd/casare into dir and returns the binary's path.
// It is built without -race even when the test binary has it: the
// detector slows the nodes several times over and would distort every
// timing the tests measure. The compiler's output goes to stderr.
func BuildCasare(dir string) (string, error) {
	bin := filepath.Join(dir, "casare")
	build := exec.Command("go", "build", "-o", bin, "github.com/casare/casare/cmd/casare")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build casare: %w", err)
	}
	return bin, nil
}

// WithTokenFile authenticates every call with the token in path, read
// when a call is made: a test builds a node's client before the
// bootstrapping node has written its admin token. Without the file, a
// call goes out without a token.
func WithTokenFile(path string) client.Option {
	return func(hc *http.Client) {
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = tokenFileTransport{base: base, path: path}
	}
}

type tokenFileTransport struct {
	base http.RoundTripper
	path string
}

func (t tokenFileTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if data, err := os.ReadFile(t.path); err == nil {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(data)))
	}
	return t.base.RoundTrip(r)
}
