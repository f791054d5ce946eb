package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// A merged claim's answer copied every job it leased, and a follower's
// came back as the JSON of those copies: under end-to-end load the
// leader's reflective encoding of them was about a tenth of its CPU and
// the followers' decoding 6% of all three nodes' (bench/queue
// -cpuprofile). A follower waits for its own replica to apply the claim
// anyway before it hands the jobs over (attachSecrets), and its replica
// holds the same jobs then, so a node that asks (ClaimGroupsCmd.Brief)
// is answered only the ids and fencing token of each claim's jobs and
// copies the jobs from its replica: the ones still leased with that
// token, as a replayed claim does (replayClaim). A leader of an older
// build ignores Brief and answers the copies, which claimAnswer reads as
// well; an older follower does not ask and gets them.

// claimAnswer is the FSM's answer to a ClaimGroupsCmd: the claimed jobs,
// encoded in full or, when the command asked, briefly. A forwarded brief
// answer decodes with brief set and full empty.
type claimAnswer struct {
	full  []Part[[]ClaimedJob]
	brief []Part[*leasedIDs]
	// asked is the command's Brief.
	asked bool
}

// leasedIDs names the jobs one claim leased, all under one fencing token.
type leasedIDs struct {
	Token uint64   `json:"token"`
	IDs   []string `json:"ids"`
}

// MarshalJSON writes a brief answer as {"brief":[...]} and a full one as
// the array of parts older builds read.
func (a claimAnswer) MarshalJSON() ([]byte, error) {
	if brief, ok := a.briefParts(); ok {
		return encodeJSON(struct {
			Brief []Part[*leasedIDs] `json:"brief"`
		}{brief})
	}
	return encodeJSON(a.full)
}

// briefParts is the brief form of a full answer; ok is false when the
// command did not ask for it or a claim's jobs do not share one token.
func (a claimAnswer) briefParts() ([]Part[*leasedIDs], bool) {
	if !a.asked {
		return nil, false
	}
	out := make([]Part[*leasedIDs], len(a.full))
	for i, p := range a.full {
		out[i].Error = p.Error
		if p.Error != nil || len(p.Value) == 0 {
			continue
		}
		ids := &leasedIDs{IDs: make([]string, len(p.Value))}
		for k := range p.Value {
			lease := p.Value[k].Job.lease()
			if lease == nil || (k > 0 && lease.Token != ids.Token) {
				return nil, false
			}
			ids.Token = lease.Token
			ids.IDs[k] = p.Value[k].Job.ID
		}
		out[i].Value = ids
	}
	return out, true
}

// UnmarshalJSON reads either form: a leader of an older build answers
// the full one whatever the command asked.
func (a *claimAnswer) UnmarshalJSON(data []byte) error {
	*a = claimAnswer{}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		var b struct {
			Brief []Part[*leasedIDs] `json:"brief"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			return err
		}
		if b.Brief == nil {
			return fmt.Errorf("claim answer: an object without brief")
		}
		a.brief = b.Brief
		return nil
	}
	return json.Unmarshal(data, &a.full)
}

// part is the answer of the k-th claim alone, in the same form.
func (a claimAnswer) part(k int) claimAnswer {
	if a.brief != nil {
		return claimAnswer{brief: a.brief[k : k+1]}
	}
	return claimAnswer{full: a.full[k : k+1], asked: a.asked}
}

// parts returns the claimed jobs, copied from this replica for a brief
// answer once it has applied the claims. The wait ends with lifetime
// (the store's), so a closing store does not wait out the timeout.
func (a claimAnswer) parts(lifetime context.Context, r Replica) ([]Part[[]ClaimedJob], error) {
	if a.brief == nil {
		return a.full, nil
	}
	var last uint64
	for _, p := range a.brief {
		if p.Value != nil {
			last = max(last, p.Value.Token)
		}
	}
	if last > 0 {
		// The jobs are leased whether or not the caller still waits:
		// wait for them as RobotQueue.Claim waits for their secrets, with
		// a budget of its own, not what is left of the entry's.
		wait, cancel := context.WithTimeout(lifetime, DefaultApplyTimeout)
		defer cancel()
		if err := r.WaitApplied(wait, last); err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
	}
	out := make([]Part[[]ClaimedJob], len(a.brief))
	r.fsm.read(func(st *state) {
		for i, p := range a.brief {
			out[i].Error = p.Error
			if p.Error == nil {
				out[i].Value = st.leasedCopies(p.Value)
			}
		}
	})
	return out, nil
}

// leasedCopies copies the jobs of ids still leased under its token,
// without graphs, as claimGroups answers them; an empty claim is an
// empty list, not nil, as it is in full.
func (st *state) leasedCopies(ids *leasedIDs) []ClaimedJob {
	if ids == nil {
		return []ClaimedJob{}
	}
	out := make([]ClaimedJob, 0, len(ids.IDs))
	for _, id := range ids.IDs {
		j := st.jobs[id]
		if j == nil || j.State != JobRunning || j.lease() == nil || j.Lease.Token != ids.Token {
			continue
		}
		out = append(out, ClaimedJob{Job: cloneJob(j)})
	}
	return out
}
