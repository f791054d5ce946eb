package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

func (s schedulesAPI) createSchedule(c *gin.Context) {
	var req ScheduleRequest
	if !s.bindJSON(c, &req) {
		return
	}
	sc, err := scheduleSpec(req)
	if err != nil {
		s.abort(c, err)
		return
	}
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if sc.ID, err = newID(key, "schedule"); err != nil {
		s.abort(c, err)
		return
	}
	created, err := s.cfg.Store.CreateSchedule(c.Request.Context(), sc)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, scheduleView(created, time.Now()))
}

func (s schedulesAPI) listSchedules(c *gin.Context) {
	schedules, index := s.cfg.Store.Schedules(c.Query("workflow_id"))
	setAppliedIndex(c, index)
	now := time.Now()
	out := make([]Schedule, len(schedules))
	for i, sc := range schedules {
		out[i] = scheduleView(sc, now)
		out[i].History = nil // a list stays small; GET one for its history
	}
	c.JSON(http.StatusOK, ScheduleList{Schedules: out, AppliedIndex: index})
}

func (s schedulesAPI) getSchedule(c *gin.Context) {
	id := c.Param("id")
	sc, _, found := lookup(s.Server, c, "schedule "+id, func() (consensus.Schedule, bool, uint64) { return s.cfg.Store.Schedule(id) })
	if !found {
		return
	}
	c.JSON(http.StatusOK, scheduleView(sc, time.Now()))
}

func (s schedulesAPI) enableSchedule(c *gin.Context)  { s.setScheduleEnabled(c, true) }
func (s schedulesAPI) disableSchedule(c *gin.Context) { s.setScheduleEnabled(c, false) }

// setScheduleEnabled switches a schedule. An enabled schedule fires from
// the time it was enabled: it owes nothing for the time it was disabled.
func (s schedulesAPI) setScheduleEnabled(c *gin.Context, enabled bool) {
	sc, err := s.cfg.Store.EnableSchedule(c.Request.Context(), c.Param("id"), enabled)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, scheduleView(sc, time.Now()))
}

// triggerSchedule queues one job of the schedule now, outside its
// timetable. With an Idempotency-Key the job id is derived from the key
// and the schedule, so a retry queues no second job.
func (s schedulesAPI) triggerSchedule(c *gin.Context) {
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	id := c.Param("id")
	jobID, err := newID(key, "trigger:"+id)
	if err != nil {
		s.abort(c, err)
		return
	}
	fire, err := s.cfg.Store.TriggerSchedule(c.Request.Context(), id, jobID)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, TriggerScheduleResponse{ScheduleID: id, JobID: fire.JobID, FireTime: fire.FireTime})
}

func (s schedulesAPI) deleteSchedule(c *gin.Context) {
	if err := s.cfg.Store.DeleteSchedule(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
