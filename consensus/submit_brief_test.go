package consensus

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// briefSample is a merged submit with every kind of outcome: new jobs
// with and without the rarer options, a spec naming a job already
// queued, a unique key already taken, the same id twice in one group,
// and a group that fails.
func briefSample() [][]JobSpec {
	at := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	return [][]JobSpec{
		{
			{ID: "a", WorkflowID: "w1", ExecutionMode: ModeLAN},
			{ID: "b", WorkflowID: "w1", WorkflowVersion: 1, Params: json.RawMessage(`{ "n": 1, "s": "x y" }`), Priority: 7,
				ExecutionMode: ModeAny, RobotTags: []string{"gpu"}, PinnedRobot: "r1", MaxAttempts: 5, Backoff: Duration(time.Minute),
				RerunOf: "old", UniqueKey: "u1", NotBefore: at, Deadline: at.Add(time.Hour), Debug: &DebugOptions{}},
			{ID: "a", WorkflowID: "w1", ExecutionMode: ModeInternet, Priority: 3},
		},
		{{ID: "pre", WorkflowID: "w1", ExecutionMode: ModeLAN}, {ID: "c", WorkflowID: "w1", ExecutionMode: ModeLAN, UniqueKey: "taken"}},
		{{ID: "d", WorkflowID: "w1", ExecutionMode: ModeLAN}, {ID: "e", WorkflowID: "missing", ExecutionMode: ModeLAN}},
	}
}

// briefHarness has workflow w1 at version 2 and job "pre" queued with
// unique key "taken".
func briefHarness(t *testing.T) *fsmHarness {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("b")})
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "pre", WorkflowID: "w1", ExecutionMode: ModeLAN, UniqueKey: "taken"}}})
	return h
}

// A brief answer, read on the node that sent the specs, gives the jobs
// the full answer gives, field for field as the API encodes them: for a
// leader of this build (the brief JSON) and of an older one (the full
// JSON, whatever the command asked). The state is the same either way.
func TestBriefSubmitAnswerRebuildsTheJobs(t *testing.T) {
	full, brief := briefHarness(t), briefHarness(t)
	groups := briefSample()
	want := full.mustApply(cmdSubmitGroups, SubmitGroupsCmd{Groups: groups}).(submitAnswer)
	got := brief.mustApply(cmdSubmitGroups, SubmitGroupsCmd{Groups: briefSample(), Brief: true}).(submitAnswer)
	if got.brief == nil || got.full != nil {
		t.Fatalf("a brief command answered %+v", got)
	}
	if a, b := snapshotBytes(t, full.f), snapshotBytes(t, brief.f); !bytes.Equal(a, b) {
		t.Fatalf("the states differ\nfull:  %s\nbrief: %s", a, b)
	}
	wantJSON := resultsJSON(t, want, groups)
	for name, a := range map[string]submitAnswer{"local": got, "forwarded": roundTrip(t, got), "from an older leader": roundTrip(t, want)} {
		if gotJSON := resultsJSON(t, a, groups); gotJSON != wantJSON {
			t.Errorf("%s brief answer rebuilt\n%s\nwant\n%s", name, gotJSON, wantJSON)
		}
	}
	if g := got.brief.Groups; g[0].Jobs[2].Job == nil || g[1].Jobs[0].Job == nil || g[1].Jobs[1].Job == nil || g[0].Jobs[0].Job != nil {
		t.Errorf("brief groups %+v: want the jobs that were there in full, the new ones by seq", g)
	}
}

// An answer that does not fit the specs is an error, not jobs.
func TestBriefSubmitAnswerRefusesAMismatch(t *testing.T) {
	groups := [][]JobSpec{{{ID: "a", WorkflowID: "w1", ExecutionMode: ModeLAN}}}
	for name, b := range map[string]*briefAnswer{
		"groups": {Groups: nil},
		"jobs":   {Groups: []briefGroup{{Jobs: []madeJob{{Seq: 1, Version: 1}, {Seq: 2, Version: 1}}}}},
		"empty":  {Groups: []briefGroup{{Jobs: []madeJob{{}}}}},
	} {
		if _, err := (submitAnswer{brief: b}).results(groups); err == nil {
			t.Errorf("%s: a mismatched answer was read as jobs", name)
		}
	}
}

func roundTrip(t *testing.T, a submitAnswer) submitAnswer {
	t.Helper()
	b, err := encodeJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	var out submitAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return out
}

// resultsJSON is the answer's jobs as JSON, their params as the bytes
// they hold (encoding/json would compact them).
func resultsJSON(t *testing.T, a submitAnswer, groups [][]JobSpec) string {
	t.Helper()
	res, err := a.results(groups)
	if err != nil {
		t.Fatal(err)
	}
	type withParams struct {
		Job
		Params string `json:"params"`
	}
	var out [][]withParams
	for _, g := range res {
		var jobs []withParams
		for _, j := range g.Jobs {
			jobs = append(jobs, withParams{Job: j, Params: string(j.Params)})
		}
		out = append(out, jobs)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
