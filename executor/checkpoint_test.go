package executor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// resumeWorkflow mixes linear nodes, a branch, a loop and side effects: each
// node that writes appends a line to a journal file, so a node that runs
// twice shows up there.
const resumeWorkflow = `{
  "name": "resume",
  "variables": {"orders": [{"id": "a", "qty": 2}, {"id": "b", "qty": 0}, {"id": "c", "qty": 5}], "shipped": [], "total": 0},
  "nodes": [
    {"id": "start", "type": "start"},
    {"id": "begin", "type": "file_write", "config": {"path": "journal", "content": "begin\n", "append": true}},
    {"id": "loop", "type": "for_each", "config": {"items": "{{ orders }}", "item_var": "order"}},
    {"id": "in_stock", "type": "if", "config": {"condition": "order.qty > 0"}},
    {"id": "ship", "type": "file_write", "config": {"path": "journal", "content": "ship {{ order.id }}\n", "append": true}},
    {"id": "record", "type": "set_variable", "config": {"name": "shipped", "value": "{{ concat(shipped, [order.id]) }}"}},
    {"id": "count", "type": "set_variable", "config": {"name": "total", "value": "{{ total + order.qty }}"}},
    {"id": "skip", "type": "file_write", "config": {"path": "journal", "content": "skip {{ order.id }}\n", "append": true}},
    {"id": "finish", "type": "file_write", "config": {"path": "journal", "content": "total {{ total }}\n", "append": true}},
    {"id": "end", "type": "end"}
  ],
  "connections": [
    {"from": "start", "to": "begin"},
    {"from": "begin", "to": "loop"},
    {"from": "loop", "to": "in_stock", "port": "body"},
    {"from": "in_stock", "to": "ship", "port": "true"},
    {"from": "in_stock", "to": "skip", "port": "false"},
    {"from": "ship", "to": "record"},
    {"from": "record", "to": "count"},
    {"from": "loop", "to": "finish", "port": "done"},
    {"from": "finish", "to": "end"}
  ]
}`

func TestResumeFromEveryCheckpoint(t *testing.T) {
	w := parseWorkflow(t, resumeWorkflow)

	// The reference run, checkpointing after every node.
	e, dir := testEngine(t)
	var full recorder
	want := e.Run(background(t), w, full.options(RunOptions{Vars: map[string]any{"job_id": "j1"}}))
	mustSucceed(t, want)
	wantJournal := readFile(t, filepath.Join(dir, "journal"))
	wantStarted := full.started()
	if len(full.checkpoints) != len(wantStarted) {
		t.Fatalf("%d checkpoints for %d nodes", len(full.checkpoints), len(wantStarted))
	}

	for k, cp := range full.checkpoints[:len(full.checkpoints)-1] {
		// Replicate as the robot loop does: through JSON.
		data, err := json.Marshal(cp)
		if err != nil {
			t.Fatal(err)
		}
		var restored Checkpoint
		if err := json.Unmarshal(data, &restored); err != nil {
			t.Fatal(err)
		}

		// The resumed run's world: the journal as it was at checkpoint k.
		e2, dir2 := testEngine(t)
		if err := os.WriteFile(filepath.Join(dir2, "journal"), []byte(journalAfter(wantJournal, wantStarted[:k+1])), 0o644); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		got := e2.Run(background(t), w, rec.options(RunOptions{Resume: &restored, Vars: map[string]any{"job_id": "j1"}}))
		mustSucceed(t, got)
		if !jsonEqual(t, got.Variables, want.Variables) {
			t.Errorf("resume after node %d (%s): variables\n%s\nwant\n%s", k, wantStarted[k], showJSON(got.Variables), showJSON(want.Variables))
		}
		if !slices.Equal(rec.started(), wantStarted[k+1:]) {
			t.Errorf("resume after node %d (%s): ran %v, want %v", k, wantStarted[k], rec.started(), wantStarted[k+1:])
		}
		if journal := readFile(t, filepath.Join(dir2, "journal")); journal != wantJournal {
			t.Errorf("resume after node %d (%s): journal\n%s\nwant\n%s", k, wantStarted[k], journal, wantJournal)
		}
		if !slices.Equal(got.Checkpoint.Completed, want.Checkpoint.Completed) || got.Checkpoint.Steps != want.Checkpoint.Steps {
			t.Errorf("resume after node %d: final checkpoint %+v, want %+v", k, got.Checkpoint, want.Checkpoint)
		}
	}
}

// journalAfter is what the journal held after the given nodes ran: one line
// per writing node.
func journalAfter(journal string, ran []string) string {
	lines := strings.SplitAfter(journal, "\n")
	writes := 0
	for _, id := range ran {
		switch id {
		case "begin", "ship", "skip", "finish":
			writes++
		}
	}
	return strings.Join(lines[:writes], "")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestResumeAfterCancel(t *testing.T) {
	w := parseWorkflow(t, resumeWorkflow)
	e, dir := testEngine(t)
	want := e.Run(background(t), w, RunOptions{})
	mustSucceed(t, want)
	wantJournal := readFile(t, filepath.Join(dir, "journal"))

	// Stop the second time the loop body starts shipping.
	e2, dir2 := testEngine(t)
	ctx, cancel := context.WithCancel(background(t))
	ships := 0
	stopped := e2.Run(ctx, w, RunOptions{BeforeNode: func(_ context.Context, id string, _ map[string]any) error {
		if id == "ship" {
			if ships++; ships == 2 {
				cancel()
			}
		}
		return nil
	}})
	if stopped.State != StateCancelled {
		t.Fatalf("state %s: %s", stopped.State, stopped.Error)
	}
	cp := stopped.Checkpoint
	if cp.Next != "record" || len(cp.Loops) != 1 || cp.Loops[0].Index != 2 {
		t.Fatalf("checkpoint %s", showJSON(cp))
	}
	resumed := NewEngine(EngineOptions{WorkDir: dir2}).Run(background(t), w, RunOptions{Resume: &cp})
	mustSucceed(t, resumed)
	if !jsonEqual(t, resumed.Variables, want.Variables) {
		t.Errorf("variables\n%s\nwant\n%s", showJSON(resumed.Variables), showJSON(want.Variables))
	}
	if got := readFile(t, filepath.Join(dir2, "journal")); got != wantJournal {
		t.Errorf("journal\n%s\nwant\n%s", got, wantJournal)
	}
}

func TestResumeEdgeCases(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(3)

	finished := e.Run(background(t), w, RunOptions{})
	mustSucceed(t, finished)
	var rec recorder
	again := e.Run(background(t), w, rec.options(RunOptions{Resume: &finished.Checkpoint}))
	mustSucceed(t, again)
	if len(rec.started()) != 0 || !jsonEqual(t, again.Variables["counter"], 3) {
		t.Errorf("resuming a finished run ran %v, counter %v", rec.started(), again.Variables["counter"])
	}

	fresh := e.Run(background(t), w, RunOptions{Resume: &Checkpoint{}})
	if !jsonEqual(t, fresh.Variables["counter"], 3) {
		t.Errorf("an empty checkpoint should start fresh: %s", showJSON(fresh))
	}

	bad := e.Run(background(t), w, RunOptions{Resume: &Checkpoint{Next: "gone", Steps: 4}})
	if bad.State != StateFailed || !strings.Contains(bad.Error, `"gone"`) {
		t.Errorf("unknown node: %s: %s", bad.State, bad.Error)
	}

	// Job metadata describes the current attempt; the state comes from the
	// checkpoint.
	cp := Checkpoint{Next: "n2", Steps: 2, Completed: []string{"start", "n0", "n1"}, Variables: map[string]any{"counter": 2.0, "attempt": 1.0, "note": "kept"}}
	res := e.Run(background(t), w, RunOptions{Resume: &cp, Vars: map[string]any{"attempt": 2, "counter": 0, "robot_id": "r2"}})
	mustSucceed(t, res)
	want := map[string]any{"counter": 3, "attempt": 2, "robot_id": "r2", "note": "kept"}
	if !jsonEqual(t, res.Variables, want) {
		t.Errorf("variables %s, want %s", showJSON(res.Variables), showJSON(want))
	}
}

func TestCheckpointBatching(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(100)
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{CheckpointEvery: 10}))
	mustSucceed(t, res)
	// 101 nodes: ten full batches and a final flush of the last node.
	if len(rec.checkpoints) != 11 {
		t.Fatalf("%d checkpoints, want 11", len(rec.checkpoints))
	}
	for i, cp := range rec.checkpoints[:10] {
		if cp.Steps != int64(10*(i+1)) || !jsonEqual(t, cp.Variables["counter"], 10*(i+1)-1) {
			t.Errorf("checkpoint %d: steps %d counter %v", i, cp.Steps, cp.Variables["counter"])
		}
	}
	if last := rec.checkpoints[10]; last.Next != "" || last.Steps != 101 {
		t.Errorf("final checkpoint %+v", last)
	}

	// A node with side effects is checkpointed at once.
	w = chain(
		Node{ID: "a", Type: "set_variable", Config: cfg("name", "x", "value", 1)},
		Node{ID: "write", Type: "file_write", Config: cfg("path", "f", "content", "x")},
		Node{ID: "b", Type: "set_variable", Config: cfg("name", "y", "value", 2)},
	)
	rec = recorder{}
	mustSucceed(t, e.Run(background(t), w, rec.options(RunOptions{CheckpointEvery: 100})))
	var nexts []string
	for _, cp := range rec.checkpoints {
		nexts = append(nexts, cp.Next)
	}
	if !slices.Equal(nexts, []string{"b", ""}) {
		t.Errorf("checkpoints before %q, want after the write and at the end", nexts)
	}
}

func TestCheckpointIsASnapshot(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(5)
	var rec recorder
	mustSucceed(t, e.Run(background(t), w, rec.options(RunOptions{})))
	for i, cp := range rec.checkpoints {
		if !jsonEqual(t, cp.Variables["counter"], i) || len(cp.Completed) != i+1 {
			t.Errorf("checkpoint %d changed after it was taken: %s", i, showJSON(cp))
		}
	}
}
