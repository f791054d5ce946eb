//go:build unix

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/archive/archivetest"
)

// The archiver figures (-archive URL): three casare processes started
// with --archive-url run the end-to-end load while this process samples
// the leader's archive lag (GET /api/v1/cluster, the figures `casare
// status` prints and /metrics exports). Each run gets a database of its
// own on the Postgres at URL, dropped at the end.

const (
	// lagSampleEvery is how often the lag is read: finer than the
	// archiver's round (500 ms), so the peaks between rounds show.
	lagSampleEvery = 100 * time.Millisecond
	// catchUpLimit bounds the wait for the archive after the last job
	// finished; an archiver that needs longer did not keep up.
	catchUpLimit = 2 * time.Minute
	// keptUpWithin is how soon after the last job finished the archive
	// must hold every job to count as keeping up: two archiver rounds.
	keptUpWithin = time.Second
)

// lagPeak is the largest lag seen, in each unit, and the lag in jobs of
// each sample, by time since the load started.
type lagPeak struct {
	jobs, entries int
	seconds       float64
	samples       []lagSample
}

type lagSample struct {
	at   time.Duration
	jobs int
}

func (p *lagPeak) note(at time.Duration, st *api.ArchiveStatus) {
	p.jobs = max(p.jobs, st.LagJobs)
	p.entries = max(p.entries, int(st.Lag))
	p.seconds = max(p.seconds, st.LagSeconds)
	p.samples = append(p.samples, lagSample{at, st.LagJobs})
}

// halves returns the largest lag in jobs in the first and in the second
// half of the load (until): an archiver that keeps up has the same peak
// in both, one that falls behind a larger one in the second.
func (p *lagPeak) halves(until time.Duration) (first, second int) {
	for _, s := range p.samples {
		switch {
		case s.at <= until/2:
			first = max(first, s.jobs)
		case s.at <= until:
			second = max(second, s.jobs)
		}
	}
	return first, second
}

func (b *bench) runArchive(ctx context.Context, root string) error {
	bin, err := filepath.Abs(b.cfg.bin)
	if err != nil {
		return err
	}
	dbURL, drop, err := benchDatabase(ctx, b.cfg.archiveURL)
	if err != nil {
		return err
	}
	defer drop()
	fmt.Printf("three casare processes (%s) with --archive-url (a fresh database on %s), %d no-op jobs end to end; load average at start: %s\n",
		bin, redactURL(b.cfg.archiveURL), b.cfg.e2eJobs, loadAverage())
	b.progress("starting %d casare processes with robots and the archive", procSize)
	c, err := startProcCluster(ctx, bin, filepath.Join(root, "archive"), procSize, true, false, b.cfg.capacity, "--archive-url", dbURL)
	if err != nil {
		return err
	}
	defer c.close()
	return b.archiveFigures(ctx, c, dbURL)
}

// archiveFigures runs the end-to-end load, sampling the leader's lag,
// then waits for the archive to hold every job and checks it holds each
// once.
func (b *bench) archiveFigures(ctx context.Context, c *procCluster, dbURL string) error {
	leader, err := procLeader(ctx, c)
	if err != nil {
		return err
	}
	wfID, err := createWorkflow(ctx, leader, "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	total := b.cfg.e2eJobs
	b.progress("end-to-end with the archive, %d no-op jobs", total)
	var peak lagPeak
	var sampleErr atomic.Value
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampler sync.WaitGroup
	t0 := time.Now()
	sampler.Go(func() {
		for sampleCtx.Err() == nil {
			if cl, err := leader.Cluster(sampleCtx); err == nil && cl.Archive != nil && cl.Archive.Error == "" {
				peak.note(time.Since(t0), cl.Archive)
			} else if err == nil && cl.Archive != nil {
				sampleErr.Store(cl.Archive.Error)
			}
			select {
			case <-sampleCtx.Done():
			case <-time.After(lagSampleEvery):
			}
		}
	})
	done, err := b.drainJobs(ctx, c, wfID, total)
	drained := time.Since(t0)
	if err != nil {
		stopSampling()
		sampler.Wait()
		return err
	}
	atDrain, err := leader.Cluster(ctx)
	if err != nil || atDrain.Archive == nil {
		stopSampling()
		sampler.Wait()
		return fmt.Errorf("archive status when the last job finished: %+v, %v", atDrain.Archive, err)
	}
	caught, err := waitCaughtUp(ctx, leader)
	caughtAt := time.Since(t0)
	stopSampling()
	sampler.Wait()
	if err != nil {
		return err
	}
	archived, err := countArchived(ctx, dbURL)
	if err != nil {
		return err
	}
	if archived != done {
		return fmt.Errorf("the archive holds %d jobs; %d succeeded (each must be there once)", archived, done)
	}
	after := caughtAt - drained
	kept := "kept up"
	if after > keptUpWithin {
		kept = fmt.Sprintf("did NOT keep up (needed %s after the last job, more than %s)", fmtSeconds(after), keptUpWithin)
	}
	e2e := float64(done) / drained.Seconds()
	b.addProc(row{nodes: procSize, figure: "archiver throughput under full end-to-end load", value: float64(archived) / caughtAt.Seconds(), unit: "jobs/s",
		note: fmt.Sprintf("%d jobs archived once each; end-to-end %.0f jobs/s, last job at %s, archive complete at %s: %s",
			archived, e2e, fmtSeconds(drained), fmtSeconds(caughtAt), kept)})
	first, second := peak.halves(drained)
	note := fmt.Sprintf("max %.1fs, %d Raft entries, sampled every %s on the leader; max %d jobs in the first half of the load, %d in the second",
		peak.seconds, peak.entries, lagSampleEvery, first, second)
	if e, ok := sampleErr.Load().(string); ok {
		note += "; archive error seen: " + e
	}
	b.addProc(row{nodes: procSize, figure: "archiver max lag under full end-to-end load", value: float64(peak.jobs), unit: "jobs", note: note})
	b.addProc(row{nodes: procSize, figure: "archiver lag when the last job finished", value: float64(atDrain.Archive.LagJobs), unit: "jobs",
		note: fmt.Sprintf("%.1fs, %d Raft entries; 0 jobs %s later (lag %d entries)", atDrain.Archive.LagSeconds, atDrain.Archive.Lag, fmtSeconds(after), caught.Lag)})
	return nil
}

// drainJobs queues total no-op jobs as the end-to-end figure does and
// waits until none is queued or running; it returns how many succeeded.
func (b *bench) drainJobs(ctx context.Context, c *procCluster, wfID string, total int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d.e2eTimeout)
	defer cancel()
	before, err := c.clients[0].QueueStats(ctx, client.Consistent())
	if err != nil {
		return 0, fmt.Errorf("queue stats: %w", err)
	}
	req := slices.Repeat([]api.JobRequest{{WorkflowID: wfID, ExecutionMode: "lan"}}, e2eBatch)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for w := range e2eSubmitters {
		wg.Go(func() {
			for next.Add(e2eBatch) <= int64(total) && ctx.Err() == nil {
				if _, err := c.clients[w%len(c.clients)].SubmitJobs(ctx, req); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	for {
		after, err := c.clients[0].QueueStats(ctx)
		if err == nil && after.ByState["queued"]+after.ByState["running"] == 0 {
			if errs.Load() > 0 {
				return 0, fmt.Errorf("%d submits failed", errs.Load())
			}
			return after.ByState["succeeded"] - before.ByState["succeeded"], nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("end-to-end with the archive: jobs still queued or running after %v (last error: %v)", b.d.e2eTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCaughtUp waits until the leader's archive lags by no job.
func waitCaughtUp(ctx context.Context, leader *client.Client) (*api.ArchiveStatus, error) {
	deadline := time.Now().Add(catchUpLimit)
	for {
		cl, err := leader.Cluster(ctx)
		if err == nil && cl.Archive != nil && cl.Archive.Error == "" && cl.Archive.LagJobs == 0 {
			return cl.Archive, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("the archive did not catch up within %v: %+v, %v", catchUpLimit, cl, err)
		}
		time.Sleep(lagSampleEvery)
	}
}

// procLeader returns the client of the node that leads.
func procLeader(ctx context.Context, c *procCluster) (*client.Client, error) {
	cl, err := c.clients[0].Cluster(ctx, client.Consistent())
	if err != nil || cl.Leader == nil {
		return nil, fmt.Errorf("find the leader: %+v, %v", cl.Leader, err)
	}
	for _, n := range c.nodes {
		if n.name == cl.Leader.Name {
			return n.client, nil
		}
	}
	return nil, fmt.Errorf("leader %q is none of the bench's nodes", cl.Leader.Name)
}

// benchDatabase creates a database with a random name on the Postgres at
// admin and returns its URL and the function that drops it.
func benchDatabase(ctx context.Context, admin string) (string, func(), error) {
	dbURL, drop, err := archivetest.Create(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("-archive: %w", err)
	}
	return dbURL, func() {
		if err := drop(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		}
	}, nil
}

// countArchived counts the jobs in the archive.
func countArchived(ctx context.Context, dbURL string) (int, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("read the archive: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count archived jobs: %w", err)
	}
	return n, nil
}

// redactURL drops the password from a URL for printing.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
