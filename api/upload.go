package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// uploadForm is a parsed POST /api/v1/workflows/upload.
type uploadForm struct {
	fileName string
	file     []byte
	fields   map[string]string
}

// uploadFields are the form fields an upload may carry besides file.
// The job options mean what they mean in a JSON create request;
// robot_tags is comma separated and params a JSON object.
var uploadFields = map[string]bool{
	"workflow_name": true, "trigger_type": true, "execution_mode": true, "priority": true,
	"cron": true, "timezone": true, "misfire": true, "catchup_window": true, "overlap": true,
	"params": true, "max_attempts": true, "unique_key": true, "robot_tags": true, "pinned_robot": true,
	"backoff": true, "not_before": true, "deadline": true,
}

// maxFieldBytes bounds one plain form field.
const maxFieldBytes = 4 << 10

// readUpload streams the multipart body part by part, so an upload is
// never spooled to disk, and refuses parts it does not know.
func (s workflowsAPI) readUpload(c *gin.Context) (*uploadForm, error) {
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, newError(CodeUnsupportedMedia, "upload must be multipart/form-data with the workflow in field \"file\"")
	}
	limit := s.cfg.MaxUploadBytes
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, invalid("read multipart body: %v", err)
	}
	form := &uploadForm{fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyError(err, limit)
		}
		if err := form.add(part.FormName(), part.FileName(), part, limit); err != nil {
			return nil, err
		}
	}
	if form.file == nil {
		return nil, missingFields("file")
	}
	return form, nil
}

func (f *uploadForm) add(name, fileName string, r io.Reader, limit int64) error {
	switch {
	case name == "file":
		if f.file != nil {
			return invalidField("file", "appears more than once")
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return bodyError(err, limit)
		}
		if err := checkUTF8(data, "file."); err != nil {
			return err
		}
		if err := checkContainers(data, "file", limit); err != nil {
			return err
		}
		f.file, f.fileName = data, fileName
	case uploadFields[name]:
		data, err := io.ReadAll(io.LimitReader(r, maxFieldBytes+1))
		if err != nil {
			return bodyError(err, limit)
		}
		if len(data) > maxFieldBytes {
			return invalidField(name, "is longer than %d bytes", maxFieldBytes)
		}
		f.fields[name] = string(data)
	default:
		e := invalidField(name, "unknown form field")
		e.message = fmt.Sprintf("unknown form field %q", name)
		return e
	}
	return nil
}

// request turns the form into the equivalent JSON create request.
func (f *uploadForm) request() (CreateWorkflowRequest, error) {
	req := CreateWorkflowRequest{
		WorkflowName: f.fields["workflow_name"], WorkflowJSON: f.file,
		TriggerType: f.fields["trigger_type"], ExecutionMode: f.fields["execution_mode"],
		Cron: f.fields["cron"], Timezone: f.fields["timezone"], Misfire: f.fields["misfire"],
		CatchupWindow: f.fields["catchup_window"], Overlap: f.fields["overlap"],
		UniqueKey: f.fields["unique_key"], PinnedRobot: f.fields["pinned_robot"], Backoff: f.fields["backoff"],
		NotBefore: f.fields["not_before"], Deadline: f.fields["deadline"],
	}
	if raw, ok := f.fields["params"]; ok {
		req.Params = json.RawMessage(raw)
	}
	if raw, ok := f.fields["robot_tags"]; ok {
		req.RobotTags = strings.Split(raw, ",")
	}
	var err error
	if req.Priority, err = f.intField("priority"); err != nil {
		return req, err
	}
	req.MaxAttempts, err = f.intField("max_attempts")
	return req, err
}

// intField reads an optional integer form field.
func (f *uploadForm) intField(name string) (*int, error) {
	raw, ok := f.fields[name]
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		e := invalidField(name, "must be an integer, not %q", raw)
		e.details["expected"] = "integer"
		return nil, e
	}
	return &n, nil
}

// baseName names the workflow after its file when nothing else does.
func (f *uploadForm) baseName() string {
	base := path.Base(strings.ReplaceAll(f.fileName, `\`, "/"))
	if base == "." || base == "/" {
		return ""
	}
	return strings.TrimSuffix(base, path.Ext(base))
}
