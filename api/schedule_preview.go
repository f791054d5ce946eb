package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// previewCount is how many fire times a preview shows: enough to see a
// pattern (weekdays, month ends) at a glance.
const previewCount = 5

// previewSchedule answers GET /api/v1/schedules/preview?cron=&timezone=
// with the next fire times, or a 400 naming the field at fault. It reads
// and writes nothing, so a form may call it on every keystroke.
func (s schedulesAPI) previewSchedule(c *gin.Context) {
	expr, timezone := c.Query("cron"), c.Query("timezone")
	if expr == "" {
		s.abort(c, missingFields("cron"))
		return
	}
	if err := checkCron(expr, timezone); err != nil {
		s.abort(c, err)
		return
	}
	next, err := consensus.PreviewFireTimes(expr, timezone, time.Now(), previewCount)
	if err != nil {
		e := invalid("%v", err)
		e.details = map[string]any{"field": "cron"}
		s.abort(c, e)
		return
	}
	c.JSON(http.StatusOK, SchedulePreview{Cron: expr, Timezone: cmp.Or(timezone, "UTC"), Next: next})
}
