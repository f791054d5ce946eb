package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// fuzzJob builds a job from fuzzed parts: the strings go into every
// string field in turn, so escapes and HTML characters reach each.
func fuzzJob(s1, s2 string, params []byte, n int64, unix int64, flags uint8) Job {
	at := time.Unix(unix, n%1e9).UTC()
	if flags&1 != 0 {
		at = at.In(time.FixedZone("odd", int(n%(48*3600))))
	}
	j := Job{
		ID: s1, WorkflowID: s2, WorkflowVersion: int(n), State: "queued", Priority: int(n >> 8),
		ExecutionMode: s1, Attempt: int(n % 7), MaxAttempts: 3, RobotID: s2, Params: params,
		CreatedAt: at, UpdatedAt: at, Late: flags&2 != 0, Source: SourceRaft,
	}
	if flags&4 != 0 {
		j.RobotTags = []string{s1, s2}
		j.PinnedRobot, j.UniqueKey, j.Backoff, j.ScheduleID, j.RerunOf = s2, s1, s2, s1, s2
		j.NotBefore, j.Deadline, j.FireTime = at, at.Add(time.Hour), at
	}
	if flags&8 != 0 {
		j.Error, j.FailureKind, j.WaitingReason = s1, s2, s1
		j.LeaseExpiresAt, j.StartedAt, j.FinishedAt = at, at, at
	}
	if flags&16 != 0 {
		j.Attempts = []JobAttempt{{Attempt: 1, RobotID: s1, StartedAt: at}}
		j.NodeStatus = map[string]string{s1: s2}
	}
	if flags&32 != 0 {
		j.RobotTags = []string{}
	}
	return j
}

// FuzzAppendJobJSON holds the hand-written encoding of a job to what
// encoding/json writes (and gin's c.JSON wrote before it): the same
// bytes, or an error where encoding/json fails.
func FuzzAppendJobJSON(f *testing.F) {
	f.Add("job-1", "w1", []byte(`{}`), int64(1), int64(1_700_000_000), uint8(0))
	f.Add("a<b>&c", "é\u2028\"\\\n", []byte(`{"a": "<x>", "b":[1, 2]}`), int64(-5), int64(1_700_000_000), uint8(255))
	f.Add("x", "y", []byte(`{"a":"b"}`), int64(99), int64(300_000_000_000), uint8(4))
	f.Add("x", "y", []byte(nil), int64(7), int64(-70_000_000_000), uint8(9))
	f.Add("x", "y", []byte(`{"a":`), int64(3600*30), int64(0), uint8(1))
	f.Add("x", "y", []byte("\"\xff\""), int64(2), int64(5), uint8(36))
	f.Fuzz(func(t *testing.T, s1, s2 string, params []byte, n, unix int64, flags uint8) {
		j := fuzzJob(s1, s2, params, n, unix, flags)
		want, wantErr := json.Marshal(j)
		got, err := appendJobJSON([]byte("prefix"), &j)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, encoding/json's %v", err, wantErr)
		}
		if wantErr != nil {
			return
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("wrote\n%s\nencoding/json wrote\nprefix%s", got, want)
		}
	})
}

// TestWriteJobsAsGin checks the whole answer, batch and single, against
// what gin's c.JSON writes for the same value: status, content type and
// body.
func TestWriteJobsAsGin(t *testing.T) {
	gin.SetMode(gin.TestMode)
	at := time.Date(2026, 12, 1, 2, 3, 4, 5, time.UTC)
	jobs := []Job{
		fuzzJob("j1", "w1", []byte(`{"n":1}`), 1, at.Unix(), 0),
		fuzzJob("j2", "w<1>", []byte(`{"n": 2}`), 2, at.Unix(), 4|8|16),
	}
	cases := []struct {
		name  string
		jobs  []Job
		batch bool
		want  any
	}{
		{"batch", jobs, true, BatchJobsResponse{Jobs: jobs}},
		{"empty batch", []Job{}, true, BatchJobsResponse{Jobs: []Job{}}},
		{"single", jobs[:1], false, jobs[0]},
		{"single with escapes", jobs[1:], false, jobs[1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(got)
			writeJobs(c, http.StatusCreated, len(tc.jobs), tc.batch, func(i int) *Job { return &tc.jobs[i] })
			want := httptest.NewRecorder()
			c, _ = gin.CreateTestContext(want)
			c.JSON(http.StatusCreated, tc.want)
			if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Fatalf("status %d %q, gin's %d %q", got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("body\n%s\ngin's\n%s", got.Body.Bytes(), want.Body.Bytes())
			}
		})
	}
}
