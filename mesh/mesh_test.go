package mesh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestJoinFiveMembers(t *testing.T) {
	nodes := startCluster(t, 5)
	for _, observer := range nodes {
		members := observer.Members()
		if len(members) != len(nodes) {
			t.Fatalf("%s sees %d members, want %d: %+v", observer.name, len(members), len(nodes), members)
		}
		for i, got := range members {
			want := nodes[i]
			if got.Name != want.name || got.Addr != want.Addr() || got.State != StateAlive {
				t.Errorf("%s sees member %d as %s at %s (%s), want %s at %s (alive)",
					observer.name, i, got.Name, got.Addr, got.State, want.name, want.Addr())
			}
			if !reflect.DeepEqual(got.Meta, testMeta(i)) {
				t.Errorf("%s sees %s's meta as %+v, want %+v", observer.name, got.Name, got.Meta, testMeta(i))
			}
		}
	}
}

// TestDeadDetection kills members one at a time, the way SIGKILL would
// (no leave), and measures how long the survivors take to declare each one
// dead. Six members keep more than three alive until the last kill, so
// memberlist asks peers to confirm suspicions as it would in production.
func TestDeadDetection(t *testing.T) {
	const kills = 3
	nodes := startCluster(t, 6)
	watcher := nodes[0] // stands in for the Raft leader
	events := collect(watcher.Subscribe(64))

	var atWatcher, atAll []time.Duration
	for k := range kills {
		victim := nodes[len(nodes)-1-k]
		survivors := nodes[:len(nodes)-1-k]

		killed := time.Now()
		if err := victim.Shutdown(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 8*time.Second, victim.name+" is dead everywhere", func() bool {
			for _, s := range survivors {
				if state, _, _ := s.MemberState(victim.name); state != StateDead {
					return false
				}
			}
			return true
		})
		var slowest time.Duration
		for _, s := range survivors {
			_, since, _ := s.MemberState(victim.name)
			slowest = max(slowest, since.Sub(killed))
			if s == watcher {
				atWatcher = append(atWatcher, since.Sub(killed))
			}
		}
		atAll = append(atAll, slowest)

		for _, s := range survivors {
			for _, other := range survivors {
				if state, _, _ := s.MemberState(other.name); state != StateAlive {
					t.Errorf("%s sees live %s as %s", s.name, other.name, state)
				}
			}
		}
	}

	t.Logf("dead detection over %d kills: at the watcher median %v max %v; at every survivor median %v max %v",
		kills, median(atWatcher), slices.Max(atWatcher), median(atAll), slices.Max(atAll))
	for _, d := range atAll {
		if d > 8*time.Second {
			t.Errorf("detection took %v, want under 8s", d)
		}
	}
	for k := range kills {
		victim := nodes[len(nodes)-1-k].name
		if got := events.types(victim); !slices.Equal(got, []string{EventDead}) {
			t.Errorf("watcher's events for %s: %v, want [dead]", victim, got)
		}
	}
}

func TestLeave(t *testing.T) {
	leaver := leaveLast(t, startCluster(t, 5), 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if state, _, _ := leaver.MemberState(leaver.name); state != StateLeft {
		t.Errorf("leaver sees itself as %s, want left", state)
	}

	if err := leaver.Leave(ctx); err != nil {
		t.Errorf("second Leave: %v, want nil", err)
	}
	if err := leaver.Shutdown(); err != nil {
		t.Errorf("Shutdown after Leave: %v", err)
	}
	if err := leaver.UpdateMeta(ctx, Meta{}); !errors.Is(err, ErrClosed) {
		t.Errorf("UpdateMeta after Leave: %v, want ErrClosed", err)
	}
}

// TestLeaveWithThinGossip leaves a five-node cluster whose broadcasts
// are sent once each (RetransmitMult 1), so the gossiped leave intent
// reaches one peer and spreads only by relays, racing memberlist's own
// leave message: every observer must still see only "left", never
// "dead" first, because the intent also goes to each member directly.
func TestLeaveWithThinGossip(t *testing.T) {
	leaveLast(t, startClusterTimed(t, 5, Timing{RetransmitMult: 1, PushPullInterval: 500 * time.Millisecond}), 15*time.Second)
}

// leaveLast makes the last of nodes leave and waits, at most limit, until
// the others hold it as left, each having been told only "left" of it.
func leaveLast(t *testing.T, nodes []*Mesh, limit time.Duration) (leaver *Mesh) {
	t.Helper()
	leaver, observers := nodes[len(nodes)-1], nodes[:len(nodes)-1]
	var streams []*collector
	for _, o := range observers {
		streams = append(streams, collect(o.Subscribe(64)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := leaver.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	waitLeft(t, limit, leaver, observers, streams)
	return leaver
}

// waitLeft waits until every observer holds leaver as left and its event
// stream has delivered the "left" event (the stream is read in the
// background, so it may lag the state), then checks that the stream
// said nothing else about leaver: no "dead" before the "left".
func waitLeft(t *testing.T, limit time.Duration, leaver *Mesh, observers []*Mesh, streams []*collector) {
	t.Helper()
	waitFor(t, limit, leaver.name+" is left everywhere", func() bool {
		for i, o := range observers {
			state, _, _ := o.MemberState(leaver.name)
			if got := streams[i].types(leaver.name); state != StateLeft || len(got) == 0 || got[len(got)-1] != EventLeft {
				return false
			}
		}
		return true
	})
	for i, o := range observers {
		if got := streams[i].types(leaver.name); !slices.Equal(got, []string{EventLeft}) {
			t.Errorf("%s's events for %s: %v, want [left]", o.name, leaver.name, got)
		}
	}
}

// TestRejoinAfterDeath brings a dead member back under the same name, first
// on its old port (a restarted robot with a fixed gossip port, which
// memberlist accepts through incarnation refutation), then on a new one (a
// new DHCP lease or ephemeral port, which needs DeadNodeReclaimTime).
func TestRejoinAfterDeath(t *testing.T) {
	nodes := startCluster(t, 5)
	logger := testLogger(t)
	observers := nodes[:4]
	victim := nodes[4]
	port := portOf(t, victim.Addr())

	for round, rebindPort := range []int{port, 0} {
		killed := time.Now()
		if err := victim.Shutdown(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 8*time.Second, victim.name+" is dead everywhere", func() bool {
			return everyoneSees(observers, victim.name, StateDead)
		})
		if rebindPort == 0 {
			// A new address may only claim the name once its death is
			// DeadNodeReclaimTime old everywhere.
			time.Sleep(LANTiming().DeadNodeReclaimTime)
		}

		meta := testMeta(4)
		meta.Version = fmt.Sprintf("round-%d", round)
		victim = startNode(t, logger, "node-4", rebindPort, meta)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := victim.Join(ctx, []string{nodes[0].Addr()})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "node-4 is alive again everywhere with its new meta", func() bool {
			for _, o := range observers {
				m := memberNamed(o.Members(), "node-4")
				if m.State != StateAlive || m.Meta.Version != meta.Version || m.Addr != victim.Addr() || !m.Since.After(killed) {
					return false
				}
			}
			return true
		})
	}
}

func TestUpdateMeta(t *testing.T) {
	nodes := startCluster(t, 3)
	events := collect(nodes[0].Subscribe(64))

	meta := testMeta(1)
	meta.Capacity = 42
	meta.Tags = append(meta.Tags, "gpu")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[1].UpdateMeta(ctx, meta); err != nil {
		t.Fatalf("update meta: %v", err)
	}
	waitFor(t, 5*time.Second, "every node sees node-1's new meta", func() bool {
		for _, o := range nodes {
			if !reflect.DeepEqual(memberNamed(o.Members(), "node-1").Meta, meta) {
				return false
			}
		}
		return true
	})
	waitFor(t, time.Second, "an update event reaches node-0", func() bool {
		return slices.Equal(events.types("node-1"), []string{EventUpdate})
	})

	huge := meta
	huge.Tags = []string{strings.Repeat("x", 600)}
	err := nodes[1].UpdateMeta(ctx, huge)
	if !errors.Is(err, ErrMetaTooLarge) || !strings.Contains(err.Error(), "bytes encoded") {
		t.Fatalf("oversized UpdateMeta: %v, want ErrMetaTooLarge naming the size", err)
	}
	if got := memberNamed(nodes[1].Members(), "node-1").Meta; !reflect.DeepEqual(got, meta) {
		t.Errorf("after a rejected update node-1 advertises %+v, want %+v", got, meta)
	}
	_, err = New(Config{Name: "huge", BindAddr: "127.0.0.1", Meta: huge})
	if !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("New with oversized meta: %v, want ErrMetaTooLarge", err)
	}
	t.Logf("oversized meta error: %v", err)
}

func TestSubscribe(t *testing.T) {
	nodes := startCluster(t, 3)
	reader := collect(nodes[0].Subscribe(64))
	stalled, _ := nodes[0].Subscribe(1) // never read
	gone, unsubscribe := nodes[0].Subscribe(64)
	unsubscribe()
	unsubscribe() // must be harmless
	if _, open := <-gone; open {
		t.Fatal("channel still open after unsubscribe")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const updates = 5
	meta := testMeta(2)
	for i := range updates {
		meta.Capacity = 100 + i
		if err := nodes[2].UpdateMeta(ctx, meta); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	// The stalled subscriber holds one event and loses the rest, while the
	// reader still gets every update: gossip did not wait for either.
	waitFor(t, 5*time.Second, "the reader gets every update", func() bool {
		return len(reader.types("node-2")) == updates
	})
	if got := memberNamed(nodes[0].Members(), "node-2").Meta.Capacity; got != meta.Capacity {
		t.Errorf("node-0 sees capacity %d, want %d", got, meta.Capacity)
	}
	if got := nodes[0].DroppedEvents(); got != updates-1 {
		t.Errorf("DroppedEvents = %d, want %d", got, updates-1)
	}
	if len(stalled) != 1 {
		t.Errorf("stalled subscriber holds %d events, want 1", len(stalled))
	}

	if err := nodes[0].Shutdown(); err != nil {
		t.Fatal(err)
	}
	<-reader.done // Shutdown closes every subscriber's channel
	if late, _ := nodes[0].Subscribe(1); !isClosed(late) {
		t.Error("Subscribe after Shutdown returned an open channel")
	}
}

func TestConfigRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{BindAddr: "127.0.0.1"}, "Name is required"},
		{"advertise 0.0.0.0", Config{Name: "n", BindAddr: "127.0.0.1", AdvertiseAddr: "0.0.0.0"}, "advertise address 0.0.0.0 is unspecified"},
		{"advertise ::", Config{Name: "n", BindAddr: "127.0.0.1", AdvertiseAddr: "::"}, "advertise address :: is unspecified"},
		{"advertise defaults to wildcard bind", Config{Name: "n", BindAddr: "0.0.0.0"}, "advertise address 0.0.0.0 is unspecified"},
		{"advertise defaults to empty bind", Config{Name: "n"}, "advertise address 0.0.0.0 is unspecified"},
		{"advertise hostname", Config{Name: "n", BindAddr: "127.0.0.1", AdvertiseAddr: "robot-7.lan"}, "not an IP address"},
		{"advertise port without bind port", Config{Name: "n", BindAddr: "127.0.0.1", AdvertisePort: 7946}, "needs a fixed BindPort"},
		{"bad port", Config{Name: "n", BindAddr: "127.0.0.1", BindPort: 70000}, "not a valid port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil {
				_ = m.Shutdown()
				t.Fatalf("New accepted %+v", tc.cfg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestJoinGivesUpWithContext(t *testing.T) {
	m := startNode(t, testLogger(t), "lonely", 0, Meta{})
	// Nothing listens on port 1, so every attempt is refused at once and
	// Join keeps retrying until the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	n, err := m.Join(ctx, []string{"127.0.0.1:1"})
	if n != 0 || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "join gossip via 127.0.0.1:1") {
		t.Fatalf("Join = %d, %v; want 0 and a deadline error naming the address", n, err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, err := m.Join(context.Background(), []string{"127.0.0.1:1"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Shutdown: %v, want ErrClosed", err)
	}
	if err := m.Leave(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Shutdown: %v, want ErrClosed", err)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func everyoneSees(observers []*Mesh, name, state string) bool {
	for _, o := range observers {
		if got, _, _ := o.MemberState(name); got != state {
			return false
		}
	}
	return true
}

func memberNamed(members []Member, name string) Member {
	for _, m := range members {
		if m.Name == name {
			return m
		}
	}
	return Member{}
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("port of %q: %v", hostport, err)
	}
	return port
}

func isClosed(ch <-chan Event) bool {
	select {
	case _, open := <-ch:
		return !open
	default:
		return false
	}
}
