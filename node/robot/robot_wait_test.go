package robot

// Conditions the robot tests wait for, read from the robot and from what
// the test queue received.

// heartbeats counts the progress reports that carried job id under token.
func heartbeats(q *faultyQueue, id string, token uint64) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, p := range q.progress {
		for _, it := range p.Items {
			if it.JobID == id && it.Token == token {
				n++
			}
		}
	}
	return n
}

// nodeStarted reports whether the robot's run of job id has started the
// workflow node, by the run's status or by a report that carried it.
func nodeStarted(r *Robot, q *faultyQueue, id, node string) bool {
	r.mu.Lock()
	ru := r.active[id]
	r.mu.Unlock()
	if ru != nil {
		ru.mu.Lock()
		_, started := ru.status[node]
		ru.mu.Unlock()
		if started {
			return true
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.progress {
		for _, it := range p.Items {
			if _, started := it.NodeStatus[node]; it.JobID == id && started {
				return true
			}
		}
	}
	return false
}
