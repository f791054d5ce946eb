//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// probeWorkflow's first node after start calls back into the benchmark,
// which notes the time: that is the moment the robot runs the job,
// taken on the same clock as the submit's acknowledgement.
const probeWorkflow = `{"name":"bench-probe","nodes":[
 {"id":"start","type":"start"},
 {"id":"mark","type":"http_request","config":{"url":"%s/started/{{ job_id }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"mark"},{"from":"mark","to":"end"}]}`

// startMarks records when each job's robot first reached the mark node.
type startMarks struct {
	mu  sync.Mutex
	at  map[string]time.Time
	srv *http.Server
	url string
}

func listenMarks() (*startMarks, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &startMarks{at: map[string]time.Time{}, url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /started/{id}", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		m.mu.Lock()
		if _, ok := m.at[r.PathValue("id")]; !ok {
			m.at[r.PathValue("id")] = now
		}
		m.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *startMarks) get(id string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.at[id]
	return t, ok
}

func (m *startMarks) close() error {
	err := m.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// latencyResult holds, per job, the gaps the claim path is made of.
type latencyResult struct {
	rate      int
	ackToRun  []time.Duration // submit's 2xx received → robot runs the job
	sendToRun []time.Duration // submit sent → robot runs the job
	stamps    []time.Duration // leader's stamp of the submit → of the claim
	submitRTT []time.Duration
	entries   float64 // Raft entries per job while measuring
	missing   int     // jobs that never reported a start in time
	errs      int
	firstErr  error
}

// claimLatency submits probe jobs one per POST at a fixed rate, well
// under the cluster's capacity, and measures how long each waits to run.
// The true commit falls between the leader's stamp of the submit and
// the client's 2xx, so ackToRun slightly understates commit → run and
// sendToRun overstates it.
func (b *bench) claimLatency(ctx context.Context, c *cluster, wfID string, marks *startMarks) (latencyResult, error) {
	lead := c.leader()
	var startIndex uint64
	if lead != nil {
		startIndex = lead.Store().AppliedIndex()
	}
	res, ids, err := b.measureLatency(ctx, func(w int) *client.Client { return b.client(c, w) }, wfID, marks)
	if lead == nil || len(res.ackToRun) == 0 {
		return res, err
	}
	for _, id := range ids {
		if job, found, _ := lead.Store().Job(id); found && !job.StartedAt.IsZero() {
			res.stamps = append(res.stamps, job.StartedAt.Sub(job.CreatedAt))
		}
	}
	slices.Sort(res.stamps)
	res.entries = float64(lead.Store().AppliedIndex()-startIndex) / float64(len(res.ackToRun))
	return res, err
}

// measureLatency paces probe submits over the nodes clients returns and
// matches them with the marks their robots left. It returns the ids of
// the jobs that started.
func (b *bench) measureLatency(ctx context.Context, clients func(worker int) *client.Client, wfID string, marks *startMarks) (latencyResult, []string, error) {
	res := latencyResult{rate: b.cfg.latencyRate}
	n := int(float64(b.cfg.latencyRate) * b.d.latency.Seconds())
	// A submit that hangs must not hold the run: the whole figure gets
	// its pacing time plus the 15 s start wait below and some slack.
	ctx, cancel := context.WithTimeout(ctx, b.d.latency+30*time.Second)
	defer cancel()
	type sample struct {
		id         string
		sent, ackd time.Time
	}
	samples := make([]sample, n)
	ticks := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Enough submitters that a slow submit does not hold back the next
	// tick at this rate.
	for w := range 16 {
		wg.Go(func() {
			for i := range ticks {
				sent := time.Now()
				job, err := clients(w).SubmitJob(ctx, api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"})
				if err != nil {
					mu.Lock()
					if res.errs++; res.firstErr == nil {
						res.firstErr = err
					}
					mu.Unlock()
					continue
				}
				samples[i] = sample{id: job.ID, sent: sent, ackd: time.Now()}
			}
		})
	}
	interval := time.Second / time.Duration(b.cfg.latencyRate)
	t := time.NewTicker(interval)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		ticks <- i
		<-t.C
	}
	t.Stop()
	close(ticks)
	wg.Wait()

	// Every probe job should have started long before this deadline.
	deadline := time.Now().Add(15 * time.Second)
	var ids []string
	for _, s := range samples {
		if s.id == "" {
			continue
		}
		var run time.Time
		var ok bool
		for {
			if run, ok = marks.get(s.id); ok || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if !ok {
			res.missing++
			continue
		}
		ids = append(ids, s.id)
		res.ackToRun = append(res.ackToRun, run.Sub(s.ackd))
		res.sendToRun = append(res.sendToRun, run.Sub(s.sent))
		res.submitRTT = append(res.submitRTT, s.ackd.Sub(s.sent))
	}
	for _, d := range [][]time.Duration{res.ackToRun, res.sendToRun, res.submitRTT} {
		slices.Sort(d)
	}
	if len(res.ackToRun) == 0 {
		return res, nil, fmt.Errorf("no probe job started (%d submit errors, first: %v)", res.errs, res.firstErr)
	}
	return res, ids, nil
}

func (r latencyResult) note(p float64) string {
	s := fmt.Sprintf("%d jobs at %d/s, %.1f Raft entries per job; sent→run %s; leader stamps submit→claim %s; submit RTT %s",
		len(r.ackToRun), r.rate, r.entries, fmtMS(percentile(r.sendToRun, p)), fmtMS(percentile(r.stamps, p)),
		fmtMS(percentile(r.submitRTT, p)))
	if r.missing > 0 || r.errs > 0 {
		s += fmt.Sprintf("; %d never started, %d submit errors", r.missing, r.errs)
	}
	return s
}
