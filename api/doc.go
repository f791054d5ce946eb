// Package api serves a node's HTTP surface: the public REST API (v1)
// over the replicated store, health and readiness checks, Prometheus
// metrics, the OpenAPI document, and the internal endpoints through
// which nodes forward writes to the leader and join the cluster, and
// through which robots of robot-only nodes (which hold no replica) claim,
// report and wait for work.
//
// Every node serves the same API. Reads are answered from the node's
// own replica and say which Raft index they saw (the
// X-Casare-Applied-Index header, and applied_index in list bodies);
// ?consistent=true makes a read linearizable. A lookup by id that misses
// is confirmed with the leader before the 404 (503 when no leader can be
// asked), so a client never sees "not found" for something a node
// acknowledged. Writes go through the
// store, which forwards them to the leader and returns only after the
// Raft commit.
//
// Input is strict: unknown fields, wrong types, missing fields and
// oversized bodies are refused with a 400 or 413 naming the problem,
// before anything reaches the store.
package api
