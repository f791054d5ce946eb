package api

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// Trigger types of POST /api/v1/workflows.
const (
	triggerManual    = "manual"
	triggerNone      = "none"
	triggerScheduled = "scheduled"
)

const maxNameLen = 200

// idempotencyNamespace scopes the ids derived from Idempotency-Key
// headers, so they cannot collide with ids derived for other purposes.
var idempotencyNamespace = uuid.MustParse("5b0e3a36-8f5c-4d2a-9c1e-6f7d1a2b3c4d")

// newID returns a fresh time-ordered id, or, when the client sent an
// idempotency key, an id derived from it so that a retried request names
// the same record and the store returns the first result.
func newID(idempotencyKey, purpose string) (string, error) {
	if idempotencyKey != "" {
		return uuid.NewSHA1(idempotencyNamespace, []byte(purpose+"\x00"+idempotencyKey)).String(), nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate %s id: %w", purpose, err)
	}
	return id.String(), nil
}

// workflowWrite is what a create request stores: the workflow, with the
// job of a manual trigger in the same command, and the schedule of a
// scheduled trigger, stored once the workflow id is known.
type workflowWrite struct {
	put      consensus.PutWorkflowCmd
	schedule *consensus.Schedule
}

// planWorkflowWrite checks a create request and builds what it stores.
// Nothing reaches the store unless all of it is valid. fallbackName
// names the workflow when neither the request nor the graph does.
func planWorkflowWrite(req CreateWorkflowRequest, idempotencyKey, fallbackName string) (workflowWrite, error) {
	var w workflowWrite
	trigger := cmp.Or(req.TriggerType, triggerManual)
	switch trigger {
	case triggerManual, triggerNone, triggerScheduled:
	default:
		return w, invalidField("trigger_type", "must be manual, scheduled or none, not %q", req.TriggerType)
	}
	if err := checkJobOnlyFields(trigger, req); err != nil {
		return w, err
	}
	template, err := jobSpec(JobRequest{
		Params: req.Params, Priority: req.Priority, ExecutionMode: req.ExecutionMode,
		RobotTags: req.RobotTags, UniqueKey: req.UniqueKey, MaxAttempts: req.MaxAttempts,
		PinnedRobot: req.PinnedRobot, Backoff: req.Backoff, NotBefore: req.NotBefore, Deadline: req.Deadline,
	}, "")
	if err != nil {
		return w, err
	}
	if err := checkTags("tags", req.Tags); err != nil {
		return w, err
	}
	if w.schedule, err = scheduleOfTrigger(trigger, req); err != nil {
		return w, err
	}
	graph, parsed, err := validateGraph(req)
	if err != nil {
		return w, err
	}
	name := strings.TrimSpace(cmp.Or(req.WorkflowName, parsed.Name, fallbackName))
	if name == "" {
		return w, invalidField("workflow_name", "is required: the workflow has no name")
	}
	if len(name) > maxNameLen {
		return w, invalidField("workflow_name", "is longer than %d bytes", maxNameLen)
	}
	if err := checkName("workflow_name", name); err != nil {
		return w, err
	}
	w.put = consensus.PutWorkflowCmd{Name: name, Tags: req.Tags, Graph: graph, RequestID: idempotencyKey}
	if w.put.ID, err = newID(idempotencyKey, "workflow"); err != nil {
		return w, err
	}
	if w.schedule != nil {
		if w.schedule.ID, err = newID(idempotencyKey, "workflow-schedule"); err != nil {
			return w, err
		}
	}
	if trigger == triggerManual {
		if template.ID, err = newID(idempotencyKey, "workflow-job"); err != nil {
			return w, err
		}
		w.put.Jobs = []consensus.JobSpec{template}
	}
	return w, nil
}

// checkJobOnlyFields refuses the options of one job (a pin, a backoff,
// a time window) unless the request queues exactly one job: a schedule
// template has no use for them.
func checkJobOnlyFields(trigger string, req CreateWorkflowRequest) error {
	if trigger == triggerManual {
		return nil
	}
	fields := [][2]string{
		{"pinned_robot", req.PinnedRobot}, {"backoff", req.Backoff}, {"not_before", req.NotBefore}, {"deadline", req.Deadline},
	}
	for _, f := range fields {
		if f[1] != "" {
			return invalidField(f[0], "is only for trigger_type manual, not %s", trigger)
		}
	}
	return nil
}

// scheduleOfTrigger checks the schedule fields of a create request: they
// are required for a scheduled trigger and refused for the others.
func scheduleOfTrigger(trigger string, req CreateWorkflowRequest) (*consensus.Schedule, error) {
	if trigger != triggerScheduled {
		fields := [][2]string{
			{"cron", req.Cron}, {"timezone", req.Timezone}, {"misfire", req.Misfire},
			{"catchup_window", req.CatchupWindow}, {"overlap", req.Overlap},
		}
		for _, f := range fields {
			if f[1] != "" {
				return nil, invalidField(f[0], "is only for trigger_type scheduled, not %s", trigger)
			}
		}
		return nil, nil
	}
	if req.Cron == "" {
		e := invalidField("cron", "is required for trigger_type scheduled")
		e.details["fields"] = []string{"cron"}
		return nil, e
	}
	sc, err := scheduleFor("", ScheduleRequest{
		Cron: req.Cron, Timezone: req.Timezone, Misfire: req.Misfire, CatchupWindow: req.CatchupWindow,
		Overlap: req.Overlap, Priority: req.Priority, ExecutionMode: req.ExecutionMode, Params: req.Params,
		RobotTags: req.RobotTags, MaxAttempts: req.MaxAttempts,
	})
	return &sc, err
}

// validateGraph runs the workflow validator over workflow_json and
// returns the canonical form to store, so that equal graphs get equal
// checksums whatever their key order or spacing.
func validateGraph(req CreateWorkflowRequest) ([]byte, *executor.Workflow, error) {
	if !isJSONObject(req.WorkflowJSON) {
		return nil, nil, invalidField("workflow_json", "must be a JSON object holding the workflow")
	}
	parsed, err := executor.ParseAndValidate(req.WorkflowJSON)
	var verr *executor.ValidationError
	switch {
	case errors.As(err, &verr):
		return nil, nil, invalidGraph(verr)
	case err != nil:
		return nil, nil, invalidField("workflow_json", "%v", err)
	}
	if err := checkGraphNames(parsed); err != nil {
		return nil, nil, err
	}
	graph, err := CanonicalJSON(req.WorkflowJSON)
	if err != nil {
		return nil, nil, invalidField("workflow_json", "%v", err)
	}
	return graph, parsed, nil
}

// maxListedProblems bounds the problems an invalid workflow's error
// lists: a workflow of a hundred thousand broken nodes made an answer of
// as many lines, where the first hundred tell what to fix.
const maxListedProblems = 100

func invalidGraph(verr *executor.ValidationError) *apiError {
	listed, more := verr.Problems, ""
	if len(listed) > maxListedProblems {
		listed = listed[:maxListedProblems]
		more = fmt.Sprintf("\n… and %d more", len(verr.Problems)-maxListedProblems)
	}
	e := invalid("workflow_json is not a valid workflow (%d problems):\n%v%s", len(verr.Problems), &executor.ValidationError{Problems: listed}, more)
	e.details = map[string]any{"field": "workflow_json", "problems": listed}
	return e
}

// checkGraphNames refuses a graph name, node ids and names and variable
// names that hold control or bidirectional formatting characters: they
// are shown in logs, progress, the dashboard and the CLI.
func checkGraphNames(wf *executor.Workflow) error {
	if err := checkName("workflow_json.name", wf.Name); err != nil {
		return err
	}
	for i, n := range wf.Nodes {
		if err := errors.Join(checkName(fmt.Sprintf("workflow_json.nodes[%d].id", i), n.ID),
			checkName(fmt.Sprintf("workflow_json.nodes[%d].name", i), n.Name)); err != nil {
			return err
		}
	}
	for name := range wf.Variables {
		if err := checkName("workflow_json.variables", name); err != nil {
			return err
		}
	}
	return nil
}

// missingFields is a 400 listing every required field that is absent.
func missingFields(fields ...string) error {
	if len(fields) == 0 {
		return nil
	}
	e := invalid("missing required field(s): %s", strings.Join(fields, ", "))
	e.details = map[string]any{"fields": fields}
	return e
}

const maxTags = 64

func checkTags(field string, tags []string) error {
	if len(tags) > maxTags {
		return invalidField(field, "has %d entries; at most %d are allowed", len(tags), maxTags)
	}
	for i, t := range tags {
		if strings.TrimSpace(t) == "" {
			return invalidField(fmt.Sprintf("%s[%d]", field, i), "is empty")
		}
	}
	return checkNames(field, tags)
}
