package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/wire"
)

func graphNamed(name, end string) []byte {
	return []byte(`{"name":"` + name + `","nodes":[{"id":"start","type":"start"},{"id":"` + end + `","type":"end"}],"connections":[{"from":"start","to":"` + end + `"}]}`)
}

func TestWorkflowsExportImportRoundTrip(t *testing.T) {
	src := apitest.StartLeader(t, "src")
	for _, g := range [][]byte{graphNamed("invoices", "a"), graphNamed("invoices", "b"), graphNamed("reports", "done")} {
		name := "invoices"
		if bytes.Contains(g, []byte("reports")) {
			name = "reports/eu" // a name that is no file name
		}
		if _, err := src.Client.CreateWorkflow(t.Context(), wire.CreateWorkflowRequest{WorkflowName: name, WorkflowJSON: g, TriggerType: "none", Tags: []string{"finance"}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	out := mustRun(t, "workflows", "export", dir, "--server", src.URL)
	if !strings.Contains(out, "exported 2 workflows (3 versions)") {
		t.Errorf("export printed %q", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("export wrote %v", files)
	}

	dst := apitest.StartLeader(t, "dst")
	out = mustRun(t, "workflows", "import", dir, "--server", dst.URL)
	if !strings.Contains(out, "3 versions created, 0 already present") || !strings.Contains(out, "created invoices version 2") {
		t.Errorf("first import printed %q", out)
	}
	out = mustRun(t, "workflows", "import", dir, "--server", dst.URL)
	if !strings.Contains(out, "0 versions created, 3 already present") {
		t.Errorf("second import printed %q", out)
	}
	// The same files come back out of the cluster they went into, ids aside.
	again := t.TempDir()
	mustRun(t, "workflows", "export", again, "--server", dst.URL)
	for _, f := range files {
		a, _ := readExportFile(f)
		b, err := readExportFile(filepath.Join(again, filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != b.Name || len(a.Versions) != len(b.Versions) || strings.Join(a.Tags, ",") != strings.Join(b.Tags, ",") {
			t.Errorf("%s: exported %+v, re-exported %+v", filepath.Base(f), a, b)
			continue
		}
		for i := range a.Versions {
			if a.Versions[i].Checksum != b.Versions[i].Checksum {
				t.Errorf("%s version %d: checksum %s became %s", a.Name, i+1, a.Versions[i].Checksum, b.Versions[i].Checksum)
			}
		}
	}

	t.Run("a bad file imports nothing", func(t *testing.T) {
		bad := t.TempDir()
		data, _ := os.ReadFile(files[0])
		os.WriteFile(filepath.Join(bad, "a.json"), data, 0o600)
		os.WriteFile(filepath.Join(bad, "b.json"), []byte(`{"format":"casare-workflow/1","name":"x","versions":[]}`), 0o600)
		empty := apitest.StartLeader(t, "empty")
		_, _, err := runCLI(t, "workflows", "import", bad, "--server", empty.URL)
		if err == nil || !strings.Contains(err.Error(), "no versions") {
			t.Fatalf("import of a bad file: %v", err)
		}
		if list, _ := empty.Client.Workflows(t.Context()); len(list.Workflows) != 0 {
			t.Errorf("a refused import stored %v", list.Workflows)
		}
	})
}

func TestSnapshotCommands(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	if _, err := node.Client.CreateWorkflow(t.Context(), wire.CreateWorkflowRequest{WorkflowName: "kept", WorkflowJSON: graphNamed("kept", "done"), TriggerType: "none"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, snap := filepath.Join(dir, "snap.key"), filepath.Join(dir, "cluster.snap")
	mustRun(t, "operator", "snapshot", "keygen", key)
	if _, _, err := runCLI(t, "operator", "snapshot", "keygen", key); err == nil {
		t.Error("keygen replaced an existing key file")
	}
	out := mustRun(t, "operator", "snapshot", "save", snap, "--key-file", key, "--server", node.URL)
	if !strings.Contains(out, "saved "+snap) {
		t.Errorf("save printed %q", out)
	}
	out = mustRun(t, "operator", "snapshot", "inspect", snap, "--key-file", key)
	if !strings.Contains(out, "snapshot of n1") {
		t.Errorf("inspect printed %q", out)
	}
	if _, err := node.Client.CreateWorkflow(t.Context(), wire.CreateWorkflowRequest{WorkflowName: "later", WorkflowJSON: graphNamed("later", "done"), TriggerType: "none"}); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.key")
	mustRun(t, "operator", "snapshot", "keygen", other)
	if _, _, err := runCLI(t, "operator", "snapshot", "restore", snap, "--key-file", other, "--server", node.URL); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("restore with the wrong key: %v", err)
	}
	out = mustRun(t, "operator", "snapshot", "restore", snap, "--key-file", key, "--server", node.URL)
	if !strings.Contains(out, "restored the state of n1") || !regexpMatch(`workflows\s+2\s+1`, out) {
		t.Errorf("restore printed %q", out)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func TestPrintRestoreOfARepeatShowsTheStateNow(t *testing.T) {
	var out bytes.Buffer
	printRestore(&out, wire.SnapshotRestoreResponse{Snapshot: wire.SnapshotInfo{Node: "n1", Index: 6}, After: wire.SnapshotCounts{Workflows: 2}, Index: 14, Repeated: true})
	text := out.String()
	if !strings.Contains(text, "on an earlier try") || !strings.Contains(text, "not restored again") || !regexpMatch(`NOW`, text) || !regexpMatch(`workflows\s+2\n`, text) || strings.Contains(text, "BEFORE") {
		t.Errorf("a repeated restore printed %q", text)
	}
}
