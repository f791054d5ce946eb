package consensus

import "github.com/hashicorp/raft"

// Heartbeats after shutdown.
//
// hashicorp/raft answers heartbeats on the transport's connection
// goroutine, outside its main loop: processHeartbeat checks that raft is
// not shut down and then writes the leader's term to the stable store.
// Neither raft.Shutdown nor NetworkTransport.Close waits for a heartbeat
// that passed that check, so one could reach the Bolt store after Close
// had closed it, and raft panics when it cannot save the term ("failed to
// save current term: database not open"): a node's process, or a test
// binary holding several nodes, died while a node stopped. Close waits
// for the heartbeats in flight, and a heartbeat after it is refused, so
// the store closes only once none can reach it.

// SetHeartbeatHandler wraps raft's heartbeat handler so that Close can
// wait for it.
func (t *quietTransport) SetHeartbeatHandler(cb func(rpc raft.RPC)) {
	if cb == nil {
		t.NetworkTransport.SetHeartbeatHandler(nil)
		return
	}
	t.NetworkTransport.SetHeartbeatHandler(func(rpc raft.RPC) {
		t.beats.RLock()
		defer t.beats.RUnlock()
		if t.closed {
			rpc.Respond(nil, raft.ErrTransportShutdown)
			return
		}
		cb(rpc)
	})
}

// Close refuses further heartbeats, waits for those in flight and closes
// the network transport. Raft must be shut down first: a heartbeat in
// flight then finds raft's shutdown channel closed wherever it would
// wait on raft's loop.
func (t *quietTransport) Close() error {
	t.beats.Lock()
	t.closed = true
	t.beats.Unlock()
	return t.NetworkTransport.Close()
}
