package mesh

import (
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestMetaRoundTrip(t *testing.T) {
	meta := testMeta(3)
	meta.RaftAddr = "10.0.0.3:7000"
	b, err := encodeMeta(meta, 99)
	if err != nil {
		t.Fatal(err)
	}
	got, instance, err := decodeMeta(b)
	if err != nil || instance != 99 || !got.equal(meta) {
		t.Fatalf("decode(encode(meta)) = %+v, %d, %v", got, instance, err)
	}
	t.Logf("a typical robot's meta is %d bytes of %d", len(b), memberlist.MetaMaxSize)
}

// A member whose meta does not decode (a foreign or much older node) is
// still listed, without meta, and the problem is logged.
func TestUndecodableMetaStillListed(t *testing.T) {
	var logs lockedBuffer
	m, err := New(Config{Name: "self", BindAddr: "127.0.0.1", Logger: slogTo(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })

	delegate{m}.NotifyJoin(&memberlist.Node{Name: "foreign", Addr: net.IPv4(10, 0, 0, 9), Port: 7946, Meta: []byte("not json")})
	got := memberNamed(m.Members(), "foreign")
	if got.State != StateAlive || got.Addr != "10.0.0.9:7946" || !got.Meta.equal(Meta{}) {
		t.Fatalf("foreign member listed as %+v", got)
	}
	if !strings.Contains(logs.String(), "meta does not decode") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}
}

// TestMemberlistHidesNodeState pins down the memberlist behaviour this
// package is built around: the Node handed to NotifyLeave does not say
// whether the node left or died. If this test fails after a memberlist
// upgrade, n.State has become usable and the leave intents could go.
func TestMemberlistHidesNodeState(t *testing.T) {
	states := make(chan memberlist.NodeStateType, 1)
	start := func(name string, events memberlist.EventDelegate) *memberlist.Memberlist {
		c := memberlist.DefaultLocalConfig()
		c.Name, c.BindAddr, c.BindPort = name, "127.0.0.1", 0
		c.Logger = log.New(io.Discard, "", 0)
		c.Events = events
		ml, err := memberlist.Create(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ml.Shutdown() })
		return ml
	}
	watcher := start("watcher", leaveStates(states))
	leaver := start("leaver", nil)
	if _, err := leaver.Join([]string{watcher.LocalNode().Address()}); err != nil {
		t.Fatal(err)
	}
	if err := leaver.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case state := <-states:
		if state == memberlist.StateLeft {
			t.Fatal("memberlist now reports StateLeft in NotifyLeave; mesh's leave intents may be redundant")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no NotifyLeave for a node that left")
	}
}

type leaveStates chan memberlist.NodeStateType

func (c leaveStates) NotifyJoin(*memberlist.Node)   {}
func (c leaveStates) NotifyUpdate(*memberlist.Node) {}
func (c leaveStates) NotifyLeave(n *memberlist.Node) {
	select {
	case c <- n.State:
	default:
	}
}
