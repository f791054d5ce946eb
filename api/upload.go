package api

import (
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
var uploadFields = map[string]bool{
	"workflow_name": true, "trigger_type": true, "execution_mode": true, "priority": true,
	"cron": true, "timezone": true, "misfire": true, "catchup_window": true, "overlap": true,
}

// maxFieldBytes bounds one plain form field.
const maxFieldBytes = 4 << 10

// readUpload streams the multipart body part by part, so an upload is
// never spooled to disk, and refuses parts it does not know.
func (s *Server) readUpload(c *gin.Context) (*uploadForm, error) {
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
	}
	if raw, ok := f.fields["priority"]; ok {
		p, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			e := invalidField("priority", "must be an integer, not %q", raw)
			e.details["expected"] = "integer"
			return req, e
		}
		req.Priority = &p
	}
	return req, nil
}

// baseName names the workflow after its file when nothing else does.
func (f *uploadForm) baseName() string {
	base := path.Base(strings.ReplaceAll(f.fileName, `\`, "/"))
	if base == "." || base == "/" {
		return ""
	}
	return strings.TrimSuffix(base, path.Ext(base))
}
