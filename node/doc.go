// Package node is the composition root of a Casare node: it starts and
// stops one node's parts (gossip, Raft store, REST API) in order, wires
// them to each other, joins an existing cluster, and leaves it gracefully.
//
// A server also watches its own membership (membership.go): when it finds
// itself outside the Raft configuration, removed by the leader after a
// network cut or by an operator, it stops serving data (the API answers
// 503 not_member), rejoins through its live peers under its own name and
// serves again once it has caught up. It gives gossip the addresses of
// the servers in its Raft configuration, so that gossip retries them after
// a cut even when it has forgotten them.
package node
