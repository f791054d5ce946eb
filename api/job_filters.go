package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// jobListFilters reads the dashboard's filters of GET /api/v1/jobs:
// robot_id, schedule_id, created_after and created_before (RFC 3339).
func jobListFilters(c *gin.Context, f *consensus.JobFilter) error {
	f.RobotID, f.ScheduleID = c.Query("robot_id"), c.Query("schedule_id")
	for _, b := range []struct {
		field string
		to    *time.Time
	}{{"created_after", &f.CreatedAfter}, {"created_before", &f.CreatedBefore}} {
		raw, ok := c.GetQuery(b.field)
		if !ok || raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return invalidField(b.field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", raw)
		}
		*b.to = t
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return invalidField("created_after", "%s is not before created_before %s", f.CreatedAfter.Format(time.RFC3339), f.CreatedBefore.Format(time.RFC3339))
	}
	return nil
}
