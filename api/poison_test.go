package api_test

import (
	"net/http"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// TestPoisonCommandRefusedBeforeRaft sends what a broken or newer node
// could forward to the leader's apply endpoint: each gets 400 invalid,
// and neither the log nor the state moves.
func TestPoisonCommandRefusedBeforeRaft(t *testing.T) {
	n := apitest.StartLeader(t, "n1")
	header := func(typ byte) []byte { return []byte{typ, 0, 0, 0, 0, 0, 0, 0, 0} }
	for name, body := range map[string][]byte{
		"newer command type":  append(header(250), `{"id":"x"}`...),
		"undecodable payload": append(header(3), `{"jobs": [`...),
		"wrong field type":    append(header(1), `{"id": 7, "name": "w"}`...),
		"short envelope":      {3, 0},
		"empty body":          {},
	} {
		beforeIndex, beforeState := n.Store.AppliedIndex(), replicatedState(t, n.Store)
		r := send(t, http.MethodPost, n.URL+"/internal/v1/apply", "application/octet-stream", body)
		if r.status != http.StatusBadRequest || r.apiError(t).Code != "invalid" {
			t.Fatalf("%s: status %d, body %s; want 400 invalid", name, r.status, r.body)
		}
		if after := n.Store.AppliedIndex(); after != beforeIndex {
			t.Fatalf("%s: applied index moved %d -> %d", name, beforeIndex, after)
		}
		if after := replicatedState(t, n.Store); after != beforeState {
			t.Fatalf("%s: state changed:\n%s\n%s", name, beforeState, after)
		}
	}
}
