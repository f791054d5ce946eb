package consensus

import "slices"

// Run returns a copy of j's run fields: the zero JobRun for a job no
// robot has claimed and that has not finished. Readers outside apply use
// it so that a queued job's nil JobRun is never dereferenced.
func (j *Job) Run() JobRun {
	if j.JobRun == nil {
		return JobRun{}
	}
	return *j.JobRun
}

// run returns j's run fields for apply code about to write one of them,
// allocating them on the job's first claim or finish.
func (j *Job) run() *JobRun {
	if j.JobRun == nil {
		j.JobRun = &JobRun{}
	}
	return j.JobRun
}

// lease returns j's lease, nil for a job no robot holds.
func (j *Job) lease() *Lease {
	if j.JobRun == nil {
		return nil
	}
	return j.Lease
}

// clone copies r deeply enough that later applies, which write its
// fields in place, append to Attempts and replace (never write through)
// its other slices, maps and pointers, cannot race with a reader of the
// copy.
func (r *JobRun) clone() *JobRun {
	if r == nil {
		return nil
	}
	c := *r
	c.Attempts = slices.Clone(r.Attempts)
	if r.Lease != nil {
		l := *r.Lease
		c.Lease = &l
	}
	if r.Debug != nil {
		// Applies replace Debug's pointers, never write through them.
		d := *r.Debug
		c.Debug = &d
	}
	return &c
}
