package consensus

import (
	"context"
	"slices"
	"sync"
	"time"
)

// announcer wakes the robots waiting on this node for work as soon as the
// leader here hands a submit entry to Raft, before it commits.
//
// A robot waits on its replica (HasClaimable) and claims once the submit
// has applied there, so a job's claim used to start a whole commit after
// its submit's: two commits one after the other, each an fdatasync on the
// leader and then on a follower (about 4 ms of the claim-latency bench's
// 5 to 9 on a disk three nodes share). A robot woken by the announcement
// claims while the submit is still on its way; Raft orders its claim
// after the submit, so the claim applies on a state that holds the new
// jobs, and it commits with the submit, in the same write where the
// leader merges them, or in the next.
//
// Only the leader announces (it is where every merged submit is handed
// to Raft, a follower's forward too), so only robots waiting on the
// leader's node are woken; jobs of schedule fires and retries are not
// announced. A woken robot whose claim finds nothing (another took the
// job, or the submit failed) waits again as before; the announcer wakes
// no more robots than the entry has jobs they could take.
type announcer struct {
	mu      sync.Mutex
	waiting []*workWaiter // oldest first
}

type workWaiter struct {
	cmd   ClaimCmd
	woken chan struct{}
}

// WorkAnnounced returns a channel closed when this node, as leader, hands
// Raft a submit with a job cmd's robot could claim, and a function that
// stops the wait. A robot waiting for work selects on it beside its
// replica, so that its claim follows the submit into the log.
func (s RobotQueue) WorkAnnounced(cmd ClaimCmd) (woken <-chan struct{}, stop func()) {
	return s.announcer.wait(cmd)
}

// ClaimRecheck is how often a robot waiting for work looks at the
// replica again without news: jobs become claimable by time alone
// (backoff, not_before), without any applied entry.
const ClaimRecheck = 250 * time.Millisecond

// WaitClaimable returns nil once a claim by cmd's robot may find a job:
// the local replica holds one, or this node, as leader, has just handed
// Raft a submit with one (the claim, sent after, is ordered after it).
// It returns ctx's error when ctx ends first. A LAN robot on a server
// and a robot-only node's long poll wait with it.
func (s RobotQueue) WaitClaimable(ctx context.Context, cmd ClaimCmd) error {
	recheck := time.NewTicker(ClaimRecheck)
	defer recheck.Stop()
	announced, stop := s.WorkAnnounced(cmd)
	defer stop()
	for {
		_, changed := s.AppliedChanged()
		if s.HasClaimable(cmd, time.Now()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-recheck.C:
		case <-announced:
			return nil
		}
	}
}

func (a *announcer) wait(cmd ClaimCmd) (<-chan struct{}, func()) {
	w := &workWaiter{cmd: cmd, woken: make(chan struct{})}
	a.mu.Lock()
	a.waiting = append(a.waiting, w)
	a.mu.Unlock()
	return w.woken, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.waiting = slices.DeleteFunc(a.waiting, func(o *workWaiter) bool { return o == w })
	}
}

// announceSubmit announces groups, read against the local replica. A
// busy node has no robot waiting, and its submits skip the replica's lock.
func (s JobQueue) announceSubmit(groups [][]JobSpec) {
	if !s.announcer.anyWaiting() {
		return
	}
	now := time.Now()
	s.fsm.read(func(st *state) { s.announcer.announce(groups, now, st) })
}

func (a *announcer) anyWaiting() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.waiting) > 0
}

// announce hands the jobs of groups out to the waiting robots, oldest
// first, each up to its free slots, as a claim would take them at now
// from st, as far as a spec tells (eligible decides on the job): a
// robot is woken only if a job is left for it, so an entry wakes no
// more slots than it has jobs that the waiting robots could take. The
// caller holds st's read lock.
func (a *announcer) announce(groups [][]JobSpec, now time.Time, st *state) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.waiting) == 0 {
		return
	}
	jobs := dueJobs(groups, now, st)
	room := workflowRoom{st: st, left: map[string]int{}}
	a.waiting = slices.DeleteFunc(a.waiting, func(w *workWaiter) bool {
		if len(jobs) == 0 || st.drained[w.cmd.RobotID] {
			return false
		}
		took := 0
		jobs = slices.DeleteFunc(jobs, func(spec *JobSpec) bool {
			if took == max(w.cmd.Max, 1) || !suits(spec.ExecutionMode, spec.PinnedRobot, spec.RobotTags, &w.cmd) || !room.take(spec.WorkflowID) {
				return false
			}
			took++
			return true
		})
		if took == 0 {
			return false
		}
		close(w.woken)
		return true
	})
}

// dueJobs returns the specs of groups that a claim at now could take by
// st's queue rules: due, of a known workflow, neither it nor the queue
// paused.
func dueJobs(groups [][]JobSpec, now time.Time, st *state) []*JobSpec {
	if st.queuePaused {
		return nil
	}
	var out []*JobSpec
	for _, specs := range groups {
		for i := range specs {
			spec := &specs[i]
			if wf := st.workflows[spec.WorkflowID]; wf != nil && !wf.Settings.Paused && !now.Before(spec.NotBefore) {
				out = append(out, spec)
			}
		}
	}
	return out
}

// workflowRoom counts down the runs that workflows with a concurrency
// cap may still start, as eligible does with a claim's picks.
type workflowRoom struct {
	st   *state
	left map[string]int
}

func (r workflowRoom) take(workflow string) bool {
	limit := r.st.workflows[workflow].Settings.MaxConcurrency
	if limit <= 0 {
		return true
	}
	n, ok := r.left[workflow]
	if !ok {
		n = limit - r.st.runningPerWF[workflow]
	}
	if n <= 0 {
		return false
	}
	r.left[workflow] = n - 1
	return true
}
