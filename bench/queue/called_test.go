//go:build unix

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/casare/casare/api/client"
)

// TestCalledNodes checks which nodes the submit clients call: all of
// them by default, with -via leader the one the first node names leader.
func TestCalledNodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/cluster" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"node":"n1","leader":{"name":"n3"}}`))
	}))
	defer srv.Close() // closed below too, to see the lookup fail
	c := &procCluster{
		nodes:   []*procNode{{name: "n1"}, {name: "n2"}, {name: "n3"}},
		clients: []*client.Client{client.New(srv.URL)},
	}
	ctx := context.Background()
	for _, tc := range []struct {
		via, label string
		want       []int
	}{
		{"all", "over all nodes", []int{0, 1, 2}},
		{"leader", "via the leader", []int{2}},
	} {
		got, label, err := c.called(ctx, tc.via)
		if err != nil || label != tc.label || !slices.Equal(got, tc.want) {
			t.Errorf("-via %s: %v %q %v, want %v %q", tc.via, got, label, err, tc.want, tc.label)
		}
	}
	srv.Close()
	if _, _, err := c.called(ctx, "leader"); err == nil {
		t.Error("-via leader with no node answering: want an error")
	}
}
