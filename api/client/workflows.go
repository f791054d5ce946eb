package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/casare/casare/api/wire"
)

// CreateWorkflow stores a workflow version and, unless req.TriggerType is
// "none", queues a job for it in the same Raft entry.
func (c workflowService) CreateWorkflow(ctx context.Context, req wire.CreateWorkflowRequest, opts ...CallOption) (wire.CreateWorkflowResponse, error) {
	return sendJSON[wire.CreateWorkflowResponse](ctx, c.conn, http.MethodPost, "/api/v1/workflows", req, opts...)
}

// Upload is a workflow file to store with UploadWorkflow. Empty fields
// take the server's defaults.
type Upload struct {
	FileName      string
	File          io.Reader
	WorkflowName  string
	TriggerType   string
	ExecutionMode string
	Priority      *int
	// The options of the job a manual trigger queues, as in
	// api.JobRequest.
	Params      json.RawMessage
	MaxAttempts *int
	UniqueKey   string
	RobotTags   []string
	PinnedRobot string
	Backoff     string
	NotBefore   string
	Deadline    string
}

// UploadWorkflow stores a workflow from a file, as a browser form would.
func (c workflowService) UploadWorkflow(ctx context.Context, up Upload, opts ...CallOption) (wire.CreateWorkflowResponse, error) {
	var out wire.CreateWorkflowResponse
	body, contentType, err := up.encode()
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/workflows/upload", body: body, contentType: contentType, opts: opts,
	}, &out)
	return out, err
}

func (up Upload) encode() (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := map[string]string{
		"workflow_name": up.WorkflowName, "trigger_type": up.TriggerType, "execution_mode": up.ExecutionMode,
		"params": string(up.Params), "unique_key": up.UniqueKey, "robot_tags": strings.Join(up.RobotTags, ","),
		"pinned_robot": up.PinnedRobot, "backoff": up.Backoff, "not_before": up.NotBefore, "deadline": up.Deadline,
	}
	if up.Priority != nil {
		fields["priority"] = strconv.Itoa(*up.Priority)
	}
	if up.MaxAttempts != nil {
		fields["max_attempts"] = strconv.Itoa(*up.MaxAttempts)
	}
	for name, value := range fields {
		if value == "" {
			continue
		}
		if err := w.WriteField(name, value); err != nil {
			return nil, "", fmt.Errorf("encode upload field %s: %w", name, err)
		}
	}
	part, err := w.CreateFormFile("file", up.FileName)
	if err != nil {
		return nil, "", fmt.Errorf("encode upload: %w", err)
	}
	if _, err := io.Copy(part, up.File); err != nil {
		return nil, "", fmt.Errorf("read workflow file %s: %w", up.FileName, err)
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("encode upload: %w", err)
	}
	return &buf, w.FormDataContentType(), nil
}

// Workflows lists every workflow, sorted by name.
func (c workflowService) Workflows(ctx context.Context, opts ...CallOption) (wire.WorkflowList, error) {
	return callFor[wire.WorkflowList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/workflows", opts: opts})
}

// Workflow returns a workflow with its latest graph.
func (c workflowService) Workflow(ctx context.Context, id string, opts ...CallOption) (wire.Workflow, error) {
	return callFor[wire.Workflow](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/workflows/" + url.PathEscape(id), opts: opts})
}

// WorkflowVersions returns every version of a workflow, oldest first.
func (c workflowService) WorkflowVersions(ctx context.Context, id string, opts ...CallOption) (wire.WorkflowVersions, error) {
	return callFor[wire.WorkflowVersions](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/workflows/" + url.PathEscape(id) + "/versions", opts: opts})
}

// DeleteWorkflow deletes a workflow. Without force the server refuses
// while the workflow has queued or running jobs; with it, it cancels
// them.
func (c workflowService) DeleteWorkflow(ctx context.Context, id string, force bool, opts ...CallOption) error {
	query := url.Values{}
	if force {
		query.Set("force", "true")
	}
	return c.call(ctx, request{
		method: http.MethodDelete, path: "/api/v1/workflows/" + url.PathEscape(id), query: query, opts: opts,
	}, nil)
}
