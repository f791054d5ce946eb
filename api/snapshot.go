package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/backup"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/pki"
)

// BackupStore reads the whole state for a snapshot and restores one.
type BackupStore interface {
	Backup(ctx context.Context) (consensus.Backup, error)
	Restore(ctx context.Context, b consensus.Backup) (consensus.RestoreReport, error)
}

// DefaultMaxSnapshotBytes is Config.MaxSnapshotBytes's default.
const DefaultMaxSnapshotBytes = 1 << 30

func (s *Server) snapshotRoutes(v1 *gin.RouterGroup) {
	cluster := clusterAPI{s}
	v1.GET("/operator/snapshot", cluster.saveSnapshot)
	v1.PUT("/operator/snapshot", cluster.restoreSnapshot)
}

// snapshotKey reads the operator's key from its header.
func snapshotKey(c *gin.Context) ([]byte, error) {
	raw := c.GetHeader(wire.SnapshotKeyHeader)
	if raw == "" {
		return nil, invalidField(wire.SnapshotKeyHeader, "header is missing: send the snapshot key (base64 of 32 bytes)")
	}
	key, err := backup.ParseKey([]byte(raw))
	if err != nil {
		return nil, invalidField(wire.SnapshotKeyHeader, "%v", err)
	}
	return key, nil
}

// clusterCA returns the cluster CA as PEM, or nothing when this node was
// built without one (tests of the API alone).
func (s *Server) clusterCA() (cert, key []byte, err error) {
	if s.cfg.ClusterCA == nil {
		return nil, nil, nil
	}
	return s.cfg.ClusterCA()
}

// saveSnapshot answers with the whole state, read consistently on this
// node, sealed with the operator's key: the vault keys and the CA key in
// it never leave the node in clear.
func (s clusterAPI) saveSnapshot(c *gin.Context) {
	key, err := snapshotKey(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	b, err := s.cfg.Store.Backup(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	caCert, caKey, err := s.clusterCA()
	if err != nil {
		s.abort(c, fmt.Errorf("read the cluster CA: %w", err))
		return
	}
	file, err := backup.Seal(backup.Contents{
		CreatedAt: time.Now().UTC(), Node: s.cfg.NodeName, Index: b.Index, Counts: b.Counts,
		State: b.State, VaultKeys: b.VaultKeys, CACert: caCert, CAKey: caKey,
	}, key)
	if err != nil {
		s.abort(c, err)
		return
	}
	name := fmt.Sprintf("casare-%s-%d.snap", s.cfg.NodeName, b.Index)
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/octet-stream", file)
}

// restoreSnapshot opens the file with the operator's key and restores it
// into the whole cluster. A file that does not open changes nothing.
func (s clusterAPI) restoreSnapshot(c *gin.Context) {
	key, err := snapshotKey(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	idemKey, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	file, err := readBody(c, s.cfg.MaxSnapshotBytes)
	if err != nil {
		s.abort(c, err)
		return
	}
	contents, err := backup.Open(file, key)
	if err != nil {
		s.abort(c, invalid("snapshot refused, nothing changed: %v", err))
		return
	}
	info := wire.SnapshotInfo{CreatedAt: contents.CreatedAt, Node: contents.Node, Index: contents.Index, Counts: snapshotCounts(contents.Counts)}
	if len(contents.CACert) > 0 {
		cert, err := pki.DecodeCert(contents.CACert)
		if err != nil {
			s.abort(c, invalid("snapshot refused, nothing changed: its CA certificate: %v", err))
			return
		}
		info.CAFingerprint = pki.Fingerprint(cert)
	}
	report, err := s.cfg.Store.Restore(c.Request.Context(), consensus.Backup{Index: contents.Index, State: contents.State, VaultKeys: contents.VaultKeys, RestoreRequest: restoreRequest(idemKey, file)})
	if err != nil {
		s.abort(c, s.notLeaderDetails(err))
		return
	}
	resp := wire.SnapshotRestoreResponse{Snapshot: info, Before: snapshotCounts(report.Before), After: snapshotCounts(report.After), Index: report.Index, Repeated: report.Repeated}
	if caCert, _, err := s.clusterCA(); err == nil && len(caCert) > 0 {
		if cert, err := pki.DecodeCert(caCert); err == nil {
			resp.CAFingerprint = pki.Fingerprint(cert)
		}
	}
	c.JSON(http.StatusOK, resp)
}

// restoreRequest names a restore by the request's Idempotency-Key and
// the file's digest, so that a try sent again after a leader change hid
// the first one's answer is not restored twice, while the same key with
// another file is a restore of its own. Without a key, each restore is.
func restoreRequest(key string, file []byte) string {
	if key == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0}) // a key never holds NUL (checkName refuses control characters)
	h.Write(file)
	return hex.EncodeToString(h.Sum(nil))
}

// notLeaderDetails adds the leader's API address to a not_leader error,
// so that a client can send the restore there.
func (s clusterAPI) notLeaderDetails(err error) error {
	var ce *consensus.Error
	if !errors.As(err, &ce) || ce.Code != consensus.CodeNotLeader {
		return err
	}
	ae := newError(ce.Code, "%s", ce.Message)
	if leader, ok := s.cfg.Store.Leader(); ok {
		ae.details = map[string]any{"leader": leader.Name, "leader_api": leader.HTTPAddr}
	}
	return ae
}

func snapshotCounts(c consensus.BackupCounts) wire.SnapshotCounts {
	return wire.SnapshotCounts(c)
}
