package consensus

import (
	"sync"
	"time"
)

// Observers see what every applied entry changed, on every replica, so
// that any node can serve a live event stream without polling its state.
// The hook only observes: handlers append changes to a list that nothing
// in the state reads, so the FSM stays deterministic whether or not
// anyone is watching.

// ChangeKind says what a Change describes.
type ChangeKind string

// Change kinds.
const (
	// ChangeJob is a job entering a state (a new job enters "queued").
	ChangeJob ChangeKind = "job"
	// ChangeProgress is a running job's per-node status moving on.
	ChangeProgress ChangeKind = "progress"
	// ChangeFire is a schedule firing a job or skipping a fire.
	ChangeFire ChangeKind = "schedule_fire"
	// ChangeRobot is an internet robot connecting or leaving a node.
	ChangeRobot ChangeKind = "robot"
	// ChangeDrain is a robot being drained or undrained.
	ChangeDrain ChangeKind = "drain"
)

// Change is one thing an applied entry changed. Only the fields of its
// Kind are set. Times are the leader's stamps, the same on every replica.
type Change struct {
	Kind       ChangeKind
	Time       time.Time
	JobID      string
	WorkflowID string
	// WorkflowName is the job's workflow's name, for labels and pages.
	WorkflowName string
	ScheduleID   string
	RobotID      string
	// From and To are a job's states around a ChangeJob ("" From for a
	// new job).
	From, To JobState
	Attempt  int
	Error    string
	// EligibleAt is when a job that started running became claimable
	// (created or its not_before, whichever is later); StartedAt and
	// FinishedAt are its current attempt's start and its end.
	EligibleAt, StartedAt, FinishedAt time.Time
	// NodeStatus is the per-node status a ChangeProgress reported.
	NodeStatus map[string]string
	// FireTime and Skipped describe a ChangeFire (Skipped is the reason a
	// fire made no job); Manual marks a trigger-now.
	FireTime time.Time
	Skipped  string
	Manual   bool
	// Connected, Node and Drained describe ChangeRobot and ChangeDrain.
	Connected bool
	Node      string
	Drained   bool
}

// JobCounts is how many jobs are in each state.
type JobCounts struct {
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Dead      int `json:"dead"`
}

// byState returns the counts that are not zero, by state.
func (c JobCounts) byState() map[JobState]int {
	m := map[JobState]int{}
	for st, n := range map[JobState]int{
		JobQueued: c.Queued, JobRunning: c.Running, JobSucceeded: c.Succeeded,
		JobFailed: c.Failed, JobCancelled: c.Cancelled, JobDead: c.Dead,
	} {
		if n != 0 {
			m[st] = n
		}
	}
	return m
}

// add moves n jobs into (n > 0) or out of (n < 0) state st.
func (c *JobCounts) add(st JobState, n int) {
	switch st {
	case JobQueued:
		c.Queued += n
	case JobRunning:
		c.Running += n
	case JobSucceeded:
		c.Succeeded += n
	case JobFailed:
		c.Failed += n
	case JobCancelled:
		c.Cancelled += n
	case JobDead:
		c.Dead += n
	}
}

// Applied is what one applied entry changed.
type Applied struct {
	Index   uint64
	Changes []Change
	// Counts are the job counts after the entry.
	Counts JobCounts
}

// Observer is told about every applied entry. Both methods run on
// Raft's apply goroutine with the state locked: they must return at once
// and never block (hand the data to another goroutine without waiting).
type Observer interface {
	// Applied reports an entry that changed something. The Changes slice
	// is the FSM's again once the call returns (it is reused for the next
	// entry): an observer copies what it keeps.
	Applied(a Applied)
	// Restored reports that the state was replaced by a snapshot taken
	// at index: what happened between the last Applied and index is
	// unknown to observers.
	Restored(index uint64, counts JobCounts)
}

// observers is the FSM's list of observers. Registration is rare and
// apply is hot, so apply reads a copy-on-write slice.
type observers struct {
	mu   sync.Mutex
	list []Observer
}

func (o *observers) add(obs Observer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(append([]Observer(nil), o.list...), obs)
}

func (o *observers) snapshot() []Observer {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.list
}

// Observe registers o to be told about every entry applied from now on.
// It returns the applied index at registration: entries at or below it
// were applied before o was watching.
func (s JobQueue) Observe(o Observer) uint64 {
	s.fsm.observers.add(o)
	return s.AppliedIndex()
}

// pendingChange is a change noted during an entry. A job change keeps
// the job and is read out when the entry is done, so that it carries the
// attempt, robot and times the entry left, whatever order the handler
// set them in.
type pendingChange struct {
	job      *Job
	from, to JobState
	c        Change
}

// note records one change. It never affects the state.
func (s *state) note(c Change) { s.pending = append(s.pending, pendingChange{c: c}) }

// noteJob records that j moves from one state to another.
func (s *state) noteJob(j *Job, from, to JobState) {
	s.pending = append(s.pending, pendingChange{job: j, from: from, to: to})
}

// noteProgress records a running job's reported node status, a map
// that neither the state nor anything else changes from now on.
func (s *state) noteProgress(j *Job, status map[string]string) {
	s.pending = append(s.pending, pendingChange{job: j, c: Change{Kind: ChangeProgress, NodeStatus: status}})
}

// takeChanges appends to out what the entry applied at `now` changed,
// and starts a new list. The FSM hands in the slice of the entry before,
// so that observing costs no allocation per entry: under batched submits
// a new slice of a hundred changes an entry was 7% of every node's
// allocations (bench/queue -cpuprofile, allocs).
func (s *state) takeChanges(now time.Time, out []Change) []Change {
	out = out[:0]
	if len(s.pending) == 0 {
		return out
	}
	var wf *Workflow // an entry's jobs mostly share one
	var none JobRun  // a queued job's; read through a pointer, not copied a change
	for _, p := range s.pending {
		c := p.c
		if j := p.job; j != nil {
			run := j.JobRun
			if run == nil {
				run = &none
			}
			if c.Kind == "" {
				c.Kind, c.From, c.To, c.Error = ChangeJob, p.from, p.to, run.Error
				c.EligibleAt, c.StartedAt, c.FinishedAt = later(j.CreatedAt, j.NotBefore), run.StartedAt, run.FinishedAt
			}
			c.JobID, c.WorkflowID, c.ScheduleID, c.RobotID, c.Attempt = j.ID, j.WorkflowID, j.ScheduleID, run.RobotID, j.Attempt
			if wf = s.workflowOf(wf, j.WorkflowID); wf != nil {
				c.WorkflowName = wf.Name
			}
		}
		c.Time = now
		out = append(out, c)
	}
	clear(s.pending)
	s.pending = s.pending[:0]
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// noteFires records a schedule's fires and skips.
func (s *state) noteFires(sc *Schedule, fires []Fire) {
	for _, f := range fires {
		s.note(Change{
			Kind: ChangeFire, ScheduleID: sc.ID, WorkflowID: sc.WorkflowID, JobID: f.JobID,
			FireTime: f.FireTime, Skipped: f.Skipped, Manual: f.Manual,
		})
	}
}

// StateCounts returns how many jobs are in each state, without a walk over
// the jobs, and the applied index it reflects.
func (s JobQueue) StateCounts() (JobCounts, uint64) {
	var c JobCounts
	index := s.fsm.read(func(st *state) { c = st.counts })
	return c, index
}
