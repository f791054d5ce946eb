//go:build unix

package cluster

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

// The internet-robot tests run clusters whose nodes run no LAN robot, so
// only `casare robot connect` processes, dialling the nodes' QUIC ports,
// can run the jobs.

const (
	// internetVisibility is the lease of TestInternetRobotKilledMidJob's
	// workflow: internet robots are not in gossip, so only the lease
	// expiring frees the job of a robot that died.
	internetVisibility = 3 * time.Second
	// internetRequeueBound bounds kill → second claim: the lease, the
	// leader's expiry tick and a claim, with room for a busy machine.
	internetRequeueBound = internetVisibility + 7*time.Second
	// roamingWait is the delay node of TestInternetRobotReconnectsWhenItsNodeDies:
	// the robot must reconnect and keep heartbeating through it.
	roamingWait = 6 * time.Second
	// reconnectBound is the "few seconds" a robot may take to find
	// another node after its node dies.
	reconnectBound = 5 * time.Second
	// refusalBound bounds how long `robot connect` with a bad token may
	// take to give up.
	refusalBound = 10 * time.Second
)

// internetCluster starts three servers with no LAN robots.
func internetCluster(t *testing.T) *cluster {
	t.Helper()
	return startCluster(t, 3, "--robot=false")
}

// connectRobot starts `casare robot connect` for a robot called name,
// with a token bound to it, dialling addrs, and waits until the cluster
// lists it connected.
func connectRobot(t *testing.T, c *cluster, name string, addrs []string) *node {
	t.Helper()
	token, _ := createRobotToken(t, c.leader(), name)
	p := startProcess(t, name, "robot", "connect", strings.Join(addrs, ","), "--token", token,
		"--name", name, "--capacity", "1", "--work-dir", t.TempDir(), "--log-level", "debug")
	waitRobotState(t, c, name, "alive", "")
	return p
}

// waitRobotState waits until the cluster lists robot name in state, on
// node via when via is not empty, and returns the listing.
func waitRobotState(t *testing.T, c *cluster, name, state, via string) api.Robot {
	t.Helper()
	var found api.Robot
	waitFor(t, settleTimeout, fmt.Sprintf("robot %s %s", name, state), func() (bool, error) {
		list, err := c.leader().client.Robots(t.Context(), client.Consistent())
		if err != nil {
			return false, err
		}
		for _, r := range list.Robots {
			if r.ID == name {
				found = r
				return r.State == state && (via == "" || r.Node == via), fmt.Errorf("robot %s: %+v", name, r)
			}
		}
		return false, fmt.Errorf("robot %s not listed", name)
	})
	return found
}

// internetJob is one job, in execution mode internet, of a workflow that
// appends a line to marker1, waits, and appends one to marker2; each line
// names the robot and attempt that wrote it.
type internetJob struct {
	c                *cluster
	id               string
	marker1, marker2 string
}

func submitInternetJob(t *testing.T, c *cluster, wait, visibility time.Duration) *internetJob {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	j := &internetJob{c: c, marker1: filepath.Join(dir, "step1.txt"), marker2: filepath.Join(dir, "step2.txt")}
	const name = "internet-two-markers"
	const line = "{{ robot_id }} attempt {{ attempt }}"
	wf, err := c.leader().client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: name, TriggerType: "none",
		WorkflowJSON: workflowJSON(name, nil, appendLine("step1", j.marker1, line), delay("wait", wait), appendLine("step2", j.marker2, line)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if visibility > 0 {
		req := api.WorkflowSettingsRequest{VisibilityTimeout: visibility.String()}
		if _, err := c.leader().client.SetWorkflowSettings(ctx, wf.WorkflowID, req); err != nil {
			t.Fatalf("set visibility timeout %v: %v", visibility, err)
		}
	}
	job, err := c.leader().client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "internet"})
	if err != nil {
		t.Fatal(err)
	}
	if job.ExecutionMode != "internet" {
		t.Fatalf("job queued with execution mode %q, want internet", job.ExecutionMode)
	}
	j.id = job.ID
	return j
}

// get reads the job consistently through the leader.
func (j *internetJob) get(t *testing.T) (api.Job, error) {
	return j.c.leader().client.Job(t.Context(), j.id, client.Consistent())
}

// waitFor waits until the job satisfies cond and returns it.
func (j *internetJob) waitFor(t *testing.T, what string, cond func(api.Job) bool) api.Job {
	t.Helper()
	var job api.Job
	waitFor(t, settleTimeout, what, func() (bool, error) {
		var err error
		if job, err = j.get(t); err != nil {
			return false, err
		}
		return cond(job), fmt.Errorf("job: %s, node status %v", describeJob(job), job.NodeStatus)
	})
	return job
}

// waitInWaitNode waits until Raft shows the job running its wait node,
// which means its checkpoint after step1 is in Raft too.
func (j *internetJob) waitInWaitNode(t *testing.T) api.Job {
	t.Helper()
	return j.waitFor(t, "the job to sit in its wait node", func(job api.Job) bool {
		return job.State == "running" && job.NodeStatus["wait"] == "running"
	})
}

// TestInternetRobotKilledMidJob SIGKILLs the internet robot running a
// job between its two side effects. Internet robots are not in gossip,
// so the job is freed when its lease (shortened to internetVisibility)
// runs out; the other robot must then finish it from its checkpoint,
// without running step1 again.
func TestInternetRobotKilledMidJob(t *testing.T) {
	c := internetCluster(t)
	var addrs []string
	for _, n := range c.all() {
		addrs = append(addrs, quicAddr(t, n))
	}
	robots := map[string]*node{
		"robot-a": connectRobot(t, c, "robot-a", addrs),
		"robot-b": connectRobot(t, c, "robot-b", []string{addrs[2], addrs[1], addrs[0]}),
	}
	j := submitInternetJob(t, c, resumeWait, internetVisibility)
	running := j.waitInWaitNode(t)
	lost := running.RobotID
	victim, ok := robots[lost]
	if !ok {
		t.Fatalf("the job runs on %q, which is not one of the test's robots: %s", lost, describeJob(running))
	}
	won := "robot-a"
	if lost == won {
		won = "robot-b"
	}
	killedAt := victim.kill()

	requeued := j.waitFor(t, "the job to be claimed again", func(job api.Job) bool { return len(job.Attempts) > 1 })
	requeuedAfter := requeued.Attempts[0].FinishedAt.Sub(killedAt)
	claimedAfter := requeued.Attempts[1].StartedAt.Sub(killedAt)
	t.Logf("internet robot %s SIGKILLed mid-job (visibility timeout %v): attempt 1 ended %v later (%q), %s claimed it %v after the kill",
		lost, internetVisibility, requeuedAfter.Round(time.Millisecond), requeued.Attempts[0].Error, requeued.Attempts[1].RobotID, claimedAfter.Round(time.Millisecond))
	if claimedAfter > internetRequeueBound {
		t.Errorf("the job was claimed again %v after its robot died; its lease is %v (bound %v)", claimedAfter, internetVisibility, internetRequeueBound)
	}

	done := j.waitFor(t, "the job to succeed", func(job api.Job) bool { return job.State == "succeeded" })
	switch {
	case done.RobotID != won:
		t.Errorf("job should have succeeded on %s: %s", won, describeJob(done))
	case len(done.Attempts) != 2 || done.Attempts[0].RobotID != lost || done.Attempts[0].Outcome == "succeeded" ||
		done.Attempts[1].RobotID != won || done.Attempts[1].Outcome != "succeeded":
		t.Errorf("attempts should be a lost one on %s and a successful one on %s: %s", lost, won, describeJob(done))
	}
	if step1, want := readLineCounts(t, j.marker1), map[string]int{lost + " attempt 1": 1}; !maps.Equal(step1, want) {
		t.Errorf("step1 lines %v, want %v: a resumed run must not repeat a checkpointed node", step1, want)
	}
	// Losing its robot spent no attempt: the rescuer runs attempt 1 again.
	if step2, want := readLineCounts(t, j.marker2), map[string]int{won + " attempt 1": 1}; !maps.Equal(step2, want) {
		t.Errorf("step2 lines %v, want %v", step2, want)
	}
	t.Logf("attempts: %s", describeJob(done))
}

// TestInternetRobotReconnectsWhenItsNodeDies gives an internet robot one
// node's QUIC address only, and SIGKILLs that node while the robot runs a
// job. The robot must reconnect within seconds to a node it learned from
// the cluster and finish the job on its first attempt: its lease
// survives the switch, so nothing is requeued. Run once with the robot's
// node a follower and once with it the leader.
func TestInternetRobotReconnectsWhenItsNodeDies(t *testing.T) {
	for _, role := range []string{"follower", "leader"} {
		t.Run(role, func(t *testing.T) {
			c := internetCluster(t)
			x := c.follower()
			if role == "leader" {
				x = c.leader()
			}
			const name = "roamer"
			robot := connectRobot(t, c, name, []string{quicAddr(t, x)})
			waitRobotState(t, c, name, "alive", x.name)
			// The robot learns the other nodes' QUIC addresses from the
			// node right after it connects; it was given none of them.
			if lines := connectedLines(robot); len(lines) != 1 {
				t.Fatalf("the robot should have connected once, to %s:\n%s", x.name, strings.Join(lines, "\n"))
			}

			j := submitInternetJob(t, c, roamingWait, 0)
			running := j.waitInWaitNode(t)
			if running.RobotID != name {
				t.Fatalf("the job runs on %q, want %s", running.RobotID, name)
			}
			killedAt := x.kill()

			reconnect, via := waitReconnect(t, robot)
			took := reconnect.Sub(killedAt)
			t.Logf("%s %s SIGKILLed while %s ran job %s; the robot reconnected through %s %v later", role, x.name, name, j.id, via, took.Round(time.Millisecond))
			if via == quicAddr(t, x) {
				t.Errorf("the robot reconnected to the dead node's address %s", via)
			}
			var listed api.Robot
			waitFor(t, settleTimeout, "the cluster to list the robot alive on another node", func() (bool, error) {
				list, err := c.leader().client.Robots(t.Context(), client.Consistent())
				for _, r := range list.Robots {
					if r.ID == name {
						listed = r
					}
				}
				return err == nil && listed.State == "alive" && listed.Node != x.name, fmt.Errorf("robot %+v, err %v", listed, err)
			})
			t.Logf("the cluster lists %s %s on %s", name, listed.State, listed.Node)

			done := j.waitFor(t, "the job to finish", func(job api.Job) bool {
				return job.State != "running" && job.State != "queued"
			})
			if done.State != "succeeded" || done.Attempt != 1 || len(done.Attempts) != 1 || done.RobotID != name ||
				done.Attempts[0].RobotID != name || done.Attempts[0].Outcome != "succeeded" {
				t.Errorf("job should have succeeded on its first and only attempt on %s: %s", name, describeJob(done))
			}
			want := map[string]int{name + " attempt 1": 1}
			if step1 := readLineCounts(t, j.marker1); !maps.Equal(step1, want) {
				t.Errorf("step1 lines %v, want %v", step1, want)
			}
			if step2 := readLineCounts(t, j.marker2); !maps.Equal(step2, want) {
				t.Errorf("step2 lines %v, want %v", step2, want)
			}
			if lines := connectedLines(robot); len(lines) != 2 {
				t.Errorf("the robot connected %d times, want 2:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			// Last, so that every other check above has run.
			if took > reconnectBound {
				t.Errorf("the robot took %v to reconnect after its node died, want under %v", took, reconnectBound)
			}
		})
	}
}

var connectedLine = regexp.MustCompile(`^time=(\S+) .*msg="connected to the cluster" node=(\S+)`)

// waitReconnect waits for the robot's second "connected" log line and
// returns when it connected and through which address.
func waitReconnect(t *testing.T, robot *node) (at time.Time, via string) {
	t.Helper()
	waitFor(t, settleTimeout, "the robot to reconnect", func() (bool, error) {
		lines := connectedLines(robot)
		if len(lines) < 2 {
			return false, nil
		}
		var err error
		at, via, err = parseConnected(lines[1])
		return err == nil, err
	})
	return at, via
}

// connectedLines returns the robot's log lines that say it connected.
func connectedLines(robot *node) []string {
	var out []string
	for line := range strings.Lines(robot.logText()) {
		if connectedLine.MatchString(line) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func parseConnected(line string) (at time.Time, node string, err error) {
	m := connectedLine.FindStringSubmatch(line)
	if m == nil {
		return at, "", fmt.Errorf("not a connect line: %q", line)
	}
	at, err = time.Parse(time.RFC3339Nano, m[1])
	return at, m[2], err
}

// TestInternetRobotWrongTokenExitsNonZero runs `casare robot connect`
// with tokens the cluster must refuse — a wrong secret, a revoked token,
// an unknown token id: each time the command must exit non-zero within
// refusalBound, say why on stderr, and the node must log the refusal. A
// wrong secret and an unknown id get the same words, so a stranger
// cannot learn which token ids exist.
func TestInternetRobotWrongTokenExitsNonZero(t *testing.T) {
	c := startCluster(t, 1, "--robot=false")
	n := c.leader()
	addr := quicAddr(t, n)

	good, goodID := createRobotToken(t, n, "good-robot")
	revoked, revokedID := createRobotToken(t, n, "revoked-robot")
	if res := runCLI(t, callTimeout, "robot", "token", "revoke", revokedID, "--server", serverURL(n), "--token-file", n.tokenFile); res.code != 0 {
		t.Fatalf("revoke: %s", res)
	}
	parts, err := consensus.ParseRobotToken(good)
	if err != nil {
		t.Fatal(err)
	}
	// Swap the secret for another of the same length.
	wrongSecret := consensus.FormatRobotToken(goodID, strings.Repeat("x", len(parts.Secret)), parts.CAFingerprint)
	unknown := consensus.FormatRobotToken("nosuchtoken", strings.Repeat("y", 32), parts.CAFingerprint)
	const refused = "unknown token id or wrong secret"

	for _, tc := range []struct {
		what, token, name string
		stderr            []string // what stderr must say, case-insensitive
		nodeLog           []string // in the node's "robot refused" line, case-insensitive
	}{
		{"wrong secret", wrongSecret, "good-robot", []string{refused}, []string{goodID, refused}},
		{"revoked token", revoked, "revoked-robot", []string{"revoked"}, []string{revokedID, "revoked"}},
		{"unknown token id", unknown, "good-robot", []string{refused}, []string{"nosuchtoken", refused}},
	} {
		t.Run(strings.ReplaceAll(tc.what, " ", "_"), func(t *testing.T) {
			logFrom := len(n.logText())
			res := runCLI(t, refusalBound, "robot", "connect", addr, "--token", tc.token, "--name", tc.name)
			switch {
			case res.code == -1:
				t.Errorf("robot connect with a %s did not exit within %v: %s", tc.what, refusalBound, res)
			case res.code == 0:
				t.Errorf("robot connect with a %s exited 0: %s", tc.what, res)
			case !containsAll(strings.ToLower(res.stderr), tc.stderr...):
				t.Errorf("robot connect with a %s: stderr should say %q: %s", tc.what, tc.stderr, res)
			}
			tokenParts, _ := consensus.ParseRobotToken(tc.token)
			if strings.Contains(res.stderr, tokenParts.Secret) {
				t.Errorf("robot connect printed the token secret: %s", res)
			}
			lastLine := strings.TrimSpace(res.stderr)
			lastLine = lastLine[strings.LastIndex(lastLine, "\n")+1:]
			t.Logf("%s: exit %d after %v: %s", tc.what, res.code, res.took.Round(time.Millisecond), lastLine)

			var refusal string
			waitFor(t, 5*time.Second, "the node to log the refusal", func() (bool, error) {
				for line := range strings.Lines(n.logText()[logFrom:]) {
					if strings.Contains(line, "robot refused") && containsAll(strings.ToLower(line), tc.nodeLog...) {
						refusal = strings.TrimSpace(line)
					}
				}
				return refusal != "", fmt.Errorf("no refusal line names %q", tc.nodeLog)
			})
			t.Logf("node log: %s", refusal)
		})
	}
}

// TestRobotConnectRefusesANodeOfAnotherCluster points `casare robot
// connect`, holding a token of one cluster, at the QUIC port of a node of
// another cluster (another CA): the robot must refuse that node during the
// TLS handshake and exit non-zero saying so, before sending its token.
func TestRobotConnectRefusesANodeOfAnotherCluster(t *testing.T) {
	ours := startCluster(t, 1, "--robot=false").leader()
	theirs := startCluster(t, 1, "--robot=false").leader()
	token, _ := createRobotToken(t, ours, "pc-1")
	parts, err := consensus.ParseRobotToken(token)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASARE_ROBOT_TOKEN", token)
	res := runCLI(t, refusalBound, "robot", "connect", quicAddr(t, theirs))
	switch {
	case res.code == -1:
		t.Fatalf("robot connect to a node of another cluster did not exit within %v: %s", refusalBound, res)
	case res.code == 0:
		t.Fatalf("robot connect to a node of another cluster exited 0: %s", res)
	case !containsAll(res.stderr, "not one of the robot token's cluster", parts.CAFingerprint):
		t.Fatalf("stderr should say the node is not of the token's cluster (CA %s): %s", parts.CAFingerprint, res)
	}
	if strings.Contains(theirs.logText(), "pc-1") {
		t.Fatalf("the other cluster's node heard of the robot:\n%s", theirs.logTail())
	}
	lastLine := strings.TrimSpace(res.stderr)
	t.Logf("exit %d after %v: %s", res.code, res.took.Round(time.Millisecond), lastLine[strings.LastIndex(lastLine, "\n")+1:])
}

// TestRevokingATokenStopsItsRobot revokes the token of a `casare robot
// connect` process while it runs a job: the node closes the tunnel at
// once, the job goes back to the queue without spending its attempt, and
// the robot process exits non-zero saying its token was revoked.
func TestRevokingATokenStopsItsRobot(t *testing.T) {
	c := startCluster(t, 1, "--robot=false")
	n := c.leader()
	token, id := createRobotToken(t, n, "pc-revoked")
	t.Setenv("CASARE_ROBOT_TOKEN", token)
	robot := startProcess(t, "pc-revoked", "robot", "connect", quicAddr(t, n), "--work-dir", t.TempDir())
	waitRobotState(t, c, "pc-revoked", "alive", "")
	j := submitInternetJob(t, c, 60*time.Second, 0)
	j.waitInWaitNode(t)

	revoked := time.Now()
	if res := runCLI(t, callTimeout, "robot", "token", "revoke", id, "--server", serverURL(n), "--token-file", n.tokenFile); res.code != 0 {
		t.Fatalf("revoke: %s", res)
	}
	back := j.waitFor(t, "the job to go back to the queue", func(job api.Job) bool { return job.State == "queued" })
	t.Logf("job back in the queue %v after the revocation", time.Since(revoked).Round(time.Millisecond))
	if last := back.Attempts[len(back.Attempts)-1]; last.Outcome != "handed_back" || back.Attempt != 0 {
		t.Fatalf("the job went back as %s; want it handed back, its attempt not spent", describeJob(back))
	}
	state := robot.waitExit(refusalBound + 15*time.Second)
	t.Logf("robot process exited %v after the revocation with code %d", time.Since(revoked).Round(time.Millisecond), state.ExitCode())
	if state.ExitCode() == 0 || !strings.Contains(robot.logText(), "revoked") {
		t.Fatalf("robot exited %d; its log should say the token was revoked:\n%s", state.ExitCode(), robot.logTail())
	}
	if step2, _ := os.ReadFile(j.marker2); len(step2) != 0 {
		t.Fatalf("the robot ran on past its revocation: %q", step2)
	}
}
