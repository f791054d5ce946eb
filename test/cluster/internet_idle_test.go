//go:build unix

package cluster

import (
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// idleReconnectBound bounds how long an idle internet robot takes to move
// to another node after its node dies without a word (SIGKILL: no QUIC
// close reaches the robot). With no answer due, only the tunnel's idle
// timeout (15 s) tells the robot, and QUIC restarts that timer at the
// first packet sent after the last one received, which can be the next
// keep-alive (5 s on); then the robot has reconnectBound to find another
// node.
const idleReconnectBound = 5*time.Second + 15*time.Second + reconnectBound

// TestIdleInternetRobotMovesWhenItsNodeDies: an internet robot with no
// job, given one node's address, notices that node's death from the
// tunnel alone, reconnects to another node it learned from the cluster
// within idleReconnectBound, and then runs the next job on its first
// attempt.
func TestIdleInternetRobotMovesWhenItsNodeDies(t *testing.T) {
	c := internetCluster(t)
	x := c.follower()
	const name = "idler"
	robot := connectRobot(t, c, name, []string{quicAddr(t, x)})
	waitRobotState(t, c, name, "alive", x.name)
	killedAt := x.kill()

	reconnect, via := waitReconnect(t, robot)
	took := reconnect.Sub(killedAt)
	t.Logf("follower %s SIGKILLed while %s was idle; the robot reconnected through %s %v later", x.name, name, via, took.Round(time.Millisecond))
	if via == quicAddr(t, x) {
		t.Errorf("the robot reconnected to the dead node's address %s", via)
	}

	j := submitInternetJob(t, c, 0, 0)
	done := j.waitFor(t, "the job to finish", func(job api.Job) bool {
		return job.State != "running" && job.State != "queued"
	})
	if done.State != "succeeded" || done.Attempt != 1 || done.RobotID != name {
		t.Errorf("job should have succeeded on its first attempt on %s: %s", name, describeJob(done))
	}
	if took > idleReconnectBound {
		t.Errorf("the idle robot took %v to reconnect after its node died, want under %v", took, idleReconnectBound)
	}
}
