package consensus

import "unicode/utf8"

// A robot call's weight is the bytes its part of a merged entry encodes
// to, or more: maxGroupBytes must bound the entry a node forwards to the
// leader, or the reports of well-behaved robots merged with one odd
// report (a log of control characters encodes to six bytes a byte) all
// fail with it at the leader's limit on forwarded entries. Every string
// a robot fills is counted at its escaped length (jsonLen, which
// weighSpecs uses for submits too); the small fixed fields are in the
// overheads.

// Encoded sizes of the fixed parts of robot calls, beyond the strings
// and raw JSON they carry.
const (
	claimOverhead = 128
	itemOverhead  = 128
	logOverhead   = 96
	// fieldOverhead covers a string field's key and quotes, or a map
	// entry's quotes and colon.
	fieldOverhead = 24
)

func weighReport(c reportCall) (items, bytes int) {
	if c.claim != nil {
		return weighClaim(*c.claim)
	}
	if c.report.Complete != nil {
		items, bytes = weighCompletions(*c.report.Complete)
		return items, bytes + jsonLen(c.report.Complete.RobotID)
	}
	if c.report.Progress != nil {
		items, bytes = weighProgress(*c.report.Progress)
		return items, bytes + jsonLen(c.report.Progress.RobotID)
	}
	return 0, 0
}

// weighClaim counts a claim as the jobs it may lease, so that a merged
// entry's answer stays bounded too.
func weighClaim(c ClaimCmd) (items, bytes int) {
	return max(c.Max, 1), claimOverhead + jsonLen(c.RobotID) + jsonLen(c.RobotKind) + jsonLen(c.RequestID) + stringsBytes(c.Tags)
}

func weighCompletions(c CompleteCmd) (items, bytes int) {
	for _, it := range c.Items {
		bytes += itemOverhead + jsonLen(it.JobID) + len(it.Result) + len(it.Checkpoint) +
			jsonLen(it.Error) + jsonLen(it.FailureKind) + logBytes(it.Logs) + statusBytes(it.NodeStatus) + debugBytes(it.Debug)
	}
	return len(c.Items), bytes
}

func weighProgress(c ProgressCmd) (items, bytes int) {
	for _, it := range c.Items {
		bytes += itemOverhead + jsonLen(it.JobID) + len(it.Checkpoint) +
			logBytes(it.Logs) + statusBytes(it.NodeStatus) + debugBytes(it.Debug)
	}
	return len(c.Items), bytes
}

func logBytes(lines []LogLine) int {
	n := 0
	for _, l := range lines {
		n += logOverhead + jsonLen(l.Level) + jsonLen(l.NodeID) + jsonLen(l.Message)
	}
	return n
}

func statusBytes(status map[string]string) int {
	n := 0
	for node, state := range status {
		n += fieldOverhead + jsonLen(node) + jsonLen(state)
	}
	return n
}

func debugBytes(r *DebugReport) int {
	if r == nil {
		return 0
	}
	n := itemOverhead + jsonLen(r.Node) + jsonLen(r.Reason) + len(r.Vars) + jsonLen(r.Detached)
	for _, f := range r.Stack {
		n += 2*fieldOverhead + jsonLen(f.Workflow) + jsonLen(f.NodeID)
	}
	return n
}

// jsonLen is the length of s as encoding/json writes it, quotes and
// escapes included (an upper bound: every control character is counted
// at its longest, \u00XX form).
func jsonLen(s string) int {
	n := 2 + len(s)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				n++
			case c < 0x20:
				n += 5
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 5 // one invalid byte becomes \ufffd
		case r == '\u2028' || r == '\u2029':
			n += 3 // \u2028 and \u2029 are escaped
		}
		i += size
	}
	return n
}
