package consensus

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// GraphRef names the graph of one workflow version. Versions are
// immutable, so a robot that holds a version's graph never needs it sent
// again.
type GraphRef struct {
	WorkflowID string `json:"workflow_id"`
	Version    int    `json:"version"`
}

// String is the form robots send over HTTP: "<workflow id>@<version>".
func (r GraphRef) String() string { return r.WorkflowID + "@" + strconv.Itoa(r.Version) }

// ParseGraphRef reads "<workflow id>@<version>".
func ParseGraphRef(s string) (GraphRef, error) {
	// The version follows the last "@": an id may hold one.
	at := strings.LastIndexByte(s, '@')
	ok := at >= 0
	id, v := s[:max(at, 0)], s[at+1:]
	n, err := strconv.Atoi(v)
	if !ok || id == "" || err != nil || n < 1 {
		return GraphRef{}, fmt.Errorf("graph %q is not <workflow id>@<version>", s)
	}
	return GraphRef{WorkflowID: id, Version: n}, nil
}

// OmitHeldGraphs leaves out of claimed jobs the graphs their robot said
// it holds (ClaimCmd.Have), so a claim carries each graph only to a
// robot that lacks it.
func OmitHeldGraphs(jobs []ClaimedJob, have []GraphRef) []ClaimedJob {
	if len(have) == 0 {
		return jobs
	}
	for i, j := range jobs {
		if slices.Contains(have, GraphRef{WorkflowID: j.Job.WorkflowID, Version: j.Job.WorkflowVersion}) {
			jobs[i].Graph = nil
		}
	}
	return jobs
}

// VersionGraph returns the graph of a workflow version from this
// replica, for a robot that lacks it.
func (s Catalog) VersionGraph(ref GraphRef) (json.RawMessage, bool) {
	var graph json.RawMessage
	s.fsm.read(func(st *state) {
		if wf := st.workflows[ref.WorkflowID]; wf != nil {
			if v, ok := wf.Version(ref.Version); ok {
				graph = v.Graph
			}
		}
	})
	return graph, graph != nil
}
