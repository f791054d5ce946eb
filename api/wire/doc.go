// Package wire holds the JSON types of Casare's REST API (v1) and the
// bodies of the internal endpoints that carry no replicated record.
//
// The server (package api) decodes requests into these types and encodes
// its answers from them; the Go client (package api/client) does the
// reverse, so the two cannot drift apart. The package imports only the
// standard library, so that a program that calls the API links none of
// the server (gin, Raft, the workflow engine): a test in api/client keeps
// it that way.
//
// Records that the cluster replicates (consensus.Job, consensus.Fire, …)
// are mapped to these types in api/views.go rather than sent as they
// are, so a change to the replicated form is never a change to the API
// by accident.
package wire
