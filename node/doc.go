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
// The robot runtime lives in node/robot; the node starts its LAN robot
// with the queue that fits its roles: its own store on a server
// (robot.StoreQueue), a server's internal endpoints on a robot-only node
// (queue.go, through node/peer). The QUIC gateway (gateway*.go) serves
// internet robots the protocol of node/gatewayproto and relays their
// calls to the leader. The node package also sets the process's
// garbage-collector targets (runtime.go).
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
