package consensus

// The FSM's apply handlers are grouped by concern onto small types that
// embed *state, so that no one type carries every command. Each is a
// view of the same state: handlers read and write the maps of *state
// directly, and the helpers several concerns share stay on *state.
type (
	// jobsApply submits, cancels, reruns and prunes jobs and keeps the
	// workflows they run.
	jobsApply struct{ *state }
	// queueApply moves jobs through their leases: claims, progress,
	// completion, hand-backs, lost robots, crashes and drains.
	queueApply struct{ *state }
	// scheduleApply keeps schedules and plans their fires.
	scheduleApply struct{ *state }
	// accessApply keeps robot and API tokens, sign-in codes, registered
	// nodes, robot status and the vault's secrets.
	accessApply struct{ *state }
)
