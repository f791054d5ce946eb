// Package node is the composition root of a Casare node: it starts and
// stops one node's parts (gossip, Raft store, REST API) in order, wires
// them to each other, joins an existing cluster, and leaves it gracefully.
package node
