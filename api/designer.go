package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/executor"
)

// nodeTypes answers GET /api/v1/node-types: the executor's node registry,
// the one `casare nodes` prints, for the designer's library and forms.
func (s workflowsAPI) nodeTypes(c *gin.Context) {
	list, err := nodeTypeList()
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

// nodeTypeList maps the executor's node types to their wire form.
func nodeTypeList() (NodeTypeList, error) {
	types := executor.NodeTypes()
	out := NodeTypeList{NodeTypes: make([]NodeType, 0, len(types)), ErrorVariables: map[string]string{}}
	for _, t := range types {
		schema, err := json.Marshal(t.ConfigSchema())
		if err != nil {
			return NodeTypeList{}, err
		}
		nt := NodeType{Name: t.Name, Category: t.Category, Description: t.Description, ConfigSchema: schema,
			Inputs: []NodeTypePort{}, Outputs: []NodeTypePort{}}
		// Every node but start is entered by a connection.
		if t.Name != "start" {
			nt.Inputs = append(nt.Inputs, NodeTypePort{Name: "in", Kind: "in"})
		}
		for _, p := range t.Ports {
			kind := "branch"
			if p == "" {
				kind = "next"
			}
			nt.Outputs = append(nt.Outputs, NodeTypePort{Name: p, Kind: kind})
		}
		if t.ErrorPort {
			nt.Outputs = append(nt.Outputs, NodeTypePort{Name: "error", Kind: "error"})
		}
		out.NodeTypes = append(out.NodeTypes, nt)
	}
	for _, f := range executor.CommonFields() {
		out.Common = append(out.Common, NodeTypeField{Name: f.Name, Type: string(f.Type), Description: f.Description})
	}
	for _, v := range executor.ErrorVariables() {
		out.ErrorVariables[v[0]] = v[1]
	}
	return out, nil
}

// validateWorkflow answers POST /api/v1/workflows/validate with the
// checks of `casare validate` (and of saving): it stores nothing. A
// workflow with problems is a 200 that lists them, since finding them is
// what was asked; a body without workflow_json is a 400.
func (s workflowsAPI) validateWorkflow(c *gin.Context) {
	var req ValidateWorkflowRequest
	data, err := readJSONBody(c, s.cfg.MaxBodyBytes)
	if err == nil {
		err = decodeStrict(data, &req)
	}
	if err == nil && isAbsent(req.WorkflowJSON) {
		err = missingFields("workflow_json")
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, validationReport(req.WorkflowJSON))
}

// validationReport runs the validator over one workflow document.
func validationReport(doc json.RawMessage) ValidateWorkflowResponse {
	resp := ValidateWorkflowResponse{Problems: []WorkflowProblem{}}
	if !isJSONObject(doc) {
		resp.Error = "workflow_json must be a JSON object holding the workflow"
		return resp
	}
	wf, err := executor.Parse(doc)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	resp.Nodes, resp.Connections = len(wf.Nodes), len(wf.Connections)
	err = executor.Validate(wf)
	var verr *executor.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, p := range verr.Problems {
			resp.Problems = append(resp.Problems, WorkflowProblem{NodeID: p.NodeID, Field: p.Field, Message: p.Message})
		}
	case err != nil:
		resp.Error = err.Error()
	}
	// Saving also refuses control characters in names; say so now.
	if err := checkGraphNames(wf); err != nil {
		resp.Error = asAPIError(err).message
	}
	resp.Valid = len(resp.Problems) == 0 && resp.Error == ""
	return resp
}
