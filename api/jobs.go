package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/archive"
	"github.com/casare/casare/consensus"
)

// List limits of GET /api/v1/jobs.
const (
	defaultJobLimit = 100
	maxBatchJobs    = consensus.MaxListLimit
)

func (s jobsAPI) submitJob(c *gin.Context) {
	var req JobRequest
	if !s.bindJobs(c, nil, &req) {
		return
	}
	if jobs, ok := s.submit(c, []JobRequest{req}, ""); ok {
		s.writeSubmitted(c, jobs, false)
	}
}

func (s jobsAPI) submitJobBatch(c *gin.Context) {
	var req BatchJobsRequest
	if !s.bindJobs(c, &req, nil) {
		return
	}
	switch {
	case req.Jobs == nil:
		s.abort(c, missingFields("jobs"))
		return
	case len(req.Jobs) == 0:
		s.abort(c, invalidField("jobs", "is empty; give at least one job"))
		return
	case len(req.Jobs) > maxBatchJobs:
		s.abort(c, invalidField("jobs", "has %d jobs; a batch holds at most %d", len(req.Jobs), maxBatchJobs))
		return
	}
	if jobs, ok := s.submit(c, req.Jobs, "jobs[%d]."); ok {
		s.writeSubmitted(c, jobs, true)
	}
}

// submit checks every request, then queues them all in one Raft entry.
// prefixFormat, given the request's position, locates a request inside
// its batch in error messages. On failure it has answered and returns
// false.
func (s jobsAPI) submit(c *gin.Context, reqs []JobRequest, prefixFormat string) ([]consensus.Job, bool) {
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return nil, false
	}
	specs := make([]consensus.JobSpec, len(reqs))
	for i, req := range reqs {
		// The request's place in a batch is written out only for an
		// error: a batch of valid jobs needs none of the strings.
		prefix := func() string {
			if prefixFormat == "" {
				return ""
			}
			return fmt.Sprintf(prefixFormat, i)
		}
		if req.WorkflowID == "" {
			s.abort(c, missingFields(prefix()+"workflow_id"))
			return nil, false
		}
		if specs[i], err = jobSpec(req, ""); err != nil {
			_, err = jobSpec(req, prefix()) // the same error, naming its place
			s.abort(c, err)
			return nil, false
		}
		purpose := "job" // the position matters to a derived id alone
		if key != "" {
			purpose = "job:" + strconv.Itoa(i)
		}
		if specs[i].ID, err = newID(key, purpose); err != nil {
			s.abort(c, err)
			return nil, false
		}
	}
	jobs, err := s.cfg.Store.SubmitJobs(c.Request.Context(), specs)
	if err != nil {
		s.abort(c, err)
		return nil, false
	}
	return jobs, true
}

// writeSubmitted answers a submit with the jobs it queued, each shown as
// of now with its secret parameters hidden.
func (s jobsAPI) writeSubmitted(c *gin.Context, jobs []consensus.Job, batch bool) {
	now, masks := time.Now(), s.paramMasks()
	var v Job
	writeJobs(c, http.StatusCreated, len(jobs), batch, func(i int) *Job {
		v = jobView(jobs[i], now)
		masks.hide(&v)
		return &v
	})
}

func (s jobsAPI) listJobs(c *gin.Context) {
	filter, err := jobFilter(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	if text := c.Query("q"); text != "" {
		s.searchJobs(c, filter, text)
		return
	}
	jobs, next, index := s.cfg.Store.Jobs(filter)
	setAppliedIndex(c, index)
	list := JobList{Jobs: jobSummaries(jobs, time.Now()), AppliedIndex: index}
	if s.cfg.Archive != nil {
		next = s.withArchived(c, &list, jobs, filter, next)
	}
	list.Jobs = s.hideSecretParams(list.Jobs)
	if next != 0 {
		cursor := encodeCursor(next)
		list.NextCursor = &cursor
	}
	c.JSON(http.StatusOK, list)
}

// withArchived merges into a Raft page the archived jobs Raft no longer
// holds, and returns the next cursor. Without the archive (Postgres
// away) the page is Raft's alone: listing must not stop with it.
func (s jobsAPI) withArchived(c *gin.Context, list *JobList, jobs []consensus.Job, f consensus.JobFilter, next uint64) uint64 {
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	archived, err := s.cfg.Archive.Jobs(ctx, archive.JobQuery{State: f.State, WorkflowID: f.WorkflowID, BeforeSeq: f.Cursor, Limit: f.Limit})
	if err != nil {
		s.log.Warn("archive unreadable; listing the jobs raft holds", "err", err)
		c.Header(archiveMissingHeader, "unreachable")
		return next
	}
	seqs := make([]uint64, len(jobs))
	for i, j := range jobs {
		seqs[i] = j.Seq
	}
	inRaft := func(id string) bool { _, found, _ := s.cfg.Store.Job(id); return found }
	var merged []uint64
	list.Jobs, merged = mergeArchived(list.Jobs, seqs, archived, inRaft, f.Limit, time.Now())
	if (next != 0 || len(archived) == f.Limit) && len(merged) > 0 {
		next = merged[len(merged)-1]
	}
	return next
}

// searchJobs answers GET /api/v1/jobs?q= from the archive's full-text
// index over log lines and errors.
func (s jobsAPI) searchJobs(c *gin.Context, f consensus.JobFilter, text string) {
	if s.cfg.Archive == nil {
		s.abort(c, errNoArchive("searching jobs (?q=)"))
		return
	}
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	jobs, err := s.cfg.Archive.Jobs(ctx, archive.JobQuery{Text: text, State: f.State, WorkflowID: f.WorkflowID, BeforeSeq: f.Cursor, Limit: f.Limit + 1})
	if err != nil {
		s.abort(c, errArchive(err))
		return
	}
	list := JobList{Jobs: []Job{}, AppliedIndex: s.cfg.Store.AppliedIndex()}
	now := time.Now()
	for i, j := range jobs {
		if i == f.Limit {
			cursor := encodeCursor(jobs[i-1].Seq)
			list.NextCursor = &cursor
			break
		}
		v := archiveView(j, now)
		v.Checkpoint, v.LastLogs = nil, nil
		list.Jobs = append(list.Jobs, v)
	}
	c.JSON(http.StatusOK, list)
}

// jobFilter reads the query of GET /api/v1/jobs.
func jobFilter(c *gin.Context) (consensus.JobFilter, error) {
	f := consensus.JobFilter{WorkflowID: c.Query("workflow_id"), Limit: defaultJobLimit}
	if raw, ok := c.GetQuery("state"); ok {
		f.State = consensus.JobState(raw)
		if !f.State.Valid() {
			return f, invalidField("state", "must be queued, running, succeeded, failed, cancelled or dead, not %q", raw)
		}
	}
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > consensus.MaxListLimit {
			return f, invalidField("limit", "must be an integer from 1 to %d, not %q", consensus.MaxListLimit, raw)
		}
		f.Limit = n
	}
	if raw, ok := c.GetQuery("cursor"); ok {
		seq, err := decodeCursor(raw)
		if err != nil {
			return f, invalidField("cursor", "is not a cursor this API returned: %v", err)
		}
		f.Cursor = seq
	}
	return f, jobListFilters(c, &f)
}

func (s jobsAPI) getJob(c *gin.Context) {
	id := c.Param("id")
	if _, found, index := s.cfg.Store.Job(id); !found {
		if job, ok := s.archivedJob(c, id); ok {
			setAppliedIndex(c, index)
			c.JSON(http.StatusOK, archiveView(job, time.Now()))
			return
		}
	}
	job, _, found := lookup(s.Server, c, "job "+id, func() (consensus.Job, bool, uint64) { return s.cfg.Store.Job(id) })
	if !found {
		return
	}
	now := time.Now()
	view := s.hideSecretParams([]Job{jobView(job, now)})[0]
	view.WaitingReason = s.waitingReason(job, now)
	c.JSON(http.StatusOK, view)
}

func (s jobsAPI) cancelJob(c *gin.Context) {
	var req CancelJobRequest
	if !s.bindOptionalJSON(c, &req) {
		return
	}
	job, err := s.cfg.Store.CancelJob(c.Request.Context(), c.Param("id"), req.Reason)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, s.hideSecretParams([]Job{jobView(job, time.Now())})[0])
}

// rerunJob queues a finished job again as a new job. With an
// Idempotency-Key the new id is derived from the key and the old job, so
// a retried request returns the first re-run.
func (s jobsAPI) rerunJob(c *gin.Context) {
	var req RerunJobRequest
	if !s.bindOptionalJSON(c, &req) {
		return
	}
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	id := c.Param("id")
	rerunID, err := newID(key, "rerun:"+id)
	if err != nil {
		s.abort(c, err)
		return
	}
	job, err := s.cfg.Store.Rerun(c.Request.Context(), consensus.RerunCmd{JobID: id, NewID: rerunID, Latest: req.LatestVersion})
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.hideSecretParams([]Job{jobView(job, time.Now())})[0])
}
