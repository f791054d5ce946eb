//go:build linux

package cluster

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// cutOffBound is how long an idle internet robot may take to leave a node
// that was cut off from the other servers: the node's Raft notices the
// lost leader within an election timeout, its work bell sends the held
// claims away 5 s later (consensus.LeaderlessDismiss), checking every 250 ms, and
// the robot dials the next node.
const cutOffBound = 15 * time.Second

// TestIdleInternetRobotLeavesANodeCutOffFromTheCluster: a node the robot
// still reaches but the other servers do not (a partial partition) has
// no leader and a replica that shows no new work. The idle robot
// connected to it hears so, moves to a node that has a leader, and runs
// a job submitted there, while the node stays cut off.
func TestIdleInternetRobotLeavesANodeCutOffFromTheCluster(t *testing.T) {
	lab := newNetLab(t)
	c, hosts := startLabCluster(t, lab, 3, "--robot=false")
	x := c.follower()
	const name = "islander"
	xAddr := net.JoinHostPort(hosts[x.name].addr, labQUICPort)
	robot := connectLabRobot(t, c, lab.host(name), name, xAddr)
	waitRobotState(t, c, name, "alive", x.name)

	var others []*labHost
	for _, n := range c.others(x) {
		others = append(others, hosts[n.name])
	}
	cutAt := lab.cutBetween(hosts[x.name], others...)
	reconnect, via := waitReconnect(t, robot)
	took := reconnect.Sub(cutAt)
	t.Logf("%s cut off from the other servers; the idle robot reconnected through %s %v later", x.name, via, took.Round(time.Millisecond))
	if via == xAddr {
		t.Fatalf("the robot reconnected to the cut-off node %s", via)
	}
	// The majority's view: the cut-off node knows no leader, so the
	// cluster's helpers, which want every running node to agree on one,
	// ask the others only.
	majority := c.without(x)
	if r := waitRobotState(t, majority, name, "alive", ""); r.Node == x.name {
		t.Errorf("the cluster lists %s on the cut-off node %s", name, x.name)
	}
	j := submitInternetJob(t, majority, 0, 0)
	done := j.waitFor(t, "the job to finish", func(job api.Job) bool {
		return job.State != "running" && job.State != "queued"
	})
	if done.State != "succeeded" || done.RobotID != name || done.Attempt != 1 {
		t.Errorf("the job should have succeeded on %s at its first attempt: %s", name, describeJob(done))
	}
	if took > cutOffBound {
		t.Errorf("the robot took %v to leave the cut-off node, want under %v", took, cutOffBound)
	}
}

// TestIdleInternetRobotStaysWhenNoNodeHasALeader: with every server cut
// off from every other, none has a leader, and an idle robot that left
// its node for that reason tries each node once and then stays, instead
// of dialling round the cluster for as long as the quorum is lost. When
// two servers get a leader again while the robot's node stays cut off,
// the robot finds them within a round (robot.leaderlessRound, 30 s).
func TestIdleInternetRobotStaysWhenNoNodeHasALeader(t *testing.T) {
	lab := newNetLab(t)
	c, hosts := startLabCluster(t, lab, 3, "--robot=false")
	const name = "castaway"
	first := net.JoinHostPort(hosts["n1"].addr, labQUICPort)
	robot := connectLabRobot(t, c, lab.host(name), name, first)
	waitRobotState(t, c, name, "alive", "n1")

	lab.cutBetween(hosts["n1"], hosts["n2"], hosts["n3"])
	cutAt := lab.cutBetween(hosts["n2"], hosts["n3"])
	// Each node sends the robot on within cutOffBound: three moves, back
	// to where it started. Then it must stay for longer than a move takes
	// after the first (its claim, retried, fails no_leader after
	// NoLeaderWait, 1.5 s, and a backoff of up to 2 s).
	waitFor(t, 3*cutOffBound, "the robot to try every node", func() (bool, error) {
		n := len(connectedLines(robot))
		return n >= 4, fmt.Errorf("%d connections", n)
	})
	settled := len(connectedLines(robot))
	time.Sleep(8 * time.Second) // the measured window, not a synchronisation
	lines := connectedLines(robot)
	t.Logf("with no leader anywhere the robot moved %d times in %v", len(lines)-1, time.Since(cutAt).Round(time.Millisecond))
	if len(lines) != settled || len(lines) > 4 {
		t.Fatalf("the robot kept moving between leaderless nodes (%d connections, %d when it had tried each):\n%s", len(lines), settled, strings.Join(lines, "\n"))
	}

	_, stuck, err := parseConnected(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}
	var island string
	for n, h := range hosts {
		if stuck == net.JoinHostPort(h.addr, labQUICPort) {
			island = n
		}
	}
	var mainland []string
	for n := range hosts {
		if n != island {
			mainland = append(mainland, n)
		}
	}
	healAt := lab.healBetween(hosts[mainland[0]], hosts[mainland[1]])
	const roundBound = 30*time.Second + cutOffBound
	waitFor(t, roundBound, "the robot to reach a node with a leader", func() (bool, error) {
		n := len(connectedLines(robot))
		return n > settled, fmt.Errorf("%d connections", n)
	})
	majority := c.without(c.byName(island))
	r := waitRobotState(t, majority, name, "alive", "")
	t.Logf("%s healed with %s while %s stayed cut off; the robot is on %s %v later", mainland[0], mainland[1], island, r.Node, time.Since(healAt).Round(time.Millisecond))
	if r.Node == island {
		t.Errorf("the cluster lists %s on the cut-off node %s", name, island)
	}
}

// without is the view of c's running nodes other than except: the side
// of a cut that has a leader, for the helpers that want every node they
// ask to agree on one.
func (c *cluster) without(except ...*node) *cluster {
	return &cluster{tb: c.tb, dir: c.dir, nodes: c.others(except...)}
}

// healBetween lifts cutBetween's routes between a and b.
func (l *netLab) healBetween(a, b *labHost) time.Time {
	l.tb.Helper()
	l.ip("-n", a.ns, "route", "del", "blackhole", b.addr+"/32")
	l.ip("-n", b.ns, "route", "del", "blackhole", a.addr+"/32")
	l.tb.Logf("%s: healed %s with %s", time.Now().Format("15:04:05.000"), a.name, b.name)
	return time.Now()
}

// connectLabRobot starts `casare robot connect` for robot name in host
// h's namespace, dialling addr only (it learns the other nodes from
// there), with a token bound to it.
func connectLabRobot(t *testing.T, c *cluster, h *labHost, name, addr string) *node {
	t.Helper()
	// Over the API: the CLI runs in the root namespace, which reaches no
	// lab host.
	created, err := c.leader().client.CreateRobotToken(t.Context(), name)
	if err != nil {
		t.Fatalf("create a token for %s: %v", name, err)
	}
	dir := filepath.Join(t.TempDir(), name)
	p := &node{tb: t, name: name, dir: dir, logPath: filepath.Join(dir, name+".log"),
		wrap: []string{"ip", "netns", "exec", h.ns},
		args: []string{"robot", "connect", addr, "--token", created.Token,
			"--name", name, "--capacity", "1", "--work-dir", t.TempDir(), "--log-level", "debug"},
	}
	startOwned(t, p)
	return p
}

// cutBetween cuts h off from each of peers, and them from h, with
// blackhole routes in the hosts' namespaces, leaving h's links to every
// other host up; the cut is lifted when the test ends. It returns when
// the cut took effect.
func (l *netLab) cutBetween(h *labHost, peers ...*labHost) time.Time {
	l.tb.Helper()
	var names []string
	for _, p := range peers {
		l.ip("-n", h.ns, "route", "add", "blackhole", p.addr+"/32")
		l.ip("-n", p.ns, "route", "add", "blackhole", h.addr+"/32")
		names = append(names, p.name)
	}
	l.tb.Logf("%s: cut %s off from %s", time.Now().Format("15:04:05.000"), h.name, strings.Join(names, ", "))
	return time.Now()
}
