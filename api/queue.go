package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// maxVisibilityTimeout bounds a workflow's lease. Robots extend leases by
// heartbeat, so a long job needs no long lease; a very long one would
// leave a vanished robot's job running for as long.
const maxVisibilityTimeout = time.Hour

func (s workflowsAPI) queueStats(c *gin.Context) {
	now := time.Now()
	stats := s.cfg.Store.QueueStats(now)
	setAppliedIndex(c, stats.AppliedIndex)
	c.JSON(http.StatusOK, queueStatsView(stats, now))
}

func (s workflowsAPI) pauseQueue(c *gin.Context)     { s.pause(c, "", true) }
func (s workflowsAPI) resumeQueue(c *gin.Context)    { s.pause(c, "", false) }
func (s workflowsAPI) pauseWorkflow(c *gin.Context)  { s.pause(c, c.Param("id"), true) }
func (s workflowsAPI) resumeWorkflow(c *gin.Context) { s.pause(c, c.Param("id"), false) }

// pause holds (or releases) the queued jobs of one workflow, or of every
// workflow when workflowID is empty. Running jobs go on.
func (s workflowsAPI) pause(c *gin.Context, workflowID string, paused bool) {
	if err := s.cfg.Store.Pause(c.Request.Context(), workflowID, paused); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s workflowsAPI) setWorkflowSettings(c *gin.Context) {
	var req WorkflowSettingsRequest
	if !s.bindJSON(c, &req) {
		return
	}
	cmd, err := settingsCmd(c.Param("id"), req)
	if err != nil {
		s.abort(c, err)
		return
	}
	settings, err := s.cfg.Store.SetSettings(c.Request.Context(), cmd)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, workflowSettings(settings))
}

// settingsCmd checks a settings request; only the fields it carries
// change.
func settingsCmd(workflowID string, req WorkflowSettingsRequest) (consensus.SettingsCmd, error) {
	cmd := consensus.SettingsCmd{WorkflowID: workflowID, MaxConcurrency: req.MaxConcurrency}
	if req.MaxConcurrency == nil && req.VisibilityTimeout == "" {
		e := invalid("nothing to change: give max_concurrency, visibility_timeout or both")
		e.details = map[string]any{"fields": []string{"max_concurrency", "visibility_timeout"}}
		return cmd, e
	}
	if req.MaxConcurrency != nil && *req.MaxConcurrency < 0 {
		return cmd, invalidField("max_concurrency", "must be 0 (no cap) or more, not %d", *req.MaxConcurrency)
	}
	if req.VisibilityTimeout != "" {
		d, err := parseDuration("visibility_timeout", req.VisibilityTimeout)
		if err != nil {
			return cmd, err
		}
		if d < time.Second || d > maxVisibilityTimeout {
			return cmd, invalidField("visibility_timeout", "must be from 1s to %s, not %s", maxVisibilityTimeout, req.VisibilityTimeout)
		}
		visibility := consensus.Duration(d)
		cmd.VisibilityTimeout = &visibility
	}
	return cmd, nil
}
