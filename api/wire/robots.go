package wire

import "time"

// Wire types of the robot fleet and robot tokens.

// Robot kinds and the states a robot can be in. LAN robots take their
// state from gossip ("alive", "dead", "left"); internet robots are
// "disconnected" when their tunnel is down and "suspect" when the node
// they are connected through is not alive. Either kind is "suspect" when
// it holds jobs it has not heartbeated for a few seconds.
const (
	RobotKindLAN      = "lan"
	RobotKindInternet = "internet"

	RobotAlive        = MemberAlive
	RobotDead         = MemberDead
	RobotLeft         = MemberLeft
	RobotSuspect      = "suspect"
	RobotDisconnected = "disconnected"
)

// Robot is one robot of the fleet.
type Robot struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	State    string   `json:"state"`
	Tags     []string `json:"tags"`
	Capacity int      `json:"capacity"`
	// Node is the node an internet robot is connected through; for a
	// LAN robot, its own node.
	Node        string    `json:"node"`
	CurrentJobs []string  `json:"current_jobs"`
	Since       time.Time `json:"since,omitzero"`
	// Drained is true while an admin has drained the robot: it finishes
	// what it runs and claims nothing more.
	Drained bool `json:"drained"`
	// LastHeartbeatAt is the last heartbeat the leader accepted from the
	// robot for a running job; absent while it runs none (an idle
	// robot's liveness is gossip's or its tunnel's, see State).
	LastHeartbeatAt time.Time `json:"last_heartbeat_at,omitzero"`
}

// RobotHandBack answers POST /api/v1/robots/{id}/handback.
type RobotHandBack struct {
	Robot Robot `json:"robot"`
	// HandedBack lists the jobs that went back to the queue.
	HandedBack []string `json:"handed_back"`
}

// RobotList is the body of GET /api/v1/robots.
type RobotList struct {
	Robots       []Robot `json:"robots"`
	AppliedIndex uint64  `json:"applied_index"`
}

// CreateRobotTokenRequest is the body of POST /api/v1/robots/tokens.
type CreateRobotTokenRequest struct {
	// Name binds the token to the robot of that name: a robot using it
	// gets that name whatever it asks for. Empty lets any robot use it
	// under the name it gives.
	Name string `json:"name,omitempty"`
	// TTL makes the token expire, a duration such as "720h"; empty
	// means never.
	TTL string `json:"ttl,omitempty"`
	// Tags and Capacity, when set, are the robot's whatever it asks for.
	Tags     []string `json:"tags,omitempty"`
	Capacity int      `json:"capacity,omitempty"`
}

// CreatedRobotToken answers POST /api/v1/robots/tokens. Token is shown
// only here: the cluster keeps only a hash of its secret.
type CreatedRobotToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Tags      []string  `json:"tags,omitempty"`
	Capacity  int       `json:"capacity,omitempty"`
}

// RobotToken is a robot token as listed: never its secret or hash.
type RobotToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Tags      []string  `json:"tags,omitempty"`
	Capacity  int       `json:"capacity,omitempty"`
	Revoked   bool      `json:"revoked"`
}

// RobotTokenList is the body of GET /api/v1/robots/tokens.
type RobotTokenList struct {
	Tokens       []RobotToken `json:"tokens"`
	AppliedIndex uint64       `json:"applied_index"`
}
