package consensus

import (
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
// Only the leader announces (it is where every submit is handed to Raft,
// a follower's too), so only robots on the leader's node are woken. A
// woken robot whose claim finds nothing (another took the job, or the
// submit failed) waits again as before; the announcer wakes no more
// robots than the entry has jobs they could take.
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

// announceSubmit announces groups, read against the local replica: a
// paused queue or workflow, or a drained robot, wakes no one.
func (s JobQueue) announceSubmit(groups [][]JobSpec) {
	now := time.Now()
	s.fsm.read(func(st *state) { s.announcer.announce(groups, now, st) })
}

// announce wakes, oldest first, the waiting robots that could claim a job
// of groups at now as st tells, until as many slots as the jobs are
// woken. The caller holds st's read lock.
func (a *announcer) announce(groups [][]JobSpec, now time.Time, st *state) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.waiting) == 0 {
		return
	}
	left := 0
	for _, specs := range groups {
		left += len(specs)
	}
	a.waiting = slices.DeleteFunc(a.waiting, func(w *workWaiter) bool {
		if left <= 0 {
			return false
		}
		n := mayClaim(groups, &w.cmd, now, st)
		if n == 0 || st.drained[w.cmd.RobotID] {
			return false
		}
		left -= min(n, max(w.cmd.Max, 1))
		close(w.woken)
		return true
	})
}

// mayClaim counts the specs of groups whose jobs cmd's robot could claim
// at now, as far as a spec and st tell (eligible decides on the job).
func mayClaim(groups [][]JobSpec, cmd *ClaimCmd, now time.Time, st *state) int {
	if st.queuePaused {
		return 0
	}
	n := 0
	for _, specs := range groups {
		for i := range specs {
			spec := &specs[i]
			if wf := st.workflows[spec.WorkflowID]; wf == nil || wf.Settings.Paused {
				continue
			}
			if (spec.ExecutionMode != ModeAny && spec.ExecutionMode != cmd.RobotKind) || (spec.PinnedRobot != "" && spec.PinnedRobot != cmd.RobotID) ||
				now.Before(spec.NotBefore) || !subset(spec.RobotTags, cmd.Tags) {
				continue
			}
			n++
		}
	}
	return n
}

func subset(tags, of []string) bool {
	for _, t := range tags {
		if !slices.Contains(of, t) {
			return false
		}
	}
	return true
}
