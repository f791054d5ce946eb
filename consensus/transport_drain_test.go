package consensus

import (
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestTransportCloseWaitsForHeartbeatsInFlight: Close returns only once
// the heartbeat raft is answering has returned, so the node's store can
// close after it without raft writing the term into a closed database.
func TestTransportCloseWaitsForHeartbeatsInFlight(t *testing.T) {
	recv, err := raft.NewTCPTransport("127.0.0.1:0", nil, 1, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	qt := newQuietTransport(recv)
	entered, release := make(chan struct{}), make(chan struct{})
	var returned atomic.Bool
	qt.SetHeartbeatHandler(func(rpc raft.RPC) {
		close(entered)
		<-release
		rpc.Respond(&raft.AppendEntriesResponse{Success: true}, nil)
		returned.Store(true)
	})
	send, err := raft.NewTCPTransport("127.0.0.1:0", nil, 1, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	beat := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{Addr: []byte(send.LocalAddr())}, Term: 2}
	sent := make(chan error, 1)
	go func() {
		sent <- send.AppendEntries("n1", qt.LocalAddr(), beat, new(raft.AppendEntriesResponse))
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the heartbeat never reached the handler")
	}
	closed := make(chan error, 1)
	go func() { closed <- qt.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a heartbeat was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if !returned.Load() {
		t.Fatal("Close returned before the heartbeat's handler had")
	}
	// The answer itself may or may not reach the sender: the network
	// transport writes it after the handler returns, on a connection
	// Close is closing. Either way the call ends.
	<-sent
}
