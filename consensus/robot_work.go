package consensus

import (
	"encoding/json"
	"fmt"
)

// An internet robot's work call brings the completions of the jobs that
// freed its slots and a claim for those slots (node/gatewayproto). The
// claims used to commit in entries of their own, beside the entries of
// the completions and heartbeats: two entries for every round of a
// gateway's tunnels, and under load about 0.1 entries a job against LAN
// robots' 0.04 (dispatch bench). The node's report batcher now takes the
// internet robots' claims as well (newRobotGroups), and an entry that
// holds claims is a RobotWorkCmd: the reports first, then the claims, as
// the two entries in that order would apply. Held heartbeats still go
// with the first completion or claim after them, so they never commit
// after the completion of the same job.

// RobotWorkCmd carries robots' reports and claims in one entry.
type RobotWorkCmd struct {
	Reports []RobotReport `json:"reports"`
	Claims  []ClaimCmd    `json:"claims"`
	// Brief asks for the claims' answers as ids (claim_brief.go).
	Brief bool `json:"brief,omitempty"`
}

// robotWorkAnswer is the FSM's answer to a RobotWorkCmd: one part per
// report, and the claims' answer as a ClaimGroupsCmd's.
type robotWorkAnswer struct {
	Reports []Part[[]Ack] `json:"reports"`
	Claims  claimAnswer   `json:"claims"`
}

// robotWork applies the reports, then the claims. On a node that was no
// longer leading, the claims' answer is not built: each claim's part
// says so (CodeNotLeader), and its caller claims again under its request
// id, which replays the leases (robotGroups.claimed), while the reports
// keep their acks, as in a robot reports entry. Failing the whole entry
// would send the completions again, to be refused as stale.
func (s queueApply) robotWork(c applyContext, cmd *RobotWorkCmd) (robotWorkAnswer, error) {
	reports, err := s.robotReports(c, &RobotReportsCmd{Reports: cmd.Reports})
	if err != nil {
		return robotWorkAnswer{}, err
	}
	claims, err := s.claimGroups(c, &ClaimGroupsCmd{Claims: cmd.Claims, Brief: cmd.Brief})
	if err != nil {
		failed := partError(err)
		claims = claimAnswer{full: make([]Part[[]ClaimedJob], len(cmd.Claims)), asked: cmd.Brief}
		for i := range claims.full {
			claims.full[i].Error = failed
		}
	}
	return robotWorkAnswer{Reports: reports, Claims: claims}, nil
}

// appendFast writes the reports as RobotReportsCmd.appendFast does and
// the claims, which are few and small, with encodeJSON.
func (c *RobotWorkCmd) appendFast(buf []byte) ([]byte, bool) {
	buf, ok := (&RobotReportsCmd{Reports: c.Reports}).appendFast(buf)
	if !ok || c.Claims == nil {
		return buf, false
	}
	claims, err := encodeJSON(c.Claims)
	if err != nil {
		return buf, false
	}
	buf = append(append(buf[:len(buf)-1], `,"claims":`...), claims...)
	if c.Brief {
		buf = append(buf, `,"brief":true`...)
	}
	return append(buf, '}'), true
}

// decodeFast reads the reports as RobotReportsCmd's decoder does; the
// claims go through json.Unmarshal, as a ClaimGroupsCmd's do.
// FuzzRobotWorkFastDecode holds it to json.Unmarshal.
func (c *RobotWorkCmd) decodeFast(payload []byte) bool {
	return decodeWhole(payload, c, (*specDecoder).readRobotWork)
}

func (d *specDecoder) readRobotWork(c *RobotWorkCmd) bool {
	return d.Object([]string{"reports", "claims", "brief"}, func(i int) bool {
		switch i {
		case 0:
			c.Reports = []RobotReport{}
			return d.Array(func() bool {
				c.Reports = append(c.Reports, RobotReport{})
				return d.readReport(&c.Reports[len(c.Reports)-1])
			})
		case 1:
			raw, ok := d.Raw()
			return ok && raw[0] == '[' && json.Unmarshal(raw, &c.Claims) == nil
		}
		v, ok := d.Bool()
		c.Brief = v
		return ok
	})
}

// check refuses an answer whose parts do not match the entry's.
func (a robotWorkAnswer) check(reports, claims int) error {
	if len(a.Reports) != reports {
		return fmt.Errorf("robot work: %d reports answered %d results", reports, len(a.Reports))
	}
	if n := max(len(a.Claims.full), len(a.Claims.brief)); n != claims {
		return fmt.Errorf("robot work: %d claims answered %d results", claims, n)
	}
	return nil
}
