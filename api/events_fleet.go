package api

import (
	"context"
	"sync"
	"time"
)

// Robot and leader changes are not entries of the log: a LAN robot's
// state comes from gossip, a robot turns suspect when its heartbeats stop
// arriving, and each node sees the leader change for itself. While at
// least one client is connected, the fleet watcher compares the fleet
// and the leader this node sees every fleetPoll and publishes what
// changed; a stream's hello carries the whole fleet, so a client never
// needs what happened while it was away.

// fleetPoll is how often the watcher looks: robots turn suspect after
// seconds (DefaultRobotSuspectAfter), so a second is prompt enough, and
// the fleet view costs a walk over running jobs, not over every job.
const fleetPoll = time.Second

// fleetWatcher runs watch while at least one client is connected.
type fleetWatcher struct {
	mu    sync.Mutex
	n     int
	stop  context.CancelFunc
	done  chan struct{}
	watch func(ctx context.Context)
}

// join counts a client in, starting the watch for the first.
func (w *fleetWatcher) join() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n++; w.n > 1 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.stop, w.done = cancel, done
	go func() {
		defer close(done)
		w.watch(ctx)
	}()
}

// leave counts a client out, stopping the watch (and waiting for it)
// after the last.
func (w *fleetWatcher) leave() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n--; w.n > 0 {
		return
	}
	w.stop()
	<-w.done
}

// robotSeen is what the watcher compares between two looks at a robot.
type robotSeen struct{ state, kind, node string }

// watchFleet publishes robot and leader changes until ctx ends.
func (s eventsAPI) watchFleet(ctx context.Context) {
	robots := s.seeRobots()
	leader, _ := s.leaderTerm()
	t := time.NewTicker(fleetPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.seeRobots()
		var evs []Event
		for id, r := range now {
			if robots[id] != r {
				evs = append(evs, Event{Type: EventRobot, RobotID: id, State: r.state, Kind: r.kind, Node: r.node})
			}
		}
		for id, r := range robots {
			if _, ok := now[id]; !ok {
				evs = append(evs, Event{Type: EventRobot, RobotID: id, State: RobotLeft, Kind: r.kind, Node: r.node})
			}
		}
		robots = now
		if l, term := s.leaderTerm(); l != leader {
			leader = l
			evs = append(evs, Event{Type: EventLeader, Leader: l, Term: term})
		}
		if len(evs) > 0 {
			s.events.hub.publish(evs...)
		}
	}
}

func (s eventsAPI) seeRobots() map[string]robotSeen {
	out := map[string]robotSeen{}
	for _, r := range s.fleet() {
		out[r.ID] = robotSeen{state: r.State, kind: r.Kind, node: r.Node}
	}
	return out
}
