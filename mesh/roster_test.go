package mesh

import (
	"fmt"
	"testing"
	"time"
)

func TestRosterDeadAndLeft(t *testing.T) {
	r := newRoster(time.Hour, 10)
	t0 := time.Unix(1000, 0)
	r.alive("crashed", "10.0.0.1:7946", Meta{}, 1, t0)
	r.alive("leaver", "10.0.0.2:7946", Meta{}, 2, t0)

	if _, emit, fresh := r.noteLeave("leaver", 2); emit || !fresh {
		t.Fatalf("first intent: emit=%v fresh=%v, want a fresh intent and no event", emit, fresh)
	}
	if _, _, fresh := r.noteLeave("leaver", 2); fresh {
		t.Fatal("a repeated intent is reported fresh, so it would be relayed forever")
	}
	if ev, ok := r.gone("leaver", "10.0.0.2:7946", t0.Add(time.Second)); !ok || ev.Type != EventLeft {
		t.Fatalf("gone after intent: %+v %v, want left", ev, ok)
	}
	if ev, ok := r.gone("crashed", "10.0.0.1:7946", t0.Add(time.Second)); !ok || ev.Type != EventDead {
		t.Fatalf("gone without intent: %+v %v, want dead", ev, ok)
	}
	if _, ok := r.gone("crashed", "10.0.0.1:7946", t0.Add(2*time.Second)); ok {
		t.Fatal("a second NotifyLeave produced another event")
	}
}

func TestRosterLateIntentTurnsDeadIntoLeft(t *testing.T) {
	r := newRoster(time.Hour, 10)
	t0 := time.Unix(1000, 0)
	r.alive("n", "10.0.0.1:7946", Meta{}, 7, t0)
	r.gone("n", "10.0.0.1:7946", t0.Add(time.Second))

	if _, emit, _ := r.noteLeave("n", 6); emit {
		t.Fatal("an intent from an earlier run turned the death into a leave")
	}
	ev, emit, fresh := r.noteLeave("n", 7)
	if !emit || !fresh || ev.Type != EventLeft {
		t.Fatalf("late intent: %+v emit=%v fresh=%v, want a left event", ev, emit, fresh)
	}
	if state, since, _ := r.state("n", t0.Add(2*time.Second)); state != StateLeft || !since.Equal(t0.Add(time.Second)) {
		t.Fatalf("state %s since %v, want left since the death", state, since)
	}
}

func TestRosterRestartClearsIntent(t *testing.T) {
	r := newRoster(time.Hour, 10)
	t0 := time.Unix(1000, 0)
	r.alive("n", "10.0.0.1:7946", Meta{}, 1, t0)
	r.noteLeave("n", 1)
	// The node restarts before anyone declared it gone; memberlist reports
	// the new run as an update.
	if ev, ok := r.alive("n", "10.0.0.1:7946", Meta{}, 2, t0.Add(time.Second)); !ok || ev.Type != EventUpdate {
		t.Fatalf("restart: %+v %v, want update", ev, ok)
	}
	if ev, _ := r.gone("n", "10.0.0.1:7946", t0.Add(2*time.Second)); ev.Type != EventDead {
		t.Fatalf("the new run crashed but is reported %s", ev.Type)
	}
}

func TestRosterComebackReplacesTombstone(t *testing.T) {
	r := newRoster(time.Hour, 10)
	t0 := time.Unix(1000, 0)
	r.alive("n", "10.0.0.1:7946", Meta{Version: "1"}, 1, t0)
	r.gone("n", "10.0.0.1:7946", t0.Add(time.Second))
	ev, ok := r.alive("n", "10.0.0.9:7946", Meta{Version: "2"}, 2, t0.Add(2*time.Second))
	if !ok || ev.Type != EventJoin {
		t.Fatalf("comeback: %+v %v, want join", ev, ok)
	}
	got := r.list(t0.Add(3 * time.Second))
	if len(got) != 1 || got[0].State != StateAlive || got[0].Addr != "10.0.0.9:7946" || got[0].Meta.Version != "2" ||
		!got[0].Since.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("after comeback: %+v", got)
	}
}

func TestRosterTombstoneBounds(t *testing.T) {
	r := newRoster(time.Hour, 3)
	t0 := time.Unix(1000, 0)
	r.alive("alive", "10.0.0.100:7946", Meta{}, 100, t0)
	for i := range 5 {
		name := fmt.Sprintf("dead-%d", i)
		r.alive(name, "10.0.0.1:7946", Meta{}, uint64(i), t0)
		r.gone(name, "10.0.0.1:7946", t0.Add(time.Duration(i)*time.Minute))
	}
	names := func(now time.Time) []string {
		var names []string
		for _, m := range r.list(now) {
			names = append(names, m.Name)
		}
		return names
	}
	if got := fmt.Sprint(names(t0.Add(5 * time.Minute))); got != "[alive dead-2 dead-3 dead-4]" {
		t.Fatalf("count bound keeps %s, want the alive member and the 3 newest tombstones", got)
	}
	// dead-2 died at +2m, so at +1h2m1s it is past the one-hour TTL.
	if got := fmt.Sprint(names(t0.Add(time.Hour + 2*time.Minute + time.Second))); got != "[alive dead-3 dead-4]" {
		t.Fatalf("TTL keeps %s, want the alive member and the tombstones younger than an hour", got)
	}
	if _, _, ok := r.state("dead-0", t0.Add(5*time.Minute)); ok {
		t.Fatal("MemberState reports a tombstone dropped by the count bound")
	}
	if state, _, ok := r.state("alive", t0.Add(48*time.Hour)); !ok || state != StateAlive {
		t.Fatal("an alive member expired like a tombstone")
	}
}

func TestRosterSharesRecentIntents(t *testing.T) {
	r := newRoster(time.Hour, 10)
	t0 := time.Unix(1000, 0)
	for i, name := range []string{"leaving", "left-recently", "left-long-ago", "dead"} {
		r.alive(name, "10.0.0.1:7946", Meta{}, uint64(i), t0)
	}
	r.noteLeave("leaving", 0)
	r.noteLeave("left-recently", 1)
	r.gone("left-recently", "10.0.0.1:7946", t0.Add(10*time.Minute))
	r.noteLeave("left-long-ago", 2)
	r.gone("left-long-ago", "10.0.0.1:7946", t0)
	r.gone("dead", "10.0.0.1:7946", t0.Add(10*time.Minute))

	got := map[string]bool{}
	for _, in := range r.leaveIntents(t0.Add(10*time.Minute+time.Second), time.Minute) {
		got[in.Name] = true
	}
	if len(got) != 2 || !got["leaving"] || !got["left-recently"] {
		t.Fatalf("shared intents %v, want leaving and left-recently", got)
	}
}

func TestMembersCannotBeChangedByCallers(t *testing.T) {
	r := newRoster(time.Hour, 10)
	r.alive("n", "10.0.0.1:7946", Meta{Tags: []string{"a"}}, 1, time.Unix(1000, 0))
	r.list(time.Unix(1001, 0))[0].Meta.Tags[0] = "changed"
	if tag := r.list(time.Unix(1001, 0))[0].Meta.Tags[0]; tag != "a" {
		t.Fatalf("a caller's edit reached the table: tag %q", tag)
	}
}
