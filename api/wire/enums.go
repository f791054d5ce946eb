package wire

// The enumerations the server and its clients share. The server's own
// types (consensus.JobState, the executor's failure kinds, gossip roles)
// are defined from these, so a value has one spelling everywhere.

// Job states: queued → running → succeeded | failed | cancelled | dead.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
	JobDead      = "dead"
)

// JobStates returns every job state in the order of a job's life.
func JobStates() []string {
	return []string{JobQueued, JobRunning, JobSucceeded, JobFailed, JobCancelled, JobDead}
}

// JobTerminal reports whether a job in state s will never run again.
func JobTerminal(s string) bool {
	switch s {
	case JobSucceeded, JobFailed, JobCancelled, JobDead:
		return true
	}
	return false
}

// Failure kinds of a failed attempt.
const (
	// FailureBusiness means the workflow judged its input bad: retrying
	// cannot help, so the job fails at once.
	FailureBusiness = "business"
	// FailureApplication means something broke; the job is retried with
	// backoff until max_attempts.
	FailureApplication = "application"
)

// Member states: how gossip sees a cluster member (ClusterMember.State),
// and the states a LAN robot takes from its node.
const (
	MemberAlive = "alive"
	MemberDead  = "dead" // stopped answering probes: crashed, killed or cut off
	MemberLeft  = "left" // announced its departure
)

// Roles a cluster member advertises (Member.Roles).
const (
	RoleServer = "server" // holds Raft state and serves the API
	RoleRobot  = "robot"  // runs a LAN robot
)
