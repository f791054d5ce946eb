package node

// Node is the composition root: it holds every part and starts them in
// order. Its behaviour is split by concern onto small types that embed
// *Node, so that no one type carries every method; each is a view of the
// same Node, made where it is needed (joining{n}.join(ctx, runCtx)).
type (
	// joining brings the node into the cluster and keeps it there: the
	// join handshake with a seed, rejoining after a restart, and the
	// membership watch that repairs the Raft configuration.
	joining struct{ *Node }
	// clusterLink is the node-to-node side: the cluster listener and its
	// handlers (cert exchange, leave, gossip keys), identity and the
	// clients that speak to other members.
	clusterLink struct{ *Node }
	// httpApp is the user-facing side: the HTTP listener, the REST API's
	// handler and what it reads from the node, and the admin token.
	httpApp struct{ *Node }
)
