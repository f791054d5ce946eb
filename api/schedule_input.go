package api

import (
	"cmp"
	"time"

	"github.com/casare/casare/consensus"
)

// scheduleSpec checks a schedule request and builds the schedule to
// store, less its id. Cron and time zone are checked here, with
// consensus.ParseSchedule, because the state machine must not read zone
// files.
func scheduleSpec(req ScheduleRequest) (consensus.Schedule, error) {
	var missing []string
	if req.WorkflowID == "" {
		missing = append(missing, "workflow_id")
	}
	if req.Cron == "" {
		missing = append(missing, "cron")
	}
	if err := missingFields(missing...); err != nil {
		return consensus.Schedule{}, err
	}
	return scheduleFor(req.WorkflowID, req)
}

// scheduleFor builds a schedule of workflowID from the schedule fields of
// req; workflowID may still be unknown (a workflow being created).
func scheduleFor(workflowID string, req ScheduleRequest) (consensus.Schedule, error) {
	sc := consensus.Schedule{
		WorkflowID: workflowID, Cron: req.Cron, Timezone: cmp.Or(req.Timezone, "UTC"),
		Enabled: req.Enabled == nil || *req.Enabled,
		Misfire: cmp.Or(req.Misfire, consensus.MisfireRunAll), Overlap: cmp.Or(req.Overlap, consensus.OverlapAllow),
		CatchupWindow: consensus.Duration(consensus.DefaultCatchupWindow),
	}
	if err := checkCron(req.Cron, req.Timezone); err != nil {
		return sc, err
	}
	switch sc.Misfire {
	case consensus.MisfireRunAll, consensus.MisfireRunOnce, consensus.MisfireSkip:
	default:
		return sc, invalidField("misfire", "must be run_all, run_once or skip, not %q", req.Misfire)
	}
	switch sc.Overlap {
	case consensus.OverlapAllow, consensus.OverlapForbid:
	default:
		return sc, invalidField("overlap", "must be allow or forbid, not %q", req.Overlap)
	}
	if req.CatchupWindow != "" {
		window, err := parseDuration("catchup_window", req.CatchupWindow)
		if err != nil {
			return sc, err
		}
		if window == 0 {
			return sc, invalidField("catchup_window", "must be positive; to run no missed fire times, use misfire skip")
		}
		sc.CatchupWindow = consensus.Duration(window)
	}
	template, err := jobSpec(JobRequest{
		Params: req.Params, Priority: req.Priority, ExecutionMode: req.ExecutionMode,
		RobotTags: req.RobotTags, MaxAttempts: req.MaxAttempts,
	}, "")
	if err != nil {
		return sc, err
	}
	sc.Template = consensus.JobTemplate{
		Priority: template.Priority, ExecutionMode: template.ExecutionMode, Params: template.Params,
		RobotTags: template.RobotTags, MaxAttempts: template.MaxAttempts,
	}
	return sc, nil
}

// checkCron checks a cron expression and its time zone, naming the one
// at fault.
func checkCron(expr, timezone string) error {
	if timezone == "Local" {
		// Local is whatever zone each node is set to: one schedule would
		// fire at different times depending on the leader.
		return invalidField("timezone", "must name a zone such as Europe/Berlin; Local differs from node to node")
	}
	if _, err := time.LoadLocation(cmp.Or(timezone, "UTC")); err != nil {
		return invalidField("timezone", "%q is not a known time zone; use an IANA name such as Europe/Berlin or UTC", timezone)
	}
	if _, _, err := consensus.ParseSchedule(expr, timezone); err != nil {
		// The store's message already names the field: cron "…": why.
		e := invalid("%v", err)
		e.details = map[string]any{"field": "cron"}
		return e
	}
	return nil
}
