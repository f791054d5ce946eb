package wire

import "encoding/json"

// Port kinds of NodeTypePort.
const (
	// PortNext is a node's normal exit: a connection without a port.
	PortNext = "next"
	// PortBranch is a named exit such as true/false or body/done.
	PortBranch = "branch"
	// PortError catches the node's failure.
	PortError = "error"
)

// NodeTypePort is one port of a node type. Inputs have Name "in"; an
// output's Name is the connection's port ("" for the normal exit).
type NodeTypePort struct {
	Name string `json:"name"`
	// Kind is next, branch or error for outputs, "in" for the input.
	Kind string `json:"kind"`
}

// NodeType is one node type a workflow can use, as `casare nodes
// --output json` prints it, with its ports spelled out and a JSON Schema
// of its config.
type NodeType struct {
	Name        string         `json:"name"`
	Category    string         `json:"category"`
	Description string         `json:"description"`
	Inputs      []NodeTypePort `json:"inputs"`
	Outputs     []NodeTypePort `json:"outputs"`
	// ConfigSchema is a JSON Schema (draft 2020-12) of the node's config
	// object.
	ConfigSchema json.RawMessage `json:"config_schema"`
}

// NodeTypeField is a setting every node takes beside its config.
type NodeTypeField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// NodeTypeList is the body of GET /api/v1/node-types.
type NodeTypeList struct {
	NodeTypes []NodeType `json:"node_types"`
	// Common lists the settings every node takes beside its config
	// (timeout, retry).
	Common []NodeTypeField `json:"common"`
	// ErrorVariables names the variables a failure caught by an error
	// port sets, with what they hold.
	ErrorVariables map[string]string `json:"error_variables"`
}

// ValidateWorkflowRequest is the body of POST /api/v1/workflows/validate.
type ValidateWorkflowRequest struct {
	WorkflowJSON json.RawMessage `json:"workflow_json"`
}

// WorkflowProblem is one thing wrong with a workflow; NodeID is empty
// for problems of the workflow as a whole.
type WorkflowProblem struct {
	NodeID  string `json:"node_id,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidateWorkflowResponse is the answer to POST
// /api/v1/workflows/validate: the same checks as `casare validate`.
type ValidateWorkflowResponse struct {
	Valid    bool              `json:"valid"`
	Problems []WorkflowProblem `json:"problems"`
	// Error is set when the document is not a workflow at all (bad
	// JSON, an unknown field), with the line and column of the problem.
	Error       string `json:"error,omitempty"`
	Nodes       int    `json:"nodes"`
	Connections int    `json:"connections"`
}
