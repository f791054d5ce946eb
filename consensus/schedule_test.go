package consensus

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func (h *fsmHarness) schedule(t *testing.T, id, cron, misfire, overlap string) {
	t.Helper()
	h.mustApply(cmdPutSchedule, PutScheduleCmd{Schedule: Schedule{
		ID: id, WorkflowID: "w1", Cron: cron, Timezone: "UTC", Enabled: true, Misfire: misfire, Overlap: overlap,
	}})
}

// fireDue fires what the leader would fire at the harness's clock.
func (h *fsmHarness) fireDue(t *testing.T, id string) []Fire {
	t.Helper()
	sc := h.f.state.schedules[id]
	var cache cronCache
	cmd, err := dueFires(sc, h.now, maxFiresPerEntry, cache.parse)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmd.FireTimes) == 0 {
		return nil
	}
	return h.mustApply(cmdFireSchedule, cmd).([]Fire)
}

func countJobs(fires []Fire) (jobs, skipped int) {
	for _, f := range fires {
		if f.JobID != "" {
			jobs++
		} else {
			skipped++
		}
	}
	return jobs, skipped
}

func TestFireIsExactlyOncePerFireTime(t *testing.T) {
	h := newQueueHarness(t)
	h.schedule(t, "s1", "@every 1s", MisfireRunAll, OverlapAllow)
	h.advance(3500 * time.Millisecond)
	sc := h.f.state.schedules["s1"]
	var cache cronCache
	cmd, _ := dueFires(sc, h.now, 100, cache.parse)
	times := cmd.FireTimes
	first := h.mustApply(cmdFireSchedule, FireCmd{ScheduleID: "s1", FireTimes: times}).([]Fire)
	// A new leader that re-sends the same fire times makes nothing new.
	again := h.mustApply(cmdFireSchedule, FireCmd{ScheduleID: "s1", FireTimes: times}).([]Fire)
	if n, _ := countJobs(first); n != 3 || len(again) != 0 || len(h.f.state.jobs) != 3 {
		t.Fatalf("first %d fires, repeat %d, jobs %d", n, len(again), len(h.f.state.jobs))
	}
	for _, f := range first {
		j := h.f.state.jobs[f.JobID]
		if j.ScheduleID != "s1" || !j.FireTime.Equal(f.FireTime) || f.JobID != FireJobID("s1", f.FireTime) {
			t.Fatalf("job %+v for fire %+v", j, f)
		}
	}
}

func TestMisfirePolicies(t *testing.T) {
	for _, tc := range []struct {
		misfire     string
		jobs, skips int
	}{
		{MisfireRunAll, 10, 0},
		{MisfireRunOnce, 1, 9},
		{MisfireSkip, 0, 10},
	} {
		t.Run(tc.misfire, func(t *testing.T) {
			h := newQueueHarness(t)
			h.schedule(t, "s1", "@every 1m", tc.misfire, OverlapAllow)
			// No leader for ten minutes and a bit: ten missed fire times.
			h.advance(10*time.Minute + 30*time.Second)
			fires := h.fireDue(t, "s1")
			if jobs, skips := countJobs(fires); jobs != tc.jobs || skips != tc.skips {
				t.Fatalf("%s: %d jobs %d skipped, want %d and %d", tc.misfire, jobs, skips, tc.jobs, tc.skips)
			}
		})
	}
}

func TestCatchupWindowDropsOlderFireTimes(t *testing.T) {
	h := newQueueHarness(t)
	h.schedule(t, "s1", "@every 10m", MisfireRunAll, OverlapAllow)
	h.advance(3 * time.Hour)
	if jobs, _ := countJobs(h.fireDue(t, "s1")); jobs != 6 {
		t.Fatalf("caught up %d fire times, want the 6 inside the 1h window", jobs)
	}
}

func TestOverlapForbidSkipsWhileBusy(t *testing.T) {
	h := newQueueHarness(t)
	h.schedule(t, "s1", "@every 1s", MisfireRunAll, OverlapForbid)
	h.advance(1100 * time.Millisecond)
	if jobs, _ := countJobs(h.fireDue(t, "s1")); jobs != 1 {
		t.Fatal("first fire made no job")
	}
	h.advance(time.Second)
	fires := h.fireDue(t, "s1")
	if len(fires) != 1 || fires[0].Skipped != "overlap" {
		t.Fatalf("fire while the last job is queued: %+v", fires)
	}
	c := h.claim("r1", 1)
	h.complete("r1", Completion{JobID: c[0].Job.ID, Token: c[0].Job.Lease.Token, Succeeded: true})
	h.advance(time.Second)
	if jobs, _ := countJobs(h.fireDue(t, "s1")); jobs != 1 {
		t.Fatal("no job after the previous one finished")
	}
	if got := len(h.f.state.schedules["s1"].History); got != 3 {
		t.Fatalf("history has %d fires, want 3 (one skip recorded)", got)
	}
}

func TestEnableDisableTriggerDelete(t *testing.T) {
	h := newQueueHarness(t)
	h.schedule(t, "s1", "@every 1s", MisfireRunAll, OverlapAllow)
	h.mustApply(cmdEnableSchedule, EnableScheduleCmd{ID: "s1", Enabled: false})
	h.advance(5 * time.Second)
	if fires := h.fireDue(t, "s1"); len(fires) != 0 {
		t.Fatal("a disabled schedule fired")
	}
	h.mustApply(cmdEnableSchedule, EnableScheduleCmd{ID: "s1", Enabled: true})
	if fires := h.fireDue(t, "s1"); len(fires) != 0 {
		t.Fatal("enabling caught up the disabled period")
	}
	f := h.mustApply(cmdFireSchedule, FireCmd{ScheduleID: "s1", Manual: true, JobID: "manual-1"}).([]Fire)
	if f[0].JobID != "manual-1" || h.f.state.jobs["manual-1"].ScheduleID != "s1" {
		t.Fatalf("trigger: %+v", f)
	}
	if _, err := h.apply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w1"}); ErrorCode(err) != CodeConflict {
		t.Fatalf("deleting a workflow with a schedule: %v", err)
	}
	h.mustApply(cmdDeleteSchedule, DeleteScheduleCmd{ID: "s1"})
	if _, err := h.apply(cmdEnableSchedule, EnableScheduleCmd{ID: "s1", Enabled: true}); ErrorCode(err) != CodeNotFound {
		t.Fatalf("enable deleted: %v", err)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ cron, tz, want string }{
		{"* * * * *", "UTC", ""},
		{"*/5 * * * * *", "Europe/Berlin", ""},
		{"@every 10s", "", ""},
		{"@daily", "America/New_York", ""},
		{"61 * * * *", "UTC", "cron"},
		{"* * *", "UTC", "cron"},
		{"@sometimes", "UTC", "cron"},
		{"", "UTC", "cron"},
		{"* * * * *", "Mars/Olympus", "timezone"},
		{"TZ=UTC * * * * *", "UTC", "timezone field"},
	} {
		_, _, err := ParseSchedule(tc.cron, tc.tz)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ParseSchedule(%q, %q) = %v", tc.cron, tc.tz, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ParseSchedule(%q, %q) = %v, want an error naming %q", tc.cron, tc.tz, err, tc.want)
		}
	}
}

// TestDaylightSaving pins what cron users get across DST changes in
// Europe/Berlin: on the spring-forward day a daily 02:30 job, whose time
// does not exist, runs at 03:30 CEST; on the fall-back day, when 02:30
// occurs twice, it runs once; an hourly job fires each wall-clock hour
// once, so the repeated 02:00 does not fire twice.
func TestDaylightSaving(t *testing.T) {
	var cache cronCache
	fireTimes := func(cron string, from, to time.Time) []string {
		sc := &Schedule{ID: "s", Cron: cron, Timezone: "Europe/Berlin", LastFired: from}
		cmd, err := dueFires(sc, to, 1000, cache.parse)
		if err != nil {
			t.Fatal(err)
		}
		times := cmd.FireTimes
		loc, _ := time.LoadLocation("Europe/Berlin")
		var out []string
		for _, ft := range times {
			out = append(out, ft.In(loc).Format("01-02 15:04 MST"))
		}
		return out
	}
	spring := fireTimes("30 2 * * *", time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC))
	fall := fireTimes("30 2 * * *", time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC))
	hourly := fireTimes("0 * * * *", time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 3, 30, 0, 0, time.UTC))
	t.Logf("spring: %v\nfall: %v\nhourly over fall-back: %v", spring, fall, hourly)
	if fmt.Sprint(spring) != "[03-28 02:30 CET 03-29 03:30 CEST 03-30 02:30 CEST]" {
		t.Errorf("spring-forward daily 02:30 = %v", spring)
	}
	if fmt.Sprint(fall) != "[10-24 02:30 CEST 10-25 02:30 CEST 10-26 02:30 CET]" {
		t.Errorf("fall-back daily 02:30 = %v", fall)
	}
	if fmt.Sprint(hourly) != "[10-25 02:00 CEST 10-25 03:00 CET 10-25 04:00 CET]" {
		t.Errorf("hourly over fall-back = %v", hourly)
	}
}

func TestRunOnceCoalescesLongOutagesIntoOneJob(t *testing.T) {
	h := newQueueHarness(t)
	h.schedule(t, "s1", "@every 1s", MisfireRunOnce, OverlapAllow)
	h.advance(40 * time.Minute)
	fires := append(h.fireDue(t, "s1"), h.fireDue(t, "s1")...)
	late := 0
	for _, f := range fires {
		if f.JobID != "" && h.now.Sub(f.FireTime) > MisfireGrace {
			late++
		}
	}
	if late != 1 {
		t.Fatalf("run_once after a 40 minute outage made %d jobs for missed fire times, want 1", late)
	}
}
