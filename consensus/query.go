package consensus

import (
	"slices"
	"strings"
	"time"
)

// Reads are served from this node's FSM. Every read returns the applied
// Raft index it saw, so clients can tell how fresh the answer is.

func sortWorkflows(wfs []*Workflow) {
	slices.SortFunc(wfs, func(a, b *Workflow) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// cloneJob copies j deeply enough that later applies cannot race with a
// reader of the copy.
func cloneJob(j *Job) Job {
	c := *j
	c.RobotTags = slices.Clone(j.RobotTags)
	c.JobRun = j.JobRun.clone()
	return c
}

func cloneWorkflow(wf *Workflow) Workflow {
	c := *wf
	c.Tags = slices.Clone(wf.Tags)
	c.Versions = slices.Clone(wf.Versions)
	return c
}

// Workflow returns the workflow with the given id.
func (s Catalog) Workflow(id string) (wf Workflow, found bool, index uint64) {
	index = s.fsm.read(func(st *state) {
		if w := st.workflows[id]; w != nil {
			wf, found = cloneWorkflow(w), true
		}
	})
	return wf, found, index
}

// Workflows returns every workflow, sorted by name.
func (s Catalog) Workflows() (wfs []Workflow, index uint64) {
	index = s.fsm.read(func(st *state) {
		ptrs := make([]*Workflow, 0, len(st.workflows))
		for _, w := range st.workflows {
			ptrs = append(ptrs, w)
		}
		sortWorkflows(ptrs)
		wfs = make([]Workflow, len(ptrs))
		for i, w := range ptrs {
			wfs[i] = cloneWorkflow(w)
		}
	})
	return wfs, index
}

// Job returns the job with the given id.
func (s JobQueue) Job(id string) (job Job, found bool, index uint64) {
	index = s.fsm.read(func(st *state) {
		if j := st.jobs[id]; j != nil {
			job, found = cloneJob(j), true
		}
	})
	return job, found, index
}

// MaxListLimit caps one page of a listing.
const MaxListLimit = 1000

// Jobs lists jobs matching f, newest first. next is 0 on the last page.
// A page may hold fewer than f.Limit jobs, even none, while next is not
// 0: a selective filter stops after jobScanBudget jobs so that no request
// holds the state for long; the next page goes on from there.
func (s JobQueue) Jobs(f JobFilter) (jobs []Job, next uint64, index uint64) {
	limit := f.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	index = s.fsm.read(func(st *state) {
		if f.State == JobRunning {
			jobs, next = st.runningPage(f, limit)
			return
		}
		scanned := 0
		visit := func(j *Job) bool {
			if scanned++; scanned > jobScanBudget {
				next = j.Seq + 1
				return false
			}
			if !f.matches(j) {
				return true
			}
			if len(jobs) == limit {
				next = jobs[len(jobs)-1].Seq
				return false
			}
			jobs = append(jobs, cloneJob(j))
			return true
		}
		if f.Cursor == 0 {
			st.bySeq.Descend(visit)
		} else {
			st.bySeq.DescendLessOrEqual(&Job{Seq: f.Cursor - 1}, visit)
		}
	})
	return jobs, next, index
}

// JobCounts returns how many jobs are in each state.
func (s JobQueue) JobCounts() (counts map[JobState]int, index uint64) {
	var c JobCounts
	index = s.fsm.read(func(st *state) { c = st.counts })
	return c.byState(), index
}

// Nodes returns the registered server addresses, sorted by name.
func (s Membership) Nodes() []NodeInfo {
	var out []NodeInfo
	s.fsm.read(func(st *state) {
		for _, n := range st.nodes {
			out = append(out, n)
		}
	})
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s Membership) node(name string) (NodeInfo, bool) {
	var n NodeInfo
	var ok bool
	s.fsm.read(func(st *state) { n, ok = st.nodes[name] })
	return n, ok
}

// HasClaimable reports whether a claim by this robot would get a job now.
// Robots check it against their local replica before asking the leader,
// so idle robots do not flood the log with empty claims.
func (s RobotQueue) HasClaimable(cmd ClaimCmd, now time.Time) bool {
	found := false
	s.fsm.read(func(st *state) {
		if st.drained[cmd.RobotID] {
			return
		}
		st.queue.Ascend(func(j *Job) bool {
			found = st.eligible(j, &cmd, now, nil)
			return !found
		})
	})
	return found
}

// ClaimableUpTo counts, up to limit, the jobs that claims by robots of
// cmd's kind and tags could take at now, whichever robots they are: a
// job pinned to a robot counts, as do the jobs a robot is told to avoid.
// It is an upper bound for any one robot (HasClaimable decides for one),
// so a gateway can wake no more waiting robots than there is work for.
func (s RobotQueue) ClaimableUpTo(cmd ClaimCmd, now time.Time, limit int) int {
	n := 0
	if limit <= 0 {
		return 0
	}
	s.fsm.read(func(st *state) {
		picked := map[string]int{}
		st.queue.Ascend(func(j *Job) bool {
			c := cmd
			// Any robot: the one the job is pinned to, else one that is
			// not the robot it avoids (no robot has the id "\x00").
			c.RobotID = j.PinnedRobot
			if c.RobotID == "" {
				c.RobotID = "\x00"
			}
			if st.eligible(j, &c, now, picked) {
				n++
				picked[j.WorkflowID]++
			}
			return n < limit
		})
	})
	return n
}

// QueuePaused reports whether the whole queue is paused, without the
// walk over every job that QueueStats makes.
func (s JobQueue) QueuePaused() bool {
	var paused bool
	s.fsm.read(func(st *state) { paused = st.queuePaused })
	return paused
}

// AppliedChanged returns the applied index and a channel closed when the
// next entry is applied.
func (s Replica) AppliedChanged() (uint64, <-chan struct{}) { return s.fsm.appliedIndex() }

// Holding is what one robot holds: its running jobs, and the oldest of
// their last heartbeats.
type Holding struct {
	Jobs []string
	// StalestRenewal is the earliest RenewedAt among the robot's leases:
	// how long ago the robot last vouched for all of its jobs.
	StalestRenewal time.Time
	// NewestRenewal is the latest RenewedAt among them: the robot's last
	// heartbeat the leader accepted.
	NewestRenewal time.Time
}

// RunningJobs returns the running jobs, by robot id.
func (s JobQueue) RunningJobs() map[string]Holding {
	out := map[string]Holding{}
	s.fsm.read(func(st *state) {
		for _, j := range st.running {
			if j.Lease == nil {
				continue
			}
			h := out[j.Lease.RobotID]
			h.Jobs = append(h.Jobs, j.ID)
			if h.StalestRenewal.IsZero() || j.Lease.RenewedAt.Before(h.StalestRenewal) {
				h.StalestRenewal = j.Lease.RenewedAt
			}
			if j.Lease.RenewedAt.After(h.NewestRenewal) {
				h.NewestRenewal = j.Lease.RenewedAt
			}
			out[j.Lease.RobotID] = h
		}
	})
	for _, h := range out {
		slices.Sort(h.Jobs)
	}
	return out
}

// QueueStats summarises the queue.
type QueueStats struct {
	Paused          bool             `json:"paused"`
	ByState         map[JobState]int `json:"by_state"`
	QueuedByPrio    map[int]int      `json:"queued_by_priority"`
	OldestQueued    time.Time        `json:"oldest_queued_at,omitzero"`
	FinishedLastMin int              `json:"finished_last_minute"`
	PausedWorkflows []string         `json:"paused_workflows,omitempty"`
	AppliedIndex    uint64           `json:"applied_index"`
}

// QueueStats returns queue counts as of now.
func (s JobQueue) QueueStats(now time.Time) QueueStats {
	q := QueueStats{ByState: map[JobState]int{}, QueuedByPrio: map[int]int{}}
	q.AppliedIndex = s.fsm.read(func(st *state) {
		// Counters kept on apply and index walks, not a scan of every
		// job: the oldest queued job of each priority is the first of its
		// run in the queue index.
		q.Paused = st.queuePaused
		q.ByState = st.counts.byState()
		for prio, n := range st.queuedByPrio {
			q.QueuedByPrio[prio] = n
			st.queue.AscendGreaterOrEqual(&Job{Priority: prio}, func(j *Job) bool {
				if q.OldestQueued.IsZero() || j.CreatedAt.Before(q.OldestQueued) {
					q.OldestQueued = j.CreatedAt
				}
				return false
			})
		}
		q.FinishedLastMin = st.finishes.lastMinute(now)
		for _, wf := range st.workflows {
			if wf.Settings.Paused {
				q.PausedWorkflows = append(q.PausedWorkflows, wf.ID)
			}
		}
	})
	slices.Sort(q.PausedWorkflows)
	return q
}
