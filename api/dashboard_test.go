package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

// The job list filters by robot, schedule and creation time, and refuses
// a bad time naming the field.
func TestJobListFilters(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := createWorkflow(t, node)
	submitN(t, node, wf, "early", 2)
	mid := time.Now()
	time.Sleep(10 * time.Millisecond) // two distinct creation times on the leader's clock
	submitN(t, node, wf, "late", 2)
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v", err)
	}
	list := func(query string) string {
		t.Helper()
		r := get(t, node.URL+"/api/v1/jobs?"+query)
		if r.status != http.StatusOK {
			t.Fatalf("GET /api/v1/jobs?%s: %d %s", query, r.status, r.body)
		}
		var l api.JobList
		r.decode(t, &l)
		var ids []string
		for _, j := range l.Jobs {
			ids = append(ids, j.ID)
		}
		return strings.Join(ids, " ")
	}
	at := url.QueryEscape(mid.UTC().Format(time.RFC3339Nano))
	for q, want := range map[string]string{
		"robot_id=r1":                           claimed[0].Job.ID,
		"robot_id=nobody":                       "",
		"created_after=" + at:                   "late-001 late-000",
		"created_before=" + at:                  "early-001 early-000",
		"created_after=" + at + "&state=queued": strings.TrimSpace(strings.Replace("late-001 late-000", claimed[0].Job.ID, "", 1)),
		"schedule_id=none":                      "",
	} {
		if got := list(q); got != want {
			t.Errorf("?%s: %q, want %q", q, got, want)
		}
	}
	viaClient, err := node.Client.Jobs(t.Context(), client.JobQuery{RobotID: "r1", CreatedBefore: time.Now().Add(time.Hour)})
	if err != nil || len(viaClient.Jobs) != 1 || viaClient.Jobs[0].ID != claimed[0].Job.ID {
		t.Errorf("Go client robot filter: %+v, %v", viaClient.Jobs, err)
	}
	bad := get(t, node.URL+"/api/v1/jobs?created_after=yesterday")
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.apiError(t).Message, "created_after") {
		t.Errorf("created_after=yesterday: %d %s", bad.status, bad.body)
	}
	backwards := get(t, node.URL+"/api/v1/jobs?created_after="+at+"&created_before="+url.QueryEscape(mid.Add(-time.Hour).UTC().Format(time.RFC3339)))
	if backwards.status != http.StatusBadRequest {
		t.Errorf("created_after after created_before: %d %s, want 400", backwards.status, backwards.body)
	}
}

// An admin drains a robot (it claims nothing more, keeps what it runs),
// then makes it hand its jobs back (they return to the queue without
// spending an attempt), then undrains it; the robot list shows drained
// and the last heartbeat; an unknown robot is a 404 naming the known ones.
func TestDrainAndHandBackRobot(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := createWorkflow(t, node)
	submitN(t, node, wf, "d", 3)
	if err := node.Store.SetRobotStatus(t.Context(), consensus.RobotRecord{ID: "net1", Kind: "internet", Node: "n1", Connected: true}); err != nil {
		t.Fatal(err)
	}
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "net1", RobotKind: consensus.RobotInternet, Max: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v", err)
	}
	r := postJSON(t, node.URL+"/api/v1/robots/net1/drain", "")
	var robot api.Robot
	r.decode(t, &robot)
	if r.status != http.StatusOK || !robot.Drained || robot.LastHeartbeatAt.IsZero() || len(robot.CurrentJobs) != 1 {
		t.Fatalf("drain: %d %s; want the robot drained, still running its job, with its last heartbeat", r.status, r.body)
	}
	more, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "net1", RobotKind: consensus.RobotInternet, Max: 2})
	if err != nil || len(more) != 0 {
		t.Fatalf("a drained robot claimed %d jobs (%v)", len(more), err)
	}
	r = postJSON(t, node.URL+"/api/v1/robots/net1/handback", "")
	var hb api.RobotHandBack
	r.decode(t, &hb)
	if r.status != http.StatusOK || fmt.Sprint(hb.HandedBack) != fmt.Sprint([]string{claimed[0].Job.ID}) || len(hb.Robot.CurrentJobs) != 0 {
		t.Fatalf("hand back: %d %s", r.status, r.body)
	}
	job, _, _ := node.Store.Job(claimed[0].Job.ID)
	if job.State != consensus.JobQueued || job.Attempt != 0 {
		t.Errorf("handed-back job: %s attempt %d, want queued with no attempt spent", job.State, job.Attempt)
	}
	robot, err = node.Client.DrainRobot(t.Context(), "net1", false)
	if err != nil || robot.Drained {
		t.Errorf("undrain through the Go client: %+v, %v", robot, err)
	}
	missing := postJSON(t, node.URL+"/api/v1/robots/nt1/drain", "")
	if missing.status != http.StatusNotFound || !strings.Contains(missing.apiError(t).Message, "net1") {
		t.Errorf("drain of an unknown robot: %d %s, want 404 naming the known robots", missing.status, missing.body)
	}
}

// The preview answers the next five fire times in the schedule's zone,
// as the scheduler computes them, or a 400 naming the field at fault.
func TestSchedulePreview(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	r := get(t, node.URL+"/api/v1/schedules/preview?cron="+url.QueryEscape("30 9 * * 1-5")+"&timezone=Europe/Berlin")
	var p api.SchedulePreview
	r.decode(t, &p)
	if r.status != http.StatusOK || len(p.Next) != 5 || p.Timezone != "Europe/Berlin" {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for i, next := range p.Next {
		local := next.In(berlin)
		if local.Hour() != 9 || local.Minute() != 30 || local.Weekday() == time.Saturday || local.Weekday() == time.Sunday || !next.After(time.Now()) {
			t.Errorf("fire %d at %v (%v in Berlin): not a future weekday 09:30", i, next, local)
		}
		if i > 0 && !next.After(p.Next[i-1]) {
			t.Errorf("fire times out of order: %v", p.Next)
		}
	}
	if viaClient, err := node.Client.PreviewSchedule(t.Context(), "30 9 * * 1-5", "Europe/Berlin"); err != nil || len(viaClient.Next) != 5 || !viaClient.Next[0].Equal(p.Next[0]) {
		t.Errorf("Go client preview: %+v, %v", viaClient, err)
	}
	sc := consensus.Schedule{Cron: "30 9 * * 1-5", Timezone: "Europe/Berlin"}
	if first, _ := sc.NextRun(time.Now()); !first.Equal(p.Next[0]) {
		t.Errorf("preview's first fire %v, the scheduler's next run %v", p.Next[0], first)
	}
	for query, field := range map[string]string{
		"cron=" + url.QueryEscape("61 * * * *"):                   "cron",
		"cron=" + url.QueryEscape("0 0 30 2 *"):                   "cron",
		"cron=" + url.QueryEscape("* * * * *") + "&timezone=Mars": "timezone",
		"timezone=UTC": "cron",
	} {
		bad := get(t, node.URL+"/api/v1/schedules/preview?"+query)
		if bad.status != http.StatusBadRequest || !strings.Contains(string(bad.body), field) {
			t.Errorf("preview ?%s: %d %s, want 400 naming %s", query, bad.status, bad.body, field)
		}
	}
}
