package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casare/casare/archive"
	"github.com/casare/casare/consensus"
)

// Archive is what the API reads from the Postgres archive.
type Archive interface {
	Job(ctx context.Context, id string) (consensus.Job, bool, error)
	Jobs(ctx context.Context, q archive.JobQuery) ([]consensus.Job, error)
	Logs(ctx context.Context, jobID string, offset, limit int) ([]consensus.LogLine, int, error)
	SearchWorkflows(ctx context.Context, text string, limit int) ([]archive.WorkflowHit, error)
	Stats(ctx context.Context) (archive.Stats, error)
	Position(ctx context.Context) (uint64, error)
}

// Where a job's answer came from (wire.Job.Source).
const (
	SourceRaft    = "raft"
	SourceArchive = "archive"
)

// archiveMissingHeader marks a job list answered without the archive
// (Postgres away): it holds only the jobs Raft still has.
const archiveMissingHeader = "X-Casare-Archive"

// archiveTimeout bounds one archive read, so that a slow or absent
// Postgres costs a request seconds, never a hang.
const archiveTimeout = 5 * time.Second

// errNoArchive is the answer to a request only the archive can serve.
func errNoArchive(what string) error {
	return newError(consensus.CodeInvalid, "%s needs the archive: start the servers with --archive-url postgres://…", what)
}

// errArchive wraps a failed archive read as a 503-class error.
func errArchive(err error) error {
	return newError(CodeUnavailable, "the archive could not be read: %v", err)
}

func (s *Server) archiveCtx(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), archiveTimeout)
}

// archivedJob looks id up in the archive, for a job Raft does not hold.
func (s jobsAPI) archivedJob(c *gin.Context, id string) (consensus.Job, bool) {
	if s.cfg.Archive == nil {
		return consensus.Job{}, false
	}
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	job, found, err := s.cfg.Archive.Job(ctx, id)
	if err != nil {
		s.log.Warn("archive lookup failed", "job", id, "err", err)
		return consensus.Job{}, false
	}
	return job, found
}

// archiveView shows an archived job.
func archiveView(j consensus.Job, now time.Time) Job {
	v := jobView(j, now)
	v.Source = SourceArchive
	return v
}

// mergeArchived adds to a Raft page of jobs (newest first) the archived
// jobs Raft no longer holds, in submission order, and cuts at limit.
// more says whether either source had more; the cursor is the last
// job's position either way.
func mergeArchived(raft []Job, raftSeq []uint64, archived []consensus.Job, inRaft func(string) bool, limit int, now time.Time) ([]Job, []uint64) {
	out, seqs := raft, raftSeq
	for _, j := range archived {
		if inRaft(j.ID) {
			continue
		}
		i, _ := slices.BinarySearchFunc(seqs, j.Seq, func(a, b uint64) int {
			switch {
			case a > b:
				return -1
			case a < b:
				return 1
			}
			return 0
		})
		v := archiveView(j, now)
		v.Checkpoint, v.LastLogs = nil, nil
		out = slices.Insert(out, i, v)
		seqs = slices.Insert(seqs, i, j.Seq)
	}
	if len(out) > limit {
		out, seqs = out[:limit], seqs[:limit]
	}
	return out, seqs
}

// stats serves the archive's statistics views.
func (s clusterAPI) stats(c *gin.Context) {
	if s.cfg.Archive == nil {
		s.abort(c, errNoArchive("statistics"))
		return
	}
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	st, err := s.cfg.Archive.Stats(ctx)
	if err != nil {
		s.abort(c, errArchive(err))
		return
	}
	c.JSON(http.StatusOK, st)
}

// archiveStatus says how far the archive is behind this node's replica.
func (s *Server) archiveStatus(ctx context.Context) *ArchiveStatus {
	if s.cfg.Archive == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, archiveTimeout)
	defer cancel()
	applied := s.cfg.Store.AppliedIndex()
	pos, err := s.cfg.Archive.Position(ctx)
	if err != nil {
		return &ArchiveStatus{Error: err.Error()}
	}
	st := &ArchiveStatus{ArchivedIndex: pos}
	if applied > pos {
		st.Lag = applied - pos
	}
	var oldest time.Time
	if st.LagJobs, oldest = s.cfg.Store.FinishedAfter(pos); st.LagJobs > 0 {
		st.LagSeconds = max(0, time.Since(oldest).Seconds())
	}
	return st
}

var (
	archivedIndexDesc = prometheus.NewDesc("casare_archive_archived_index",
		"Raft index up to which every finished job is in the Postgres archive.", nil, nil)
	archiveLagDesc = prometheus.NewDesc("casare_archive_lag_entries",
		"Raft entries applied on this node and not yet covered by the archive.", nil, nil)
	archiveLagJobsDesc = prometheus.NewDesc("casare_archive_lag_jobs",
		"Finished jobs in this node's replica that the archive does not hold yet.", nil, nil)
	archiveLagSecondsDesc = prometheus.NewDesc("casare_archive_lag_seconds",
		"How long ago the oldest finished job the archive does not hold yet finished (0 when none).", nil, nil)
	archiveUpDesc = prometheus.NewDesc("casare_archive_up",
		"1 when the archive answered this scrape, 0 when it did not.", nil, nil)
)

// archiveCollector reads the archive's position at scrape time.
type archiveCollector struct{ s *Server }

func (a archiveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- archivedIndexDesc
	ch <- archiveLagDesc
	ch <- archiveLagJobsDesc
	ch <- archiveLagSecondsDesc
	ch <- archiveUpDesc
}

func (a archiveCollector) Collect(ch chan<- prometheus.Metric) {
	st := a.s.archiveStatus(context.Background())
	if st.Error != "" {
		ch <- prometheus.MustNewConstMetric(archiveUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(archiveUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(archivedIndexDesc, prometheus.GaugeValue, float64(st.ArchivedIndex))
	ch <- prometheus.MustNewConstMetric(archiveLagDesc, prometheus.GaugeValue, float64(st.Lag))
	ch <- prometheus.MustNewConstMetric(archiveLagJobsDesc, prometheus.GaugeValue, float64(st.LagJobs))
	ch <- prometheus.MustNewConstMetric(archiveLagSecondsDesc, prometheus.GaugeValue, st.LagSeconds)
}
