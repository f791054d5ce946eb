package wire

import "time"

// The live event stream, GET /api/v1/events.

// Event types.
const (
	EventJob      = "job"           // a job entered a state
	EventProgress = "progress"      // a running job's node status moved on
	EventFire     = "schedule_fire" // a schedule fired a job or skipped a fire
	EventRobot    = "robot"         // a robot changed state (alive, suspect, dead, left, disconnected)
	EventDrain    = "drain"         // a robot was drained or undrained
	EventLeader   = "leader"        // the Raft leader changed
)

// Frame types. Every WebSocket message, and every server-sent event's
// data, is one EventFrame.
const (
	// FrameHello opens a stream: the current leader, robots and queue.
	FrameHello = "hello"
	// FrameEvents carries the events of up to 100 ms.
	FrameEvents = "events"
	// FrameReload ends a stream whose since index is older than this node
	// holds (or whose node's state was replaced by a snapshot): read the
	// state again and resume with the applied_index the reads returned.
	FrameReload = "reload"
	// FrameDropped ends the stream of a client that fell too far behind;
	// Resume says where to reconnect.
	FrameDropped = "dropped"
)

// Event is one change. Index is the Raft index it reflects; only the
// fields of its Type are set.
type Event struct {
	Index      uint64    `json:"index"`
	Type       string    `json:"type"`
	Time       time.Time `json:"time,omitzero"`
	JobID      string    `json:"job_id,omitempty"`
	WorkflowID string    `json:"workflow_id,omitempty"`
	ScheduleID string    `json:"schedule_id,omitempty"`
	RobotID    string    `json:"robot_id,omitempty"`
	// From and To are a job's states ("" From for a new job).
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Error   string `json:"error,omitempty"`
	// NodeStatus maps workflow node ids to their status (progress).
	NodeStatus map[string]string `json:"node_status,omitempty"`
	// FireTime, Skipped and Manual describe a schedule fire.
	FireTime time.Time `json:"fire_time,omitzero"`
	Skipped  string    `json:"skipped,omitempty"`
	Manual   bool      `json:"manual,omitempty"`
	// State, Kind and Node describe a robot; Drained a drain.
	State   string `json:"state,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Node    string `json:"node,omitempty"`
	Drained *bool  `json:"drained,omitempty"`
	// Leader and Term describe a leader change ("" while there is none).
	Leader string `json:"leader,omitempty"`
	Term   uint64 `json:"term,omitempty"`
}

// QueueCounts is how many jobs are in each state.
type QueueCounts struct {
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Dead      int `json:"dead"`
}

// EventFrame is one message of the stream.
type EventFrame struct {
	Type string `json:"type"`
	// Resume is the index to pass as ?since= to continue after this
	// frame without losing or repeating an event.
	Resume uint64  `json:"resume"`
	Events []Event `json:"events,omitempty"`
	// Queue is the job counts after the frame's events, sent when they
	// changed.
	Queue *QueueCounts `json:"queue,omitempty"`
	// Leader, Term and Robots are the state a hello opens with.
	Leader string  `json:"leader,omitempty"`
	Term   uint64  `json:"term,omitempty"`
	Robots []Robot `json:"robots,omitempty"`
	// Node is the node serving the stream (hello).
	Node string `json:"node,omitempty"`
	// Message explains a reload or a drop.
	Message string `json:"message,omitempty"`
}
