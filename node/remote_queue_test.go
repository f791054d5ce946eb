package node

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
	"github.com/casare/casare/mesh"
)

// TestRemoteQueueReusesConnections: the robot of a robot-only node
// heartbeats, claims and waits through a server many times a second. Its
// calls must share one connection pool: a new pool per call opened a new
// TCP connection each time and left it idle for 90 s, hundreds of
// connections and goroutines on both sides per robot.
func TestRemoteQueueReusesConnections(t *testing.T) {
	srv := startNode(t, testConfig(t, "server1", ""))
	// The worker dials the server's cluster port with a robot-only
	// certificate, as a robot-only node does; the dials are counted.
	robot := issue(t, srv, "worker", false)
	var conns atomic.Int64
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		conns.Add(1)
		return clusternet.Dial(ctx, addr, clusternet.KindHTTP, robot.ClientConfig())
	}}}

	front := startMesh(t, "front", mesh.Meta{Roles: []string{"server"}, RaftAddr: srv.ClusterAddr()})
	worker := startMesh(t, "worker", mesh.Meta{Roles: []string{"robot"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := worker.Join(ctx, []string{front.Addr()}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the worker to see the server in gossip", func() bool { return len(liveServers(worker, clusterAddr)) > 0 })

	q := newRemoteQueue(worker, hc)
	const calls = 20
	for range calls {
		acks, err := q.Progress(ctx, consensus.ProgressCmd{RobotID: "worker", Items: []consensus.Progress{{JobID: "nope", Token: 1}}})
		if err != nil || len(acks) != 1 || acks[0].OK {
			t.Fatalf("progress of an unknown job: %v %+v", err, acks)
		}
	}
	if n := conns.Load(); n > 2 {
		t.Fatalf("%d sequential calls opened %d connections, want them to share one", calls, n)
	}
}

func startMesh(t *testing.T, name string, meta mesh.Meta) *mesh.Mesh {
	t.Helper()
	m, err := mesh.New(mesh.Config{Name: name, BindAddr: "127.0.0.1", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}
