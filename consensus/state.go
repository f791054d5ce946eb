package consensus

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/btree"
)

// state is the replicated data. Only Apply (through the handlers) mutates
// it; readers hold the FSM's read lock.
type state struct {
	workflows map[string]*Workflow
	byName    map[string]string // workflow name → id
	jobs      map[string]*Job
	bySeq     *btree.BTreeG[*Job] // every job, in submission order
	queue     *btree.BTreeG[*Job] // queued jobs, claim order
	finished  *btree.BTreeG[*Job] // finished jobs, by FinishedIndex then id
	unique    map[string]string   // unique_key → job id
	nodes     map[string]NodeInfo
	nextSeq   uint64

	running      map[string]*Job // running jobs by id
	runningPerWF map[string]int  // running jobs per workflow id
	queuedByPrio map[int]int     // queued jobs per priority, for QueueStats
	queuePaused  bool
	lastClaims   map[string]lastClaim // by robot id, for retried claims
	tokens       map[string]*RobotToken
	apiTokens    map[string]*APIToken // API tokens, sessions and sign-in codes
	robots       map[string]*RobotRecord
	schedules    map[string]*Schedule
	// deletions maps "workflow/ID" and "schedule/ID" to the request that
	// deleted it, so that a delete retried after a leader change answers
	// success rather than not_found.
	deletions map[string]Deletion
	// drained holds the robots an admin drained: they keep what they run
	// and claim nothing more.
	drained map[string]bool

	// counts and finishes are derived from jobs (rebuilt by insertJob on
	// restore).
	counts   JobCounts
	finishes finishCounts
	// pending is what the current entry changed, for observers only:
	// nothing in the state reads it (see observe.go).
	pending []pendingChange
	// secrets is the vault: sealed values by name; vaultKeyID is the key
	// new values must be sealed under (empty before the first secret).
	secrets    map[string]*Secret
	vaultKeyID string
	// archivesLogs is set once an archiver has reported (archive_logs.go):
	// from then on jobs keep their lines until the archive holds them.
	archivesLogs bool
	// restoreID is chosen by each operator restore (Store.Restore), so
	// that what counts Raft indexes from outside the state (the archive's
	// position) sees that the indexes of its jobs are another cluster's.
	restoreID string
	// restoreRequest is the request that restore answered (see
	// Store.Restore), so that the same request sent again is not restored
	// twice; unlike restoreID, a client chooses it.
	restoreRequest string

	// gen counts the snapshot views taken of this state and views the
	// ones still being written (snapshot.go): while one is, a job older
	// than gen is shared with it and is copied before it changes.
	gen   uint64
	views int
}

// Deletion records which request deleted a resource, and when.
type Deletion struct {
	RequestID string    `json:"request_id"`
	At        time.Time `json:"at"`
}

// deletionMemory is how long a deletion is remembered: far longer than
// any apply retries (DefaultApplyTimeout), short enough that the records
// of a busy create-and-delete automation stay few.
const deletionMemory = time.Hour

func newState() *state {
	return &state{
		workflows:    map[string]*Workflow{},
		byName:       map[string]string{},
		jobs:         map[string]*Job{},
		bySeq:        btree.NewG(32, func(a, b *Job) bool { return a.Seq < b.Seq }),
		queue:        btree.NewG(32, claimOrder),
		finished:     btree.NewG(32, finishOrder),
		unique:       map[string]string{},
		nodes:        map[string]NodeInfo{},
		running:      map[string]*Job{},
		runningPerWF: map[string]int{},
		queuedByPrio: map[int]int{},
		lastClaims:   map[string]lastClaim{},
		tokens:       map[string]*RobotToken{},
		apiTokens:    map[string]*APIToken{},
		robots:       map[string]*RobotRecord{},
		schedules:    map[string]*Schedule{},
		deletions:    map[string]Deletion{},
		drained:      map[string]bool{},
		secrets:      map[string]*Secret{},
	}
}

// deletedBy reports whether requestID is the delete that removed the
// resource key names: a retry of a delete that already committed.
func (s *state) deletedBy(key, requestID string) bool {
	return requestID != "" && s.deletions[key].RequestID == requestID
}

// recordDeletion remembers which request removed the resource key names,
// and forgets deletions older than deletionMemory.
func (s *state) recordDeletion(c applyContext, key, requestID string) {
	maps.DeleteFunc(s.deletions, func(_ string, d Deletion) bool { return c.now.Sub(d.At) > deletionMemory })
	if requestID != "" {
		s.deletions[key] = Deletion{RequestID: requestID, At: c.now}
	}
}

// claimOrder sorts queued jobs: higher priority first, FIFO within one.
func claimOrder(a, b *Job) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.Seq < b.Seq
}

// finishOrder sorts finished jobs as the archive reads them: by the Raft
// index that finished them, then by id within one entry.
func finishOrder(a, b *Job) bool {
	if a.FinishedIndex != b.FinishedIndex {
		return a.FinishedIndex < b.FinishedIndex
	}
	return a.ID < b.ID
}

// insertJob adds a job read from a snapshot and its index entries.
func (s *state) insertJob(j *Job) {
	s.shareStrings(j)
	s.indexJob(j)
}

// indexJob adds a new job and its index entries.
func (s *state) indexJob(j *Job) {
	if j.State != JobQueued {
		j.run() // apply code reads a running or finished job's JobRun without a check
	}
	s.shareMode(j)
	j.gen = s.gen
	s.jobs[j.ID] = j
	s.bySeq.ReplaceOrInsert(j)
	s.counts.add(j.State, 1)
	if j.UniqueKey != "" {
		s.unique[j.UniqueKey] = j.ID
	}
	switch j.State {
	case JobQueued:
		s.enqueue(j)
	case JobRunning:
		s.running[j.ID] = j
		s.runningPerWF[j.WorkflowID]++
	}
	if j.State.Terminal() {
		s.finished.ReplaceOrInsert(j)
		s.finishes.add(j.FinishedAt)
	}
}

// shareStrings points the strings a job repeats from others at one copy:
// decoded from an entry or a snapshot, each job would hold its own copy
// of its workflow's id, its mode and its state (about 64 bytes a job, a
// million queued).
func (s *state) shareStrings(j *Job) {
	if wf := s.workflows[j.WorkflowID]; wf != nil {
		j.WorkflowID = wf.ID
	}
	for _, st := range [...]JobState{JobQueued, JobRunning, JobSucceeded, JobFailed, JobCancelled, JobDead} {
		if j.State == st {
			j.State = st
		}
	}
}

// shareMode points a job's execution mode at the constant: a spec
// json.Unmarshal read holds its own copy.
func (s *state) shareMode(j *Job) {
	for _, m := range [...]string{ModeLAN, ModeInternet, ModeAny} {
		if j.ExecutionMode == m {
			j.ExecutionMode = m
			return
		}
	}
}

// enqueue and dequeue keep the queue index and its counts per priority.
func (s *state) enqueue(j *Job) {
	s.queue.ReplaceOrInsert(j)
	s.queuedByPrio[j.Priority]++
}

func (s *state) dequeue(j *Job) {
	s.queue.Delete(j)
	if s.queuedByPrio[j.Priority]--; s.queuedByPrio[j.Priority] <= 0 {
		delete(s.queuedByPrio, j.Priority)
	}
}

// activeJobs returns a workflow's queued and running jobs in submission
// order: a walk over the queue and the running jobs, not the history.
func (s *state) activeJobs(workflowID string) []*Job {
	var active []*Job
	s.queue.Ascend(func(j *Job) bool {
		if j.WorkflowID == workflowID {
			active = append(active, j)
		}
		return true
	})
	for _, j := range s.running {
		if j.WorkflowID == workflowID {
			active = append(active, j)
		}
	}
	slices.SortFunc(active, func(a, b *Job) int { return cmp.Compare(a.Seq, b.Seq) })
	return active
}

// setJobState moves j to a new state, keeping the queue index in step.
// The queue index must be updated before fields it sorts by change.
func (s *state) setJobState(j *Job, to JobState, c applyContext) {
	was := j.State
	if to != JobQueued {
		j.run() // apply code reads a running or finished job's JobRun without a check
	}
	if j.State == JobQueued && to != JobQueued {
		s.dequeue(j)
	}
	if j.State != JobQueued && to == JobQueued {
		defer s.enqueue(j)
	}
	if j.State == JobRunning && to != JobRunning {
		endDebugAttempt(j)
		delete(s.running, j.ID)
		if s.runningPerWF[j.WorkflowID]--; s.runningPerWF[j.WorkflowID] <= 0 {
			delete(s.runningPerWF, j.WorkflowID)
		}
	}
	if j.State != JobRunning && to == JobRunning {
		s.running[j.ID] = j
		s.runningPerWF[j.WorkflowID]++
	}
	s.counts.add(j.State, -1)
	s.counts.add(to, 1)
	s.noteJob(j, j.State, to)
	j.State = to
	j.UpdatedAt = c.now
	if to.Terminal() {
		if was.Terminal() {
			// Re-keyed below. A job that was not finished is not in the
			// index (only a running job moves to queued), and a search
			// for it walked the tree for nothing, every finish on every
			// node.
			s.finished.Delete(j)
		} else {
			s.finishes.add(c.now)
		}
		j.FinishedAt = c.now
		j.Lease = nil
		j.FinishedIndex = c.index
		s.finished.ReplaceOrInsert(j)
	}
}

// JobSpec is what a client asks for when it queues a job.
type JobSpec struct {
	ID              string          `json:"id"`
	WorkflowID      string          `json:"workflow_id"`
	WorkflowVersion int             `json:"workflow_version,omitempty"` // 0 = latest
	Params          json.RawMessage `json:"params,omitempty"`
	SealedParams    *SealedParams   `json:"sealed_params,omitempty"`
	Priority        int             `json:"priority"`
	ExecutionMode   string          `json:"execution_mode"`
	RobotTags       []string        `json:"robot_tags,omitempty"`
	PinnedRobot     string          `json:"pinned_robot,omitempty"`
	MaxAttempts     int             `json:"max_attempts,omitempty"`
	Backoff         Duration        `json:"backoff,omitempty"`
	RerunOf         string          `json:"rerun_of,omitempty"`
	UniqueKey       string          `json:"unique_key,omitempty"`
	NotBefore       time.Time       `json:"not_before,omitzero"`
	Deadline        time.Time       `json:"deadline,omitzero"`
	ScheduleID      string          `json:"schedule_id,omitempty"`
	FireTime        time.Time       `json:"fire_time,omitzero"`
	Debug           *DebugOptions   `json:"debug,omitempty"`
}

// SubmitJobsCmd queues a batch of jobs atomically.
type SubmitJobsCmd struct {
	Jobs []JobSpec `json:"jobs"`
}

// DefaultMaxAttempts is used when a job does not say.
const DefaultMaxAttempts = 3

// checkSpec validates a spec against the state without changing it.
func (s *state) checkSpec(spec JobSpec) error {
	return s.checkSpecOf(s.workflows[spec.WorkflowID], &spec)
}

// checkSpecOf is checkSpec of a spec whose workflow is wf (nil: none).
func (s *state) checkSpecOf(wf *Workflow, spec *JobSpec) error {
	if wf == nil {
		return errorf(CodeNotFound, "workflow %s not found", spec.WorkflowID)
	}
	v := wf.Latest()
	if spec.WorkflowVersion != 0 {
		var ok bool
		if v, ok = wf.Version(spec.WorkflowVersion); !ok {
			return errorf(CodeNotFound, "workflow %s has no version %d", spec.WorkflowID, spec.WorkflowVersion)
		}
	}
	if err := s.checkSpecParams(spec, v.SecretVariables); err != nil {
		return err
	}
	return checkSpecFields(spec)
}

// checkSpecFields validates what a spec says on its own.
func checkSpecFields(spec *JobSpec) error {
	if spec.ID == "" {
		return errorf(CodeInvalid, "id is empty")
	}
	if spec.Priority < 0 || spec.Priority > 9 {
		return errorf(CodeInvalid, "priority %d is outside 0-9", spec.Priority)
	}
	if !ValidMode(spec.ExecutionMode) {
		return errorf(CodeInvalid, "execution_mode %q is not lan, internet or any", spec.ExecutionMode)
	}
	if spec.MaxAttempts < 0 {
		return errorf(CodeInvalid, "max_attempts %d is negative", spec.MaxAttempts)
	}
	if spec.Backoff < 0 {
		return errorf(CodeInvalid, "backoff %s is negative", time.Duration(spec.Backoff))
	}
	if spec.Debug != nil {
		return spec.Debug.Check()
	}
	return nil
}

func (s jobsApply) submitJobs(c applyContext, cmd *SubmitJobsCmd) ([]Job, error) {
	jobs, err := s.submitGroup(c, cmd.Jobs)
	if err != nil {
		return nil, err
	}
	if c.following {
		return nil, errFollowing()
	}
	return jobs, nil
}

// submitGroup queues specs atomically: all of them, or none and an error
// naming the first bad one. It answers a copy of each spec's job, except
// where no one reads it (replay, following).
func (s jobsApply) submitGroup(c applyContext, specs []JobSpec) ([]Job, *Error) {
	if c.replay || c.following {
		return nil, s.queueGroup(c, specs, func(*Job, bool) {})
	}
	out := make([]Job, 0, len(specs))
	err := s.queueGroup(c, specs, func(j *Job, _ bool) { out = append(out, cloneJob(j)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queueGroup queues specs atomically, or none and an error naming the
// first bad one, and hands each spec's job to each with whether the spec
// made it (false: the job had its id or unique key already). A group's
// specs mostly name one workflow: it is looked up once for a run of them
// (the check, the queueing and the job's shared id looked it up once
// each a spec).
func (s jobsApply) queueGroup(c applyContext, specs []JobSpec, each func(j *Job, made bool)) *Error {
	var wf *Workflow
	for i := range specs {
		wf = s.workflowOf(wf, specs[i].WorkflowID)
		if err := s.checkSpecOf(wf, &specs[i]); err != nil {
			return &Error{Code: ErrorCode(err), Message: fmt.Sprintf("job %d: %v", i, err)}
		}
	}
	for i := range specs {
		wf = s.workflowOf(wf, specs[i].WorkflowID)
		each(s.queueSpecOf(c, wf, &specs[i]))
	}
	return nil
}

// workflowOf returns the workflow id names: last, when it is that one.
func (s *state) workflowOf(last *Workflow, id string) *Workflow {
	if last != nil && last.ID == id {
		return last
	}
	return s.workflows[id]
}

// submitJob queues one checked spec, or returns the job that already has
// its id or unique key, so that a retried submit never queues twice.
func (s *state) submitJob(c applyContext, spec JobSpec) *Job {
	j, _ := s.queueSpecOf(c, s.workflows[spec.WorkflowID], &spec)
	return j
}

// queueSpecOf is submitJob of a spec of workflow wf, and reports whether
// the spec made the job.
func (s *state) queueSpecOf(c applyContext, wf *Workflow, spec *JobSpec) (*Job, bool) {
	if j := s.jobs[spec.ID]; j != nil {
		return j, false
	}
	if spec.UniqueKey != "" {
		if id, ok := s.unique[spec.UniqueKey]; ok {
			return s.jobs[id], false
		}
	}
	s.nextSeq++
	j := new(Job)
	newJob(j, spec, cmp.Or(spec.WorkflowVersion, wf.Latest().Version), s.nextSeq, c.now)
	j.WorkflowID = wf.ID // shared, as insertJob's shareStrings would
	s.indexJob(j)
	s.noteJob(j, "", JobQueued)
	return j, true
}

// CancelJobCmd cancels a job that has not finished.
type CancelJobCmd struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

func (s jobsApply) cancelJob(c applyContext, cmd *CancelJobCmd) (Job, error) {
	j := s.jobs[cmd.ID]
	if j == nil {
		return Job{}, errorf(CodeNotFound, "job %s not found", cmd.ID)
	}
	if j.State.Terminal() {
		if j.State == JobCancelled {
			return cloneJob(j), nil // a retried cancel
		}
		return Job{}, errorf(CodeConflict, "job %s already %s", cmd.ID, j.State)
	}
	return cloneJob(s.cancel(j, cmp.Or(cmd.Reason, "cancelled by user"), c)), nil
}

// cancel ends an unfinished job and returns it as it now is. A running
// job's attempt ends with it, so that no attempt shows "running" on a
// robot after its job stopped.
func (s *state) cancel(j *Job, reason string, c applyContext) *Job {
	j = s.mutableJob(j)
	if j.State == JobRunning {
		s.finishAttempt(j, string(JobCancelled), reason, c)
	}
	j.run().Error = reason
	s.setJobState(j, JobCancelled, c)
	return j
}

// RegisterNodeCmd records a server's addresses.
type RegisterNodeCmd struct {
	Node NodeInfo `json:"node"`
}

func (s accessApply) registerNode(_ applyContext, cmd *RegisterNodeCmd) (struct{}, error) {
	s.nodes[cmd.Node.Name] = cmd.Node
	return struct{}{}, nil
}
