//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/robot"
)

// createRobotTokens makes n robot tokens, each bound to its own robot
// name, from a few clients at once.
func createRobotTokens(ctx context.Context, c *client.Client, n int) ([]string, error) {
	tokens := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				tok, err := c.CreateRobotToken(ctx, fmt.Sprintf("fleet-%04d", i))
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("create robot token %d: %w", i, err) })
					return
				}
				tokens[i] = tok.Token
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return tokens, firstErr
}

// fleet is the internet robots this process runs, each with its own
// tunnel queue (one QUIC connection) and robot loop.
type fleet struct {
	engine *executor.Engine
	mu     sync.Mutex
	robots []*fleetRobot
}

type fleetRobot struct {
	queue *robot.TunnelQueue
	stop  context.CancelFunc
	done  chan struct{}
}

func newFleet() *fleet {
	return &fleet{engine: executor.NewEngine(executor.EngineOptions{WorkDir: os.TempDir()})}
}

// connect dials one robot per token, spread over the nodes' gateways, a
// few handshakes at a time, and starts each robot once it is connected.
func (f *fleet) connect(ctx context.Context, c *procCluster, tokens []string) error {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.quic)
	}
	var next atomic.Int64
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(tokens) && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				// Robot i dials node i%3 first, as an installer that
				// hands out the nodes' addresses in turn would.
				own := append(slices.Clone(addrs[i%len(addrs):]), addrs[:i%len(addrs)]...)
				if err := f.start(ctx, own, tokens[i], fmt.Sprintf("fleet-%04d", i)); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

func (f *fleet) start(ctx context.Context, addrs []string, token, name string) error {
	q, err := robot.NewTokenQueue(addrs, token, tunnel.Hello{Name: name, Capacity: 1}, nil)
	if err != nil {
		return fmt.Errorf("robot %s: %w", name, err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := q.Connect(dialCtx); err != nil {
		return fmt.Errorf("connect robot %s: %w", name, err)
	}
	id := q.Identity()
	r := robot.New(robot.Config{ID: id.RobotID, Kind: consensus.RobotInternet, Tags: id.Tags, Capacity: id.Capacity,
		Engine: f.engine, Abort: q.Refused()}, q)
	runCtx, stop := context.WithCancel(context.Background())
	fr := &fleetRobot{queue: q, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(fr.done)
		r.Run(runCtx)
	}()
	f.mu.Lock()
	f.robots = append(f.robots, fr)
	f.mu.Unlock()
	return nil
}

// stopAllBut stops every robot but the first keep, closing their
// connections, and waits for them.
func (f *fleet) stopAllBut(keep int) {
	f.mu.Lock()
	gone := f.robots[min(keep, len(f.robots)):]
	f.robots = f.robots[:min(keep, len(f.robots))]
	f.mu.Unlock()
	for _, r := range gone {
		r.stop()
	}
	for _, r := range gone {
		<-r.done
		r.queue.Close()
	}
}

func (f *fleet) stop() { f.stopAllBut(0) }

// waitFleetRecorded waits until the cluster lists exactly want internet
// robots as connected: each connect and disconnect is one Raft entry,
// and the idle window must not count them.
func waitFleetRecorded(ctx context.Context, c *client.Client, want int) error {
	deadline := time.Now().Add(2 * time.Minute)
	got := -1
	for time.Now().Before(deadline) && ctx.Err() == nil {
		list, err := c.Robots(ctx, client.Consistent())
		if err == nil {
			got = 0
			for _, r := range list.Robots {
				if r.Kind == consensus.RobotInternet && r.State != api.RobotDisconnected {
					got++
				}
			}
			if got == want {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the cluster lists %d internet robots connected, want %d", got, want)
}
