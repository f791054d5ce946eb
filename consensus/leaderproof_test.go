package consensus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/casare/casare/internal/testutil"
)

// TestHeartbeatRoundNeedsAQuorumInItsTerm runs rounds on a real
// three-server cluster: one in the leader's term succeeds, one in an
// earlier term is refused by followers that moved on, one among voters
// that take the connection and never answer fails within the leader
// lease instead of waiting out the transport's timeout, and one after
// both followers stopped fails too.
func TestHeartbeatRoundNeedsAQuorumInItsTerm(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	term := leader.raft.CurrentTerm()
	if err := leader.heartbeatRound(ctx, term, &inflightBeats{}); err != nil {
		t.Fatalf("round in the leader's term %d: %v", term, err)
	}
	if err := leader.heartbeatRound(ctx, term-1, &inflightBeats{}); !errors.Is(err, raft.ErrLeadershipLost) {
		t.Fatalf("round in the earlier term %d: %v, want ErrLeadershipLost", term-1, err)
	}

	silent := []raft.Server{{ID: raft.ServerID(leader.cfg.Name), Suffrage: raft.Voter}}
	for i := range 2 {
		silent = append(silent, raft.Server{ID: raft.ServerID(fmt.Sprintf("silent-%d", i)), Address: raft.ServerAddress(silentListener(t)), Suffrage: raft.Voter})
	}
	start := time.Now()
	if err := leader.heartbeatQuorum(ctx, term, silent, &inflightBeats{}); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("round among silent voters: %v, want ErrNotLeader", err)
	}
	if took, lease := time.Since(start), leader.cfg.leaderLease(); took > 4*lease {
		t.Fatalf("round among silent voters took %v, want about the leader lease %v", took, lease)
	}

	for _, s := range c.stores {
		if s != leader {
			c.fwd.drop(s)
			s.Close()
		}
	}
	if err := leader.heartbeatRound(ctx, term, &inflightBeats{}); !retryable(err) {
		t.Fatalf("round without followers: %v, want a retryable leadership error", err)
	}
	// Once raft has stepped down, the term's reads fail as retryable.
	testutil.WaitFor(t, 10*time.Second, "the leader without followers to step down", func() bool {
		return !leader.IsLeader()
	})
	reads := leader.reads.Load()
	if reads == nil || reads.term != term {
		t.Fatalf("reads of term %d not published: %+v", term, reads)
	}
	if err := leader.proveLeadership(ctx, reads); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("proof after stepping down: %v, want ErrNotLeader", err)
	}
}

// silentListener returns the address of a listener that accepts
// connections and never answers on them, until the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
