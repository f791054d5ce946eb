package mesh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// testLogger collects a test's logs and prints them only if it fails: five
// chatty nodes would drown a passing run, and memberlist goroutines may log
// after the test has returned, when t.Log would panic.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return slogTo(logs)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testMeta is a distinct, recognisable Meta for node i.
func testMeta(i int) Meta {
	return Meta{
		Roles:    []string{"robot"},
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", 18000+i),
		QUICAddr: fmt.Sprintf("127.0.0.1:%d", 19000+i),
		Tags:     []string{"lan", fmt.Sprintf("rack-%d", i)},
		Capacity: i + 1,
		Version:  "test",
	}
}

// startNode starts a mesh on 127.0.0.1 and shuts it down when the test ends.
func startNode(t *testing.T, logger *slog.Logger, name string, port int, meta Meta) *Mesh {
	t.Helper()
	return startNodeWith(t, Config{Name: name, BindAddr: "127.0.0.1", BindPort: port, Meta: meta, Logger: logger})
}

// startNodeWith starts a mesh of cfg and shuts it down when the test ends.
func startNodeWith(t *testing.T, cfg Config) *Mesh {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// startCluster starts n nodes named node-0 … node-(n-1), joins them all
// through node-0 and waits until every node sees every other alive.
func startCluster(t *testing.T, n int) []*Mesh {
	t.Helper()
	return startClusterTimed(t, n, Timing{})
}

// startClusterTimed is startCluster with the nodes' gossip timings.
func startClusterTimed(t *testing.T, n int, timing Timing) []*Mesh {
	t.Helper()
	logger := testLogger(t)
	nodes := make([]*Mesh, n)
	for i := range nodes {
		nodes[i] = startNodeWith(t, Config{Name: fmt.Sprintf("node-%d", i), BindAddr: "127.0.0.1", Meta: testMeta(i), Logger: logger, Timing: timing})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range nodes[1:] {
		if _, err := m.Join(ctx, []string{nodes[0].Addr()}); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	waitFor(t, 10*time.Second, "every node sees every node alive", func() bool {
		for _, observer := range nodes {
			for _, m := range nodes {
				if state, _, _ := observer.MemberState(m.name); state != StateAlive {
					return false
				}
			}
		}
		return true
	})
	return nodes
}

// waitFor polls cond until it holds or timeout passes.
var waitFor = testutil.WaitFor

// collector holds the events a subscription has delivered so far.
type collector struct {
	mu     sync.Mutex
	events []Event
	done   chan struct{}
}

// collect drains a subscription in the background until its channel
// closes; it needs no unsubscribe function because Shutdown closes it.
func collect(ch <-chan Event, _ func()) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range ch {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
		}
	}()
	return c
}

// types returns the types of the events seen for member name, in order.
func (c *collector) types(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var types []string
	for _, ev := range c.events {
		if ev.Member.Name == name {
			types = append(types, ev.Type)
		}
	}
	return types
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
