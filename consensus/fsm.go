package consensus

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// applyResult is what the FSM hands back through raft's ApplyFuture. It
// is a pointer so that the caller can let go of the value (take): Raft's
// log cache keeps pointers into the leader's recent futures, and with them
// their responses, for its last 1024 entries. Holding every submitted
// job's copy there cost about 560 bytes a queued job (heap profile, a
// million queued).
type applyResult struct {
	value any
	err   error
}

// take returns the result and drops the value.
func (r *applyResult) take() (any, error) {
	v := r.value
	r.value = nil
	return v, r.err
}

// fsm is the Raft state machine. Apply runs on Raft's FSM goroutine;
// readers take mu for reading.
type fsm struct {
	handlers handlers
	log      *slog.Logger

	mu      sync.RWMutex
	state   *state
	applied uint64
	entries entryCounts
	// formats is each registered server's log format, published after
	// every registration and restore, so that the leader's compression
	// gate (Store.serversRead) reads it without waiting for an apply.
	formats atomic.Pointer[map[string]int]
	// appliedCh is closed and replaced after every apply so that readers
	// can wait for an index without polling.
	appliedCh chan struct{}
	// schedulesChanged gets a token (never blocking, buffer 1) after an
	// entry that creates, enables, disables or deletes a schedule, or a
	// restore: the leader's cron timer re-arms for the new timetable. It
	// is a signal beside the state, not part of it.
	schedulesChanged chan struct{}
	observers        observers
	// changes is the Changes of the last Applied, reused for the next
	// (see Observer.Applied).
	changes []Change
	// replay bounds the entries that were in the log when this process
	// opened it (set before Raft starts): no one here waits for their
	// results.
	replay replayBound
	// raft is the node's Raft, once it runs (nil before): its state says
	// whether anyone here waits for the results of an entry.
	raft atomic.Pointer[raft.Raft]
	// predecoded holds the commands the leader decoded to check them, for
	// their apply here.
	predecoded predecoded
}

// replayBound is the last state entry in the log at open. An entry at or
// below its index and term was written before this process started; an
// entry this process appends as leader has a later term, even at an
// index a new leader's log cut back to below the bound.
type replayBound struct{ index, term uint64 }

func (b replayBound) covers(l *raft.Log) bool { return l.Index <= b.index && l.Term <= b.term }

func newFSM() *fsm {
	return &fsm{handlers: registry(), log: slog.New(slog.DiscardHandler), state: newState(), appliedCh: make(chan struct{}), schedulesChanged: make(chan struct{}, 1)}
}

var _ raft.BatchingFSM = (*fsm)(nil)

// Apply applies one log entry.
func (f *fsm) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies consecutive entries under one lock acquisition.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	obs := f.observers.snapshot()
	following := f.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := false
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			f.state.pending = f.state.pending[:0] // only this entry's changes
			c := applyContext{index: l.Index, replay: f.replay.covers(l), following: following, decoded: f.predecoded.take(l.Data)}
			data, err := expandEntry(l.Data)
			if err != nil {
				out[i] = f.skip(c, err)
				f.applied = l.Index
				continue
			}
			f.entries.add(data)
			out[i] = f.applyCommand(c, data)
			if len(data) > 0 && commandType(data[0]) == cmdRegisterNode {
				f.noteFormats()
			}
			changed = changed || changesTimetable(data)
			f.tell(obs, l.Index, data)
		}
		f.applied = l.Index
	}
	close(f.appliedCh)
	f.appliedCh = make(chan struct{})
	if changed {
		f.signalSchedules()
	}
	return out
}

// noteFormats publishes the registered servers' log formats. The caller
// holds mu.
func (f *fsm) noteFormats() {
	m := make(map[string]int, len(f.state.nodes))
	for name, n := range f.state.nodes {
		m[name] = n.LogFormat
	}
	f.formats.Store(&m)
}

// following reports whether this node's Raft runs and does not lead.
func (f *fsm) following() bool {
	r := f.raft.Load()
	return r != nil && r.State() != raft.Leader
}

// changesTimetable reports whether an entry may change when schedules fire next.
func changesTimetable(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	switch commandType(data[0]) {
	case cmdPutSchedule, cmdEnableSchedule, cmdDeleteSchedule, cmdDeleteWorkflow:
		return true
	}
	return false
}

// signalSchedules tells the cron timer, if it waits, to look again.
func (f *fsm) signalSchedules() {
	select {
	case f.schedulesChanged <- struct{}{}:
	default: // a signal is pending already
	}
}

// applyCommand applies one entry. An entry that cannot be applied is
// skipped, never a panic: a panic here would recur on every replica and
// at every restart, and stop the whole cluster for good. The leader
// refuses such entries before Raft (handlers.check), so one only gets
// here from a node of another build or a bug; each replica decides from
// the same bytes, so all skip it alike, and the caller gets an error.
func (f *fsm) applyCommand(c applyContext, data []byte) *applyResult {
	v, err, skipped := f.handlers.apply(f.state, c, data)
	if skipped != nil {
		return f.skip(c, skipped)
	}
	return &applyResult{value: v, err: err}
}

// skip answers an entry that cannot be applied, as every replica does.
func (f *fsm) skip(c applyContext, why error) *applyResult {
	f.log.Error("skipped a Raft entry that cannot be applied", "index", c.index, "err", why)
	return &applyResult{err: errorf(CodeInvalid, "raft entry %d skipped: %v", c.index, why)}
}

// tell hands the changes of the entry just applied to the observers.
// With none, the changes are dropped so that they never pile up.
func (f *fsm) tell(obs []Observer, index uint64, data []byte) {
	if len(obs) == 0 {
		f.state.pending = f.state.pending[:0]
		return
	}
	_, now, _, _ := splitCommand(data) // applyCommand has already checked it
	f.changes = f.state.takeChanges(now, f.changes)
	a := Applied{Index: index, Changes: f.changes, Counts: f.state.counts}
	for _, o := range obs {
		o.Applied(a)
	}
	clear(f.changes) // let go of the jobs' strings and status maps
}

// read runs fn with the state locked for reading and returns the applied
// index the read saw.
func (f *fsm) read(fn func(s *state)) uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
	return f.applied
}

// appliedIndex returns the last applied index and a channel closed at the
// next apply.
func (f *fsm) appliedIndex() (uint64, <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.applied, f.appliedCh
}

// snapshotData is the serialised form of the state. Derived indexes are
// rebuilt on restore, so they can never disagree with the data. Its parts
// are embedded so that they encode as one flat object, field for field
// as before they were split: the snapshot writer streams the jobs between
// a head and a tail it encodes apart (snapshot.go).
type snapshotData struct {
	snapshotHead
	Jobs []*Job `json:"jobs"`
	snapshotTail
}

// snapshotHead is what a snapshot holds before its jobs.
type snapshotHead struct {
	Version int `json:"version"`
	// Applied is the last index the state includes; reads and read
	// indexes report it until the next entry is applied.
	Applied   uint64      `json:"applied"`
	Workflows []*Workflow `json:"workflows"`
}

// snapshotTail is what a snapshot holds after its jobs.
type snapshotTail struct {
	Nodes   map[string]NodeInfo `json:"nodes"`
	NextSeq uint64              `json:"next_seq"`
	// QueuePaused and LastClaims are state, not derivable from jobs.
	QueuePaused bool                    `json:"queue_paused,omitempty"`
	LastClaims  map[string]lastClaim    `json:"last_claims,omitempty"`
	Tokens      map[string]*RobotToken  `json:"tokens,omitempty"`
	Robots      map[string]*RobotRecord `json:"robots,omitempty"`
	Schedules   map[string]*Schedule    `json:"schedules,omitempty"`
	Deletions   map[string]Deletion     `json:"deletions,omitempty"`
	Drained     map[string]bool         `json:"drained,omitempty"`
	// Secrets hold sealed values only; the vault key is never here.
	Secrets    map[string]*Secret   `json:"secrets,omitempty"`
	VaultKeyID string               `json:"vault_key_id,omitempty"`
	APITokens  map[string]*APIToken `json:"api_tokens,omitempty"`
	// ArchivesLogs: jobs keep log lines until the archive holds them.
	ArchivesLogs bool `json:"archives_logs,omitempty"`
	// RestoreID names the last operator restore this state came from.
	RestoreID string `json:"restore_id,omitempty"`
	// RestoreRequest names the request that restore answered, if it
	// named itself (Backup.RestoreRequest).
	RestoreRequest string `json:"restore_request,omitempty"`
}

const snapshotVersion = 1

// snapshot returns the whole state as one value, sharing its jobs and
// maps: the caller encodes it under the FSM's lock (tests, and the
// reference the streamed encoding is checked against).
func (s *state) snapshot() snapshotData {
	d := snapshotData{snapshotHead: snapshotHead{Version: snapshotVersion, Workflows: s.sortedWorkflows()}, snapshotTail: s.snapshotTail()}
	s.bySeq.Ascend(func(j *Job) bool {
		d.Jobs = append(d.Jobs, j)
		return true
	})
	return d
}

// sortedWorkflows returns the workflows by name (nil when there are none,
// as snapshots have always encoded it).
func (s *state) sortedWorkflows() []*Workflow {
	var wfs []*Workflow
	for _, wf := range s.workflows {
		wfs = append(wfs, wf)
	}
	sortWorkflows(wfs)
	return wfs
}

func (s *state) snapshotTail() snapshotTail {
	return snapshotTail{
		Nodes: s.nodes, NextSeq: s.nextSeq,
		QueuePaused: s.queuePaused, LastClaims: s.lastClaims,
		Tokens: s.tokens, Robots: s.robots, Schedules: s.schedules, Deletions: s.deletions,
		Drained: s.drained,
		Secrets: s.secrets, VaultKeyID: s.vaultKeyID,
		APITokens: s.apiTokens, ArchivesLogs: s.archivesLogs, RestoreID: s.restoreID,
		RestoreRequest: s.restoreRequest,
	}
}

func restoreState(d snapshotData) (*state, error) {
	if d.Version != snapshotVersion {
		return nil, fmt.Errorf("snapshot version %d is not %d (upgrade this node)", d.Version, snapshotVersion)
	}
	s := newState()
	for _, wf := range d.Workflows {
		s.workflows[wf.ID] = wf
		s.byName[wf.Name] = wf.ID
	}
	for _, j := range d.Jobs {
		s.insertJob(j)
	}
	if d.Nodes != nil {
		s.nodes = d.Nodes
	}
	s.nextSeq = d.NextSeq
	s.queuePaused = d.QueuePaused
	if d.LastClaims != nil {
		s.lastClaims = d.LastClaims
	}
	if d.Tokens != nil {
		s.tokens = d.Tokens
	}
	if d.Robots != nil {
		s.robots = d.Robots
	}
	if d.Deletions != nil {
		s.deletions = d.Deletions
	}
	if d.APITokens != nil {
		s.apiTokens = d.APITokens
	}
	if d.Schedules != nil {
		s.schedules = d.Schedules
	}
	if d.Drained != nil {
		s.drained = d.Drained
	}
	if d.Secrets != nil {
		s.secrets = d.Secrets
	}
	s.vaultKeyID = d.VaultKeyID
	s.archivesLogs = d.ArchivesLogs
	s.restoreID, s.restoreRequest = d.RestoreID, d.RestoreRequest
	return s, nil
}

// Restore replaces the state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var d snapshotData
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	s, err := restoreState(d)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.state = s
	f.noteFormats()
	// An operator's restore (Store.Restore) hands in a state read at
	// another cluster's index, lower than this one's: the applied index
	// never goes back, or reads would take an older index for a newer one.
	f.applied = max(f.applied, d.Applied)
	close(f.appliedCh)
	f.appliedCh = make(chan struct{})
	// Observers see the restore under the lock, as they see entries
	// (ApplyBatch), so no entry's changes reach them before it.
	for _, o := range f.observers.snapshot() {
		o.Restored(f.applied, s.counts)
	}
	f.mu.Unlock()
	f.signalSchedules()
	return nil
}
