package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

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

// RestoreSnapshot sends a snapshot file to be restored into the whole
// cluster. Only the leader restores; when the node asked is not the
// leader, the call goes once more to the leader it names.
func (c clusterService) RestoreSnapshot(ctx context.Context, key string, file []byte, opts ...CallOption) (wire.SnapshotRestoreResponse, error) {
	opts = append(opts, snapshotKey(key))
	restore := func(at *conn) (wire.SnapshotRestoreResponse, error) {
		var out wire.SnapshotRestoreResponse
		req := request{method: http.MethodPut, path: snapshotPath, body: bytes.NewReader(file), contentType: "application/octet-stream", opts: opts, longLived: true}
		err := at.call(ctx, req, &out)
		return out, err
	}
	out, err := restore(c.conn)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "not_leader" {
		return out, err
	}
	var details struct {
		LeaderAPI string `json:"leader_api"`
	}
	if json.Unmarshal(ae.Details, &details) != nil || details.LeaderAPI == "" || c.base == nil {
		return out, err
	}
	return restore(c.at(c.base.Scheme + "://" + details.LeaderAPI))
}
