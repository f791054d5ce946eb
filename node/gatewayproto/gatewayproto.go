// Package gatewayproto is the protocol an internet robot and a node's
// QUIC gateway speak over a tunnel (mesh/tunnel): the method names and
// the request and answer types that are not consensus commands. The
// robot side (node/robot) and the node side (node) both import it, so
// neither imports the other for it.
//
// Claims, heartbeats, completions and hand-backs carry the consensus
// command types (consensus.ProgressCmd, …) as their bodies; the gateway
// overwrites their robot id with the one the tunnel authenticated.
package gatewayproto

import (
	"encoding/json"
	"slices"

	"github.com/casare/casare/consensus"
)

// Methods internet robots call over the tunnel.
const (
	MethodClaim    = "claim"    // ClaimRequest → []consensus.ClaimedJob
	MethodProgress = "progress" // consensus.ProgressCmd → []consensus.Ack
	MethodComplete = "complete" // consensus.CompleteCmd → []consensus.Ack
	MethodCluster  = "cluster"  // {} → ClusterInfo
	MethodHandBack = "handback" // consensus.HandBackCmd → []consensus.Ack
	MethodGraph    = "graph"    // consensus.GraphRef → GraphAnswer
	// MethodWork claims and reports completions in one call: WorkRequest →
	// WorkAnswer. Only a node whose ClusterInfo lists FeatureWork serves it.
	MethodWork = "work"
)

// FeatureWork, in ClusterInfo.Features, says the node serves MethodWork.
const FeatureWork = "work"

// ClaimRequest asks the node for up to Max jobs, waiting up to WaitMS for
// work to appear. The node answers the moment a job is claimable, so jobs
// reach internet robots without polling.
type ClaimRequest struct {
	Max       int    `json:"max"`
	RequestID string `json:"request_id"`
	WaitMS    int    `json:"wait_ms"`
	// Have lists the workflow versions whose graphs the robot holds: the
	// node leaves them out of the jobs it answers with. A node that
	// predates the field ignores it and sends every graph.
	Have []consensus.GraphRef `json:"have,omitempty"`
	// Compact asks a node serving MethodWork to answer with WorkJobs
	// (WorkAnswer.Compact) rather than whole jobs. A node that predates
	// the field ignores it and answers with whole jobs, which the robot
	// reads as well.
	Compact bool `json:"compact,omitempty"`
}

// GraphAnswer is a workflow version's graph, for a robot that was told
// it holds one it has since lost (MethodGraph).
type GraphAnswer struct {
	Graph json.RawMessage `json:"graph"`
}

// ClusterInfo lists the QUIC addresses of the cluster's servers, so a
// robot can reconnect elsewhere when its node dies.
type ClusterInfo struct {
	QUICAddrs []string `json:"quic_addrs"`
	// Features lists the optional methods the answering node serves
	// (FeatureWork). A node that predates the field sends none, and an
	// older robot ignores it, so each side uses only what both know.
	Features []string `json:"features,omitempty"`
}

// Has reports whether the node serves the optional feature f.
func (c ClusterInfo) Has(f string) bool { return slices.Contains(c.Features, f) }
