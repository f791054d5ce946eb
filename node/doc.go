// Package node is the composition root of a Casare node: it starts and
// stops one node's parts (gossip, Raft store, REST API, QUIC gateway,
// robot) in order, wires them to each other, joins an existing cluster,
// and leaves it gracefully.
//
// # Design
//
// [Start] builds the parts from a [Config]: the mesh (gossip) first, so
// that the store can ask it who is alive; the store (when the node is a
// server), forwarding to the leader through node/peer; the API over the
// store; the QUIC gateway through which internet robots reach the
// leader; then it joins the cluster (or bootstraps one) and starts the
// robot (when the node runs one). [Node.Close] stops them in the reverse
// order, after the robot has finished or handed back its jobs;
// [Node.Leave] first removes a server from Raft and tells gossip, so that
// peers see the node as left, not dead.
//
// The robot runtime lives here for now (robot.go): a claim loop that
// asks a Queue for work, runs each job with the executor, and reports
// heartbeats, checkpoints, logs and completions in batches. Its Queue is
// the node's own store on a server, a server's internal endpoints on a
// robot-only node (node/peer), or a QUIC connection to a node for an
// internet robot (TunnelQueue, behind `casare robot connect`). The node
// package also sets the process's garbage-collector targets (runtime.go).
//
// A node holds no state of its own outside its data dir: what the
// cluster must remember goes through Raft, what it must know of
// liveness comes from gossip. docs/design.md in the repository has the
// whole picture.
//
// A server also watches its own membership (membership.go): when it finds
// itself outside the Raft configuration, removed by the leader after a
// network cut or by an operator, it stops serving data (the API answers
// 503 not_member), rejoins through its live peers under its own name and
// serves again once it has caught up. It gives gossip the addresses of
// the servers in its Raft configuration, so that gossip retries them after
// a cut even when it has forgotten them.
package node
