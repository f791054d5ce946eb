package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

func (s workflowsAPI) createWorkflow(c *gin.Context) {
	var req CreateWorkflowRequest
	data, err := readJSONBody(c, s.cfg.MaxBodyBytes)
	if err == nil {
		err = decodeStrict(data, &req)
	}
	if err != nil {
		s.abort(c, s.pointToUpload(err))
		return
	}
	var missing []string
	if req.WorkflowName == "" {
		missing = append(missing, "workflow_name")
	}
	if isAbsent(req.WorkflowJSON) {
		missing = append(missing, "workflow_json")
	}
	if err := missingFields(missing...); err != nil {
		s.abort(c, err)
		return
	}
	s.putWorkflow(c, req, "")
}

// pointToUpload adds to a body-too-large error that workflow files too
// big for JSON can be uploaded: the upload takes a larger body.
func (s workflowsAPI) pointToUpload(err error) error {
	ae := asAPIError(err)
	if ae.code != CodeBodyTooLarge {
		return err
	}
	e := newError(CodeBodyTooLarge, "%s; POST /api/v1/workflows/upload (casare workflows upload FILE) takes workflow files of up to %d bytes",
		ae.message, s.cfg.MaxUploadBytes)
	e.details = map[string]any{"limit": s.cfg.MaxBodyBytes, "upload_limit": s.cfg.MaxUploadBytes}
	return e
}

// putWorkflow stores a checked create request and answers 201.
func (s workflowsAPI) putWorkflow(c *gin.Context, req CreateWorkflowRequest, fallbackName string) {
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	w, err := planWorkflowWrite(req, key, fallbackName)
	if err != nil {
		s.abort(c, err)
		return
	}
	res, err := s.cfg.Store.PutWorkflow(c.Request.Context(), w.put)
	if err != nil {
		s.abort(c, err)
		return
	}
	resp := CreateWorkflowResponse{WorkflowID: res.WorkflowID, Version: res.Version, Created: res.Created}
	if len(res.Jobs) > 0 {
		resp.JobID = res.Jobs[0].ID
	}
	if w.schedule != nil {
		w.schedule.WorkflowID = res.WorkflowID
		sc, err := s.cfg.Store.CreateSchedule(c.Request.Context(), *w.schedule)
		if err != nil {
			s.abort(c, scheduleAfterWorkflowError(res, err))
			return
		}
		resp.ScheduleID = sc.ID
	}
	c.JSON(http.StatusCreated, resp)
}

// scheduleAfterWorkflowError reports a schedule that failed after its
// workflow was stored: two Raft entries, so the first one stays. The
// same request with the same Idempotency-Key finishes the job.
func scheduleAfterWorkflowError(res consensus.PutWorkflowResult, err error) error {
	cause := asAPIError(err)
	e := newError(cause.code,
		"workflow %s version %d was stored, but its schedule was not created: %s; retry with the same Idempotency-Key or create the schedule with POST /api/v1/schedules",
		res.WorkflowID, res.Version, cause.message)
	e.details = map[string]any{"workflow_id": res.WorkflowID, "version": res.Version}
	return e
}

func (s workflowsAPI) uploadWorkflow(c *gin.Context) {
	form, err := s.readUpload(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	req, err := form.request()
	if err != nil {
		s.abort(c, err)
		return
	}
	s.putWorkflow(c, req, form.baseName())
}

func (s workflowsAPI) listWorkflows(c *gin.Context) {
	wfs, index := s.cfg.Store.Workflows()
	if text := c.Query("q"); text != "" {
		var ok bool
		if wfs, ok = s.searchWorkflows(c, wfs, text); !ok {
			return
		}
	}
	setAppliedIndex(c, index)
	out := make([]WorkflowSummary, len(wfs))
	for i, wf := range wfs {
		out[i] = workflowSummary(wf)
	}
	c.JSON(http.StatusOK, WorkflowList{Workflows: out, AppliedIndex: index})
}

// lookupWorkflow reads the workflow named by the :id parameter, or
// answers 404.
func (s workflowsAPI) lookupWorkflow(c *gin.Context) (wf consensus.Workflow, index uint64, found bool) {
	id := c.Param("id")
	return lookup(s.Server, c, "workflow "+id, func() (consensus.Workflow, bool, uint64) { return s.cfg.Store.Workflow(id) })
}

func (s workflowsAPI) getWorkflow(c *gin.Context) {
	if wf, _, ok := s.lookupWorkflow(c); ok {
		c.JSON(http.StatusOK, workflowDetail(wf))
	}
}

func (s workflowsAPI) listWorkflowVersions(c *gin.Context) {
	wf, index, ok := s.lookupWorkflow(c)
	if !ok {
		return
	}
	versions := make([]WorkflowVersion, len(wf.Versions))
	for i, v := range wf.Versions {
		versions[i] = workflowVersion(v)
	}
	c.JSON(http.StatusOK, WorkflowVersions{WorkflowID: wf.ID, Versions: versions, AppliedIndex: index})
}

func (s workflowsAPI) deleteWorkflow(c *gin.Context) {
	force := false
	if raw, ok := c.GetQuery("force"); ok {
		var err error
		if force, err = strconv.ParseBool(raw); err != nil {
			s.abort(c, invalidField("force", "must be true or false, not %q", raw))
			return
		}
	}
	if err := s.cfg.Store.DeleteWorkflow(c.Request.Context(), c.Param("id"), force); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// maxWorkflowHits bounds one search's answer; a search is for finding,
// and the full list is one request without ?q=.
const maxWorkflowHits = 200

// searchWorkflows keeps the workflows the archive's full-text index
// matches for text (name, description, node types), best match first.
func (s workflowsAPI) searchWorkflows(c *gin.Context, wfs []consensus.Workflow, text string) ([]consensus.Workflow, bool) {
	if s.cfg.Archive == nil {
		s.abort(c, errNoArchive("searching workflows (?q=)"))
		return nil, false
	}
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	hits, err := s.cfg.Archive.SearchWorkflows(ctx, text, maxWorkflowHits)
	if err != nil {
		s.abort(c, errArchive(err))
		return nil, false
	}
	byID := make(map[string]consensus.Workflow, len(wfs))
	for _, wf := range wfs {
		byID[wf.ID] = wf
	}
	out := []consensus.Workflow{}
	for _, h := range hits {
		if wf, ok := byID[h.ID]; ok { // a deleted workflow stays in the archive, not in the list
			out = append(out, wf)
		}
	}
	return out, true
}
