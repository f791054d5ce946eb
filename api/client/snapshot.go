package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/casare/casare/api/wire"
)

const snapshotPath = "/api/v1/operator/snapshot"

// snapshotKey sends the operator's snapshot key (base64) with one call.
func snapshotKey(key string) CallOption {
	return func(r *http.Request) { r.Header.Set(wire.SnapshotKeyHeader, strings.TrimSpace(key)) }
}

// SaveSnapshot writes the cluster's state, sealed by the node with key
// (standard base64 of 32 bytes), to w. It is bounded by ctx, not by the
// client's timeout: a large state takes as long as it takes.
func (c clusterService) SaveSnapshot(ctx context.Context, key string, w io.Writer, opts ...CallOption) (int64, error) {
	opts = append(opts, snapshotKey(key))
	resp, err := c.send(ctx, c.unbounded(), request{method: http.MethodGet, path: snapshotPath, opts: opts}, "application/octet-stream")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: read snapshot: %w", snapshotPath, err)
	}
	return n, nil
}

// A restore follows leader changes for at most restoreRounds rounds. The
// first wait is restoreWait and each one after it doubles, so the last
// round starts about three seconds after the first: longer than an
// election, shorter than an operator's patience.
const (
	restoreRounds = 5
	restoreWait   = 200 * time.Millisecond
)

// RestoreSnapshot sends a snapshot file to be restored into the whole
// cluster. Only the leader restores. When the node asked is not the
// leader, the call goes at once to the leader it names. When the leader
// changes during the call, or no leader is known, the call is sent again
// after a short wait: to the leader named, or else to the node first
// asked; so is a call the connection failed under, since a leader that
// goes down mid-restore leaves no answer at all. Every try carries the
// same Idempotency-Key (a random one, or the caller's IdempotencyKey
// option): a leader that finds the restore of that key and file has
// taken effect already answers Repeated and restores nothing again,
// which would throw away what was written since.
func (c clusterService) RestoreSnapshot(ctx context.Context, key string, file []byte, opts ...CallOption) (wire.SnapshotRestoreResponse, error) {
	opts = slices.Concat([]CallOption{IdempotencyKey(rand.Text())}, opts, []CallOption{snapshotKey(key)})
	restore := func(at *conn) (wire.SnapshotRestoreResponse, error) {
		var out wire.SnapshotRestoreResponse
		req := request{method: http.MethodPut, path: snapshotPath, body: bytes.NewReader(file), contentType: "application/octet-stream", opts: opts, longLived: true}
		err := at.call(ctx, req, &out)
		return out, err
	}
	at, wait := c.conn, restoreWait
	for round := 1; ; round++ {
		out, err := restore(at)
		if leader, again := c.leaderAfter(ctx, at, err); again && leader != nil && !sameBase(leader, at) {
			at = leader
			out, err = restore(at)
		}
		leader, again := c.leaderAfter(ctx, at, err)
		if !again || round == restoreRounds {
			return out, err
		}
		if at = c.conn; leader != nil {
			at = leader
		}
		if serr := sleep(ctx, wait); serr != nil {
			return out, fmt.Errorf("PUT %s: %w (last error: %w)", snapshotPath, serr, err)
		}
		wait *= 2
	}
}

// sameBase reports whether a and b reach the same address.
func sameBase(a, b *conn) bool {
	return a.base != nil && b.base != nil && a.base.String() == b.base.String()
}

// leaderAfter reads the outcome of a call to at for a leader change:
// again reports not_leader, no_leader or a failed connection (while ctx
// lasts), and leader is the connection to the leader the answer names,
// if it names one.
func (c clusterService) leaderAfter(ctx context.Context, at *conn, err error) (leader *conn, again bool) {
	var ae *APIError
	var ue *url.Error
	switch {
	case errors.As(err, &ae) && (ae.Code == "not_leader" || ae.Code == "no_leader"):
	case !errors.As(err, &ae) && errors.As(err, &ue) && at.baseErr == nil && ctx.Err() == nil:
		return nil, true
	default:
		return nil, false
	}
	var details struct {
		LeaderAPI string `json:"leader_api"`
	}
	if json.Unmarshal(ae.Details, &details) != nil || details.LeaderAPI == "" || c.base == nil {
		return nil, true
	}
	return c.at(c.base.Scheme + "://" + details.LeaderAPI), true
}

// sleep waits for d, or until ctx ends and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
