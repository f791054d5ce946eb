package wire

import "time"

// SnapshotKeyHeader carries the operator's snapshot key (standard
// base64 of 32 bytes) on GET and PUT /api/v1/operator/snapshot: the node
// seals the file with it, or opens the file with it.
const SnapshotKeyHeader = "Casare-Snapshot-Key"

// SnapshotCounts summarises a cluster state.
type SnapshotCounts struct {
	Workflows        int `json:"workflows"`
	WorkflowVersions int `json:"workflow_versions"`
	Schedules        int `json:"schedules"`
	Jobs             int `json:"jobs"`
	QueuedJobs       int `json:"queued_jobs"`
	APITokens        int `json:"api_tokens"`
	RobotTokens      int `json:"robot_tokens"`
	Secrets          int `json:"secrets"`
}

// SnapshotInfo describes a snapshot file.
type SnapshotInfo struct {
	CreatedAt time.Time      `json:"created_at"`
	Node      string         `json:"node"`
	Index     uint64         `json:"index"`
	Counts    SnapshotCounts `json:"counts"`
	// CAFingerprint is the fingerprint of the cluster CA the file holds.
	CAFingerprint string `json:"ca_fingerprint,omitempty"`
}

// SnapshotRestoreResponse answers PUT /api/v1/operator/snapshot.
type SnapshotRestoreResponse struct {
	Snapshot SnapshotInfo   `json:"snapshot"`
	Before   SnapshotCounts `json:"before"`
	After    SnapshotCounts `json:"after"`
	// Index is the Raft index the restored state was applied at.
	Index uint64 `json:"index"`
	// CAFingerprint is this cluster's CA; when it differs from the
	// file's, robots and tokens pinned to the old CA must be given this
	// one (or the cluster rebuilt with the file's CA).
	CAFingerprint string `json:"ca_fingerprint,omitempty"`
	// Repeated says a restore with the same Idempotency-Key and file had
	// taken effect already (an earlier try, whose answer a leader change
	// hid): nothing was restored again, Before is empty and Index is the
	// cluster's index now.
	Repeated bool `json:"repeated,omitempty"`
}
