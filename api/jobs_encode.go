package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/internal/plainjson"
)

// A submit answers every job it queued. Under batched submits the
// reflective encoding of that answer (gin's c.JSON, encoding/json) was
// 7–9% of the CPU of the node that served the call (bench/queue
// -cpuprofile, POST /jobs/batch ×100). The jobs a submit makes are plain:
// strings, numbers, times, the params, maybe tags. appendJobJSON writes
// those directly, byte for byte what encoding/json writes, and hands a
// job with anything else (attempts, logs, a result, a string that needs
// escaping) to encoding/json; FuzzAppendJobJSON holds the two equal.

// jobJSONSize is room for one job in an answer: a queued job without
// params or tags writes about 340 bytes.
const jobJSONSize = 384

// jsonContentType is the content type gin's c.JSON sets.
const jsonContentType = "application/json; charset=utf-8"

// writeJobs answers status with {"jobs":[...]} when batch is set, or
// with the one job otherwise; view(i) shows the i-th of n jobs. A view
// at a time, so that a submit's answer needs no slice of a hundred views
// (8% of the bytes the nodes allocated under batched submits,
// bench/queue -cpuprofile).
func writeJobs(c *gin.Context, status, n int, batch bool, view func(i int) *Job) {
	buf := make([]byte, 0, 64+n*jobJSONSize)
	if batch {
		buf = append(buf, `{"jobs":[`...)
	}
	var err error
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = appendJobJSON(buf, view(i)); err != nil {
			_ = c.Error(err)
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
	}
	if batch {
		buf = append(buf, "]}"...)
	}
	c.Data(status, jsonContentType, buf)
}

// appendJobJSON appends j as encoding/json.Marshal writes it.
func appendJobJSON(buf []byte, j *Job) ([]byte, error) {
	if !plainJob(j) {
		return appendMarshal(buf, j)
	}
	start := len(buf)
	buf = append(buf, `{"id":`...)
	buf = plainjson.AppendString(buf, j.ID)
	buf = append(buf, `,"workflow_id":`...)
	buf = plainjson.AppendString(buf, j.WorkflowID)
	buf = append(buf, `,"workflow_version":`...)
	buf = strconv.AppendInt(buf, int64(j.WorkflowVersion), 10)
	buf = append(buf, `,"state":`...)
	buf = plainjson.AppendString(buf, j.State)
	buf = append(buf, `,"priority":`...)
	buf = strconv.AppendInt(buf, int64(j.Priority), 10)
	buf = append(buf, `,"execution_mode":`...)
	buf = plainjson.AppendString(buf, j.ExecutionMode)
	buf = append(buf, `,"attempt":`...)
	buf = strconv.AppendInt(buf, int64(j.Attempt), 10)
	buf = append(buf, `,"max_attempts":`...)
	buf = strconv.AppendInt(buf, int64(j.MaxAttempts), 10)
	buf = append(buf, `,"robot_id":`...)
	buf = plainjson.AppendString(buf, j.RobotID)
	if len(j.RobotTags) > 0 {
		buf = append(buf, `,"robot_tags":[`...)
		for i, t := range j.RobotTags {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = plainjson.AppendString(buf, t)
		}
		buf = append(buf, ']')
	}
	buf = plainjson.AppendNonEmpty(buf, `,"pinned_robot":`, j.PinnedRobot)
	buf = append(buf, `,"params":`...)
	if j.Params == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, j.Params...)
	}
	buf = plainjson.AppendNonEmpty(buf, `,"error":`, j.Error)
	buf = plainjson.AppendNonEmpty(buf, `,"failure_kind":`, j.FailureKind)
	buf = plainjson.AppendNonEmpty(buf, `,"unique_key":`, j.UniqueKey)
	buf = plainjson.AppendNonEmpty(buf, `,"backoff":`, j.Backoff)
	buf, ok := plainjson.AppendNonZeroTime(buf, `,"lease_expires_at":`, j.LeaseExpiresAt)
	buf, ok2 := plainjson.AppendNonZeroTime(buf, `,"not_before":`, j.NotBefore)
	buf, ok3 := plainjson.AppendNonZeroTime(buf, `,"deadline":`, j.Deadline)
	buf = append(buf, `,"late":`...)
	buf = strconv.AppendBool(buf, j.Late)
	buf = plainjson.AppendNonEmpty(buf, `,"waiting_reason":`, j.WaitingReason)
	buf = plainjson.AppendNonEmpty(buf, `,"schedule_id":`, j.ScheduleID)
	buf, ok4 := plainjson.AppendNonZeroTime(buf, `,"fire_time":`, j.FireTime)
	buf = append(buf, `,"created_at":`...)
	buf, ok5 := plainjson.AppendTime(buf, j.CreatedAt)
	buf = append(buf, `,"updated_at":`...)
	buf, ok6 := plainjson.AppendTime(buf, j.UpdatedAt)
	buf, ok7 := plainjson.AppendNonZeroTime(buf, `,"started_at":`, j.StartedAt)
	buf, ok8 := plainjson.AppendNonZeroTime(buf, `,"finished_at":`, j.FinishedAt)
	buf = plainjson.AppendNonEmpty(buf, `,"rerun_of":`, j.RerunOf)
	buf = append(buf, `,"source":`...)
	buf = plainjson.AppendString(buf, j.Source)
	buf = append(buf, '}')
	if !(ok && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) {
		// A time RFC 3339 cannot write: encoding/json says why.
		return appendMarshal(buf[:start], j)
	}
	return buf, nil
}

// plainJob reports whether appendJobJSON writes j itself: no field it
// leaves to encoding/json is set, and no string or params needs
// escaping or compacting.
func plainJob(j *Job) bool {
	if len(j.Result) > 0 || len(j.Attempts) > 0 || len(j.Checkpoint) > 0 || len(j.LastLogs) > 0 || len(j.NodeStatus) > 0 {
		return false
	}
	for _, t := range j.RobotTags {
		if !plainjson.Plain(t) {
			return false
		}
	}
	return plainjson.Plain(j.ID) && plainjson.Plain(j.WorkflowID) && plainjson.Plain(j.State) &&
		plainjson.Plain(j.ExecutionMode) && plainjson.Plain(j.RobotID) && plainjson.Plain(j.PinnedRobot) &&
		plainjson.Plain(j.Error) && plainjson.Plain(j.FailureKind) && plainjson.Plain(j.UniqueKey) &&
		plainjson.Plain(j.Backoff) && plainjson.Plain(j.WaitingReason) && plainjson.Plain(j.ScheduleID) &&
		plainjson.Plain(j.RerunOf) && plainjson.Plain(j.Source) && plainParams(j.Params)
}

// plainParams reports whether encoding/json writes raw params as they
// are: valid JSON of printable ASCII, with no white space to compact
// and nothing it escapes for HTML.
func plainParams(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	for _, c := range raw {
		if c <= ' ' || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return json.Valid(raw)
}

func appendMarshal(buf []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}
