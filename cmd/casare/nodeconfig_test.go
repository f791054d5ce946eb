package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/casare/casare/node"
)

// parseNodeSettings parses args with the flags of `casare node start`
// and loads the settings with environ as the environment.
func parseNodeSettings(t *testing.T, args []string, environ []string) (node.Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("start", pflag.ContinueOnError)
	flags := newNodeFlags(fs, hostname())
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return flags.load(environ)
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "casare.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNodeSettingsPrecedence sets some settings in all three sources:
// a flag beats the environment, the environment beats the file, the file
// beats the defaults, and what no source sets keeps its default.
func TestNodeSettingsPrecedence(t *testing.T) {
	path := writeConfig(t, `
name: from-file
http-port: 1111
raft-port: 1112
capacity: 2
dead-server-grace: 45s
tags: [file-a, file-b]
robot: false
`)
	environ := []string{
		"CASARE_NODE_HTTP_PORT=2221", "CASARE_NODE_NAME=from-env", "CASARE_NODE_TAGS=env-a,env-b", "CASARE_NODE_SERVER=false",
		"CASARE_SERVER=http://elsewhere:8080", "PATH=/usr/bin",
	}
	cfg, err := parseNodeSettings(t, []string{"--config", path, "--http-port", "3331", "--voters", "5"}, environ)
	if err != nil {
		t.Fatal(err)
	}
	d := node.DefaultConfig()
	checks := []struct {
		what      string
		got, want any
	}{
		{"http-port (flag over env and file)", cfg.HTTPPort, 3331},
		{"voters (flag over default)", cfg.Voters, 5},
		{"name (env over file)", cfg.Name, "from-env"},
		{"raft-port (file)", cfg.RaftPort, 1112},
		{"capacity (file)", cfg.Capacity, 2},
		{"dead-server-grace (file)", cfg.DeadServerGrace, 45 * time.Second},
		{"robot (file)", cfg.Robot, false},
		{"server (env)", cfg.Server, false},
		{"gossip-port (default)", cfg.GossipPort, d.GossipPort},
		{"data-dir (default)", cfg.DataDir, d.DataDir},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if !slices.Equal(cfg.Tags, []string{"env-a", "env-b"}) {
		t.Errorf("tags (env over file): %q", cfg.Tags)
	}

	// Without the flag, the environment wins; without both, the file.
	cfg, err = parseNodeSettings(t, []string{"--config", path}, environ)
	if err != nil || cfg.HTTPPort != 2221 {
		t.Errorf("http-port from env: %d, %v", cfg.HTTPPort, err)
	}
	cfg, err = parseNodeSettings(t, []string{"--config", path}, nil)
	if err != nil || cfg.HTTPPort != 1111 || cfg.Name != "from-file" || !slices.Equal(cfg.Tags, []string{"file-a", "file-b"}) {
		t.Errorf("from the file alone: %+v, %v", cfg, err)
	}
	// No file, no environment: the defaults, and the flag that is given.
	cfg, err = parseNodeSettings(t, []string{"--robot=false"}, nil)
	if err != nil || cfg.HTTPPort != d.HTTPPort || cfg.Robot || cfg.Name != hostname() {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
}

// TestBadNodeSettingsAreNamed: every bad source is refused with an error
// that names the file, the key or the variable.
func TestBadNodeSettingsAreNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.yaml")
	cases := []struct {
		name    string
		file    string // config file body; "" for none
		args    []string
		environ []string
		want    []string // substrings of the error
	}{
		{"unknown key in the file", "htpp-port: 8081\n", nil, nil, []string{"casare.yaml", `unknown key "htpp-port"`}},
		{"nested key in the file", "raft:\n  port: 1\n", nil, nil, []string{"casare.yaml", `unknown key "raft.port"`}},
		{"not YAML", "name: [unclosed\n", nil, nil, []string{"config file", "casare.yaml"}},
		{"wrong type in the file", "http-port: eighty\n", nil, nil, []string{"casare.yaml", "http-port"}},
		{"missing file", "", []string{"--config", missing}, nil, []string{"absent.yaml"}},
		{"unknown variable", "", nil, []string{"CASARE_NODE_HTTP_PROT=1"}, []string{"CASARE_NODE_HTTP_PROT"}},
		{"wrong type in the environment", "", nil, []string{"CASARE_NODE_CAPACITY=many"}, []string{"environment", "capacity"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeConfig(t, c.file)}, args...)
			}
			_, err := parseNodeSettings(t, args, c.environ)
			if !errors.Is(err, errNodeSettings) {
				t.Fatalf("error %v, want errNodeSettings", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
