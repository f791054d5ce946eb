package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/backup"
	"github.com/casare/casare/consensus"
)

func snapshotKeyText(b byte) string {
	return string(backup.EncodeKey(bytes.Repeat([]byte{b}, backup.KeySize)))
}

func workflowNames(t *testing.T, c *client.Client) []string {
	t.Helper()
	list, err := c.Workflows(t.Context(), client.Consistent())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, wf := range list.Workflows {
		names = append(names, wf.Name)
	}
	slices.Sort(names)
	return names
}

func createNamedWorkflow(t *testing.T, c *client.Client, name string) {
	t.Helper()
	if _, err := c.CreateWorkflow(t.Context(), wire.CreateWorkflowRequest{WorkflowName: name, WorkflowJSON: []byte(helloWorkflow)}); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotEndpointsAreForAdminsWithAKey(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	viewer := n.NewToken(t, "viewer", consensus.RoleViewer)
	operator := n.NewToken(t, "operator", consensus.RoleOperator)
	url := n.URL + "/api/v1/operator/snapshot"
	key := strings.TrimSpace(snapshotKeyText(1))
	for _, tok := range []string{viewer, operator} {
		if r := send(t, http.MethodGet, url, "", nil, "Authorization", "Bearer "+tok, wire.SnapshotKeyHeader, key); r.status != http.StatusForbidden {
			t.Errorf("GET as non-admin: %d %s", r.status, r.body)
		}
		if r := send(t, http.MethodPut, url, "application/octet-stream", []byte("x"), "Authorization", "Bearer "+tok, wire.SnapshotKeyHeader, key); r.status != http.StatusForbidden {
			t.Errorf("PUT as non-admin: %d %s", r.status, r.body)
		}
	}
	if r := send(t, http.MethodGet, url, "", nil, "Authorization", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET without credential: %d", r.status)
	}
	r := send(t, http.MethodGet, url, "", nil)
	if e := r.apiError(t); r.status != http.StatusBadRequest || !strings.Contains(e.Message, wire.SnapshotKeyHeader) {
		t.Errorf("GET without a key: %d %s", r.status, r.body)
	}
	r = send(t, http.MethodGet, url, "", nil, wire.SnapshotKeyHeader, "c2hvcnQ=")
	if e := r.apiError(t); r.status != http.StatusBadRequest || !strings.Contains(e.Message, "32") {
		t.Errorf("GET with a short key: %d %s", r.status, r.body)
	}
}

func TestSnapshotSaveAndRestore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n := apitest.StartLeader(t, "n1")
	createNamedWorkflow(t, n.Client, "kept")
	key := snapshotKeyText(1)
	var file bytes.Buffer
	if _, err := n.Client.SaveSnapshot(ctx, key, &file); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file.Bytes(), []byte("kept")) {
		t.Error("the snapshot holds a workflow name in clear")
	}
	createNamedWorkflow(t, n.Client, "made-later")

	t.Run("damaged or wrongly keyed files change nothing", func(t *testing.T) {
		before := replicatedState(t, n.Store)
		flipped := bytes.Clone(file.Bytes())
		flipped[len(flipped)/2] ^= 1
		for name, tc := range map[string]struct {
			file []byte
			key  string
			want string
		}{
			"corrupted":      {flipped, key, "corrupted"},
			"truncated":      {file.Bytes()[:file.Len()-100], key, "truncated"},
			"wrong key":      {file.Bytes(), snapshotKeyText(2), "another key"},
			"not a snapshot": {[]byte(`{"workflows":[]}`), key, "not a Casare snapshot"},
		} {
			_, err := n.Client.RestoreSnapshot(ctx, tc.key, tc.file)
			if !client.IsCode(err, "invalid") || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing changed") {
				t.Errorf("%s: %v, want invalid naming %q", name, err, tc.want)
			}
		}
		if after := replicatedState(t, n.Store); after != before {
			t.Errorf("a refused restore changed the state")
		}
	})

	resp, err := n.Client.RestoreSnapshot(ctx, key, file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Before.Workflows != 2 || resp.After.Workflows != 1 || resp.Snapshot.Node != "n1" || resp.Index <= resp.Snapshot.Index {
		t.Errorf("restore answered %+v", resp)
	}
	if got := workflowNames(t, n.Client); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("workflows after the restore: %v, want [kept]", got)
	}
}

func TestSnapshotRestoreThroughAFollowerGoesToTheLeader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n1 := apitest.StartLeader(t, "n1")
	n2 := apitest.Start(t, apitest.Config{Name: "n2"})
	if _, err := n1.Peer.Join(ctx, n2.JoinRequest()); err != nil {
		t.Fatal(err)
	}
	n2.WaitLeaderKnown(t, 10*time.Second)
	createNamedWorkflow(t, n1.Client, "kept")
	key := snapshotKeyText(3)
	var file bytes.Buffer
	if _, err := n2.Client.SaveSnapshot(ctx, key, &file, client.Consistent()); err != nil {
		t.Fatalf("save on a follower: %v", err)
	}
	createNamedWorkflow(t, n1.Client, "made-later")

	r := send(t, http.MethodPut, n2.URL+"/api/v1/operator/snapshot", "application/octet-stream", file.Bytes(), wire.SnapshotKeyHeader, strings.TrimSpace(key))
	if e := r.apiError(t); e.Code != consensus.CodeNotLeader || !strings.Contains(string(e.Details), n1.Addr) {
		t.Errorf("PUT on a follower: %d %s, want not_leader naming %s", r.status, r.body, n1.Addr)
	}
	if _, err := n2.Client.RestoreSnapshot(ctx, key, file.Bytes()); err != nil {
		t.Fatalf("restore through a follower: %v", err)
	}
	for _, n := range []*apitest.Node{n1, n2} {
		if got := workflowNames(t, n.Client); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("%s after the restore: %v, want [kept]", n.Name, got)
		}
	}
}

func TestSnapshotRestoreSentAgainIsNotRestoredTwice(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n := apitest.StartLeader(t, "n1")
	createNamedWorkflow(t, n.Client, "kept")
	key := snapshotKeyText(4)
	var file bytes.Buffer
	if _, err := n.Client.SaveSnapshot(ctx, key, &file); err != nil {
		t.Fatal(err)
	}
	createNamedWorkflow(t, n.Client, "made-before")
	first, err := n.Client.RestoreSnapshot(ctx, key, file.Bytes(), client.IdempotencyKey("restore-1"))
	if err != nil || first.Repeated {
		t.Fatalf("first restore: %+v, %v", first, err)
	}
	// A write between a try whose answer was lost and the try sent again.
	createNamedWorkflow(t, n.Client, "made-after")
	again, err := n.Client.RestoreSnapshot(ctx, key, file.Bytes(), client.IdempotencyKey("restore-1"))
	if err != nil || !again.Repeated || again.After.Workflows != 2 || again.Before != (wire.SnapshotCounts{}) {
		t.Fatalf("the same restore sent again: %+v, %v; want repeated, with the 2 workflows there now", again, err)
	}
	if got := workflowNames(t, n.Client); !slices.Equal(got, []string{"kept", "made-after"}) {
		t.Errorf("workflows after the repeat: %v, want the write made since kept", got)
	}
	// The same key with another file is a restore of its own.
	var later bytes.Buffer
	if _, err := n.Client.SaveSnapshot(ctx, key, &later); err != nil {
		t.Fatal(err)
	}
	createNamedWorkflow(t, n.Client, "made-last")
	other, err := n.Client.RestoreSnapshot(ctx, key, later.Bytes(), client.IdempotencyKey("restore-1"))
	if err != nil || other.Repeated {
		t.Fatalf("another file under the same key: %+v, %v", other, err)
	}
	if got := workflowNames(t, n.Client); !slices.Equal(got, []string{"kept", "made-after"}) {
		t.Errorf("workflows after restoring the later file: %v, want [kept made-after]", got)
	}
	// Without a key, every restore is one, the same file's included.
	url := n.URL + "/api/v1/operator/snapshot"
	for range 2 {
		createNamedWorkflow(t, n.Client, "made-between")
		r := send(t, http.MethodPut, url, "application/octet-stream", file.Bytes(), wire.SnapshotKeyHeader, strings.TrimSpace(key))
		if r.status != http.StatusOK || strings.Contains(string(r.body), "repeated") {
			t.Fatalf("restore without a key: %d %s", r.status, r.body)
		}
		if got := workflowNames(t, n.Client); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("workflows after a restore without a key: %v, want [kept]", got)
		}
	}
}
