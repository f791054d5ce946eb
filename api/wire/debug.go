package wire

import (
	"encoding/json"
	"time"
)

// DebugRequest makes a submitted job a debug session: its run stops
// before the breakpoint nodes (a subworkflow's nodes as CALL/NODE).
type DebugRequest struct {
	Breakpoints []string `json:"breakpoints,omitempty"`
	// PauseTimeout is how long a stop waits for a command, as a duration
	// like "10m" (the default); then the run goes on without breakpoints.
	PauseTimeout string `json:"pause_timeout,omitempty"`
}

// DebugCommandRequest is the body of POST /api/v1/jobs/{id}/debug.
type DebugCommandRequest struct {
	// Action is continue, step (over subworkflows) or step_into.
	Action string `json:"action"`
	// Breakpoints, when present, replace the run's breakpoints.
	Breakpoints []string `json:"breakpoints,omitempty"`
}

// DebugState is the answer to GET /api/v1/jobs/{id}/debug.
type DebugState struct {
	JobID        string     `json:"job_id"`
	JobState     string     `json:"job_state"`
	RobotID      string     `json:"robot_id,omitempty"`
	Breakpoints  []string   `json:"breakpoints"`
	PauseTimeout string     `json:"pause_timeout"`
	Paused       *DebugStop `json:"paused,omitempty"`
	// LastCommand is the newest command sent to the running attempt; the
	// robot takes it with its next heartbeat.
	LastCommand *DebugPending `json:"last_command,omitempty"`
	// Detached says why the run stopped debugging (a pause timed out).
	Detached string `json:"detached,omitempty"`
}

// DebugStop is where a debug run waits.
type DebugStop struct {
	Stop      uint64          `json:"stop"`
	Node      string          `json:"node"`
	Reason    string          `json:"reason"`
	Variables json.RawMessage `json:"variables"`
	CallStack []DebugFrame    `json:"call_stack"`
	Since     time.Time       `json:"since"`
	// Watches are the watch expressions the request asked for, evaluated
	// over Variables: the redacted view, so a watch shows *** for a secret.
	Watches []DebugWatch `json:"watches,omitempty"`
}

// DebugWatch is one watch expression's value at a stop, or why it has none.
type DebugWatch struct {
	Expression string          `json:"expression"`
	Value      json.RawMessage `json:"value,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// DebugFrame is one subworkflow call around the stop, outermost first.
type DebugFrame struct {
	Workflow string `json:"workflow"`
	NodeID   string `json:"node_id"`
}

// DebugPending is a command sent to the run.
type DebugPending struct {
	Seq    uint64 `json:"seq"`
	Stop   uint64 `json:"stop"`
	Action string `json:"action"`
}
