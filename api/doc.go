// Package api serves a node's HTTP surface: the public REST API (v1)
// over the replicated store, health and readiness checks, Prometheus
// metrics, the OpenAPI document, and the internal endpoints through
// which nodes forward writes to the leader and join the cluster, and
// through which robots of robot-only nodes (which hold no replica) claim,
// report and wait for work.
//
// # Design
//
// A request flows through gin's router and the middleware (panic
// recovery, metrics, the credential check of auth.go: an API token or a
// session cookie whose role allows the route, else 401 or 403;
// ?consistent=true reads), is decoded strictly into a
// wire type (package api/wire, which the Go client shares), checked, and
// turned into a command of the replicated store, which it reaches only
// through interfaces split by concern in store.go ([WorkflowStore],
// [JobStore], [RobotQueue], [RobotStore], [CredentialStore], [ScheduleStore], [Replica],
// [ClusterStore]; [Store] is all of them, and *consensus.Store implements
// each, in a node and in tests). Answers are mapped from the replicated records to wire types in
// views.go, so the API's JSON never changes because a record did. Errors
// are one envelope, {"error": {"code", "message", "details"}}, with the
// HTTP status taken from one code table (errors.go). The package holds no
// state of its own beyond metrics: every node serves the same API.
//
// The internal endpoints (/internal/v1/...) are what package node/peer
// calls; they carry replicated commands and are not part of REST v1.
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
