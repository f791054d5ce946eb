package api

// Server holds the configuration, the store and the shared helpers
// (abort, decoding, authorization, forwarding). Its HTTP handlers are
// grouped by concern onto small types that embed *Server, so that no one
// type carries every endpoint; routes() makes one of each and registers
// their methods.
type (
	// jobsAPI submits, lists, cancels and reruns jobs and serves their
	// logs.
	jobsAPI struct{ *Server }
	// workflowsAPI stores and validates workflows, lists the designer's
	// node types and pauses or tunes the queue per workflow.
	workflowsAPI struct{ *Server }
	// schedulesAPI keeps schedules and previews their fires.
	schedulesAPI struct{ *Server }
	// robotsAPI lists robots, drains them and issues their tokens.
	robotsAPI struct{ *Server }
	// robotQueueAPI is the queue as a LAN robot without Raft state sees
	// it: claims, progress, hand-backs, crashes and completions.
	robotQueueAPI struct{ *Server }
	// clusterAPI reports health, members and figures, removes servers
	// and saves and restores snapshots.
	clusterAPI struct{ *Server }
	// accessAPI issues API tokens and sign-in codes and keeps sessions.
	accessAPI struct{ *Server }
	// secretsAPI keeps the vault's secrets and connects OAuth accounts.
	secretsAPI struct{ *Server }
	// eventsAPI streams changes over WebSocket or Server-Sent Events.
	eventsAPI struct{ *Server }
	// internalAPI serves the node-to-node endpoints on the cluster port.
	internalAPI struct{ *Server }
)

// guards is the middleware every request passes before a handler:
// panics, metrics, CORS, authentication of users and peers, and the
// checks that a node is a member, caught up and able to read.
type guards struct{ *Server }
