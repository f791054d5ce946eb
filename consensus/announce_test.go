package consensus

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAnnouncedClaimFollowsTheSubmitIntoTheLog: a robot waiting on the
// leader is woken while a submit is still on its way, whichever node took
// the submit, and the claim it sends then gets the new job: Raft orders
// it after the submit. A robot waiting on a follower hears nothing.
func TestAnnouncedClaimFollowsTheSubmitIntoTheLog(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	follower := c.follower()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: json.RawMessage(`{"nodes":[]}`)}); err != nil {
		t.Fatal(err)
	}
	elsewhere, stopElsewhere := follower.WorkAnnounced(ClaimCmd{RobotID: "r2", RobotKind: RobotLAN, Max: 1})
	defer stopElsewhere()

	for i, via := range []*Store{leader, follower} {
		robot := ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1, RequestID: "claim" + string(rune('a'+i))}
		woken, stop := leader.WorkAnnounced(robot)
		claimed := make(chan []ClaimedJob, 1)
		go func() {
			defer stop()
			select {
			case <-woken:
			case <-ctx.Done():
				claimed <- nil
				return
			}
			jobs, err := leader.Claim(ctx, robot)
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			claimed <- jobs
		}()
		jobs, err := via.SubmitJobs(ctx, []JobSpec{{ID: "job" + robot.RequestID, WorkflowID: "w1", ExecutionMode: ModeLAN}})
		if err != nil {
			t.Fatal(err)
		}
		if via == leader {
			// The leader announces before it waits for the commit.
			select {
			case <-woken:
			default:
				t.Fatal("the submit returned before the waiting robot was woken")
			}
		}
		got := <-claimed
		if len(got) != 1 || got[0].Job.ID != jobs[0].ID {
			t.Fatalf("submit %d: the woken robot's claim got %d jobs, want job %s", i, len(got), jobs[0].ID)
		}
	}
	select {
	case <-elsewhere:
		t.Error("a robot waiting on a follower was woken")
	default:
	}
}

// TestAnnounceWakesOnlyRobotsThatCouldClaim: a submit wakes the waiting
// robots its jobs are for (kind, pin, tags, due time, a workflow and
// queue not paused, a robot not drained), the oldest first, and no more
// slots than it has jobs.
func TestAnnounceWakesOnlyRobotsThatCouldClaim(t *testing.T) {
	now := time.Now()
	st := newState()
	st.workflows["w1"] = &Workflow{ID: "w1"}
	st.workflows["held"] = &Workflow{ID: "held", Settings: WorkflowSettings{Paused: true}}
	st.drained["drained"] = true
	paused := newState()
	paused.workflows["w1"], paused.queuePaused = st.workflows["w1"], true
	lan := ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1, Tags: []string{"sap", "excel"}}
	for _, tc := range []struct {
		name  string
		spec  JobSpec
		cmd   ClaimCmd
		state *state
		want  bool
	}{
		{"a LAN job", JobSpec{ExecutionMode: ModeLAN}, lan, nil, true},
		{"any robot's job", JobSpec{ExecutionMode: ModeAny}, lan, nil, true},
		{"an internet robot's job", JobSpec{ExecutionMode: ModeInternet}, lan, nil, false},
		{"a job pinned to this robot", JobSpec{ExecutionMode: ModeLAN, PinnedRobot: "r1"}, lan, nil, true},
		{"a job pinned to another", JobSpec{ExecutionMode: ModeLAN, PinnedRobot: "r2"}, lan, nil, false},
		{"a job needing tags it has", JobSpec{ExecutionMode: ModeLAN, RobotTags: []string{"excel"}}, lan, nil, true},
		{"a job needing a tag it lacks", JobSpec{ExecutionMode: ModeLAN, RobotTags: []string{"excel", "ocr"}}, lan, nil, false},
		{"a job due later", JobSpec{ExecutionMode: ModeLAN, NotBefore: now.Add(time.Minute)}, lan, nil, false},
		{"a job for a drained robot", JobSpec{ExecutionMode: ModeLAN}, ClaimCmd{RobotID: "drained", RobotKind: RobotLAN, Max: 1}, nil, false},
		{"a job of a paused workflow", JobSpec{WorkflowID: "held", ExecutionMode: ModeLAN}, lan, nil, false},
		{"a job of an unknown workflow", JobSpec{WorkflowID: "w2", ExecutionMode: ModeLAN}, lan, nil, false},
		{"a job in a paused queue", JobSpec{ExecutionMode: ModeLAN}, lan, paused, false},
	} {
		if tc.spec.WorkflowID == "" {
			tc.spec.WorkflowID = "w1"
		}
		var a announcer
		woken, stop := a.wait(tc.cmd)
		a.announce([][]JobSpec{{tc.spec}}, now, cmp.Or(tc.state, st))
		select {
		case <-woken:
			if !tc.want {
				t.Errorf("%s woke the robot", tc.name)
			}
		default:
			if tc.want {
				t.Errorf("%s did not wake the robot", tc.name)
			}
		}
		stop()
		if len(a.waiting) != 0 {
			t.Errorf("%s: %d waiters left after stop", tc.name, len(a.waiting))
		}
	}

	// Entries against a line of waiting robots, oldest first: each robot
	// is handed up to its free slots of the jobs it could take, and only
	// a robot handed one is woken.
	st.workflows["capped"] = &Workflow{ID: "capped", Settings: WorkflowSettings{MaxConcurrency: 2}}
	st.runningPerWF["capped"] = 1
	line := []ClaimCmd{
		{RobotID: "oldest", RobotKind: RobotLAN, Max: 2},
		{RobotID: "internet", RobotKind: RobotInternet, Max: 5},
		{RobotID: "second", RobotKind: RobotLAN, Max: 1},
		{RobotID: "tagged", RobotKind: RobotLAN, Max: 1, Tags: []string{"ocr"}},
		{RobotID: "newest", RobotKind: RobotLAN, Max: 1},
	}
	job := func(mode string) JobSpec { return JobSpec{WorkflowID: "w1", ExecutionMode: mode} }
	internet, ocr, pinned := job(ModeInternet), job(ModeLAN), job(ModeLAN)
	ocr.RobotTags, pinned.PinnedRobot = []string{"ocr"}, "absent"
	capped := JobSpec{WorkflowID: "capped", ExecutionMode: ModeLAN}
	for _, tc := range []struct {
		name   string
		groups [][]JobSpec
		woken  string // the robots woken, oldest first
	}{
		{"three LAN jobs in two groups", [][]JobSpec{{job(ModeLAN), job(ModeLAN)}, {job(ModeLAN)}}, "oldest second"},
		{"one LAN job among internet ones", [][]JobSpec{{internet, internet, job(ModeLAN), internet, internet}}, "oldest internet"},
		{"one LAN job among jobs pinned to a robot not waiting", [][]JobSpec{{pinned, pinned, pinned, job(ModeLAN)}}, "oldest"},
		{"a job only the tagged robot may take", [][]JobSpec{{ocr, job(ModeAny)}}, "oldest tagged"},
		{"three jobs of a workflow with room for one more run", [][]JobSpec{{capped, capped, capped}}, "oldest"},
	} {
		var a announcer
		woken := make([]<-chan struct{}, len(line))
		for i, cmd := range line {
			ch, stop := a.wait(cmd)
			defer stop()
			woken[i] = ch
		}
		a.announce(tc.groups, now, st)
		var got []string
		for i, ch := range woken {
			select {
			case <-ch:
				got = append(got, line[i].RobotID)
			default:
			}
		}
		if strings.Join(got, " ") != tc.woken {
			t.Errorf("%s woke %q, want %q", tc.name, got, tc.woken)
		}
		if len(a.waiting) != len(line)-len(got) {
			t.Errorf("%s: %d robots still wait, want %d", tc.name, len(a.waiting), len(line)-len(got))
		}
	}
}
