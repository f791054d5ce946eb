// Package cluster holds Casare's fault tests: real casare processes on
// 127.0.0.1, killed with SIGKILL, paused with SIGSTOP, made to leave and
// restarted from their data directories, while clients check what the
// design promises (DESIGN.md §3 queue semantics, §4 membership, §10):
// failover within 5 s, no acknowledged write lost, linearizable
// consistent reads, job completion exactly once and resumption from the
// last checkpoint, schedules firing each fire time exactly once across
// leader kills, internet robots over QUIC surviving the death of their
// node, and a three-server cluster forming however it is started.
//
// The partition tests (Linux, root) run each node on a private host in a
// network namespace the test makes, cut links on the bridge between them
// and restore them, under submit load (netns_linux_test.go,
// partition_linux_test.go). Where namespaces cannot be made they skip,
// or fail with CASARE_TEST_NETNS=1.
//
// The package has tests only, for Unix systems (they pause nodes with
// SIGSTOP). TestMain builds cmd/casare once, without the race detector,
// so the nodes run at production speed:
//
//	go test -race -count=1 ./test/cluster/
//
// The failover-time measurement over ten or more leader kills is a
// benchmark, kept out of the default run for time:
//
//	go test -run '^$' -bench Failover -benchtime 1x ./test/cluster/
package cluster
