//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

func TestReadHead(t *testing.T) {
	for _, tc := range []struct {
		answer         string
		status, length int
		fails          bool
	}{
		{answer: "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\ncontent-length: 12\r\n\r\n", status: 201, length: 12},
		{answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", status: 200, length: -1},
		{answer: "HTTP/1.1 2x1 Created\r\n\r\n", fails: true},
		{answer: "SMTP ready\r\n\r\n", fails: true},
		{answer: "HTTP/1.1 201 Created\r\nContent-Length: -4\r\n\r\n", fails: true},
		{answer: "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n", fails: true}, // the head never ends
	} {
		status, length, err := readHead(bufio.NewReader(strings.NewReader(tc.answer)))
		if (err != nil) != tc.fails || (!tc.fails && (status != tc.status || length != tc.length)) {
			t.Errorf("%q: status %d, length %d, err %v", tc.answer, status, length, err)
		}
	}
}

// FuzzReadHead: any answer is read or refused, never a panic or a
// negative length with a nil error and no status.
func FuzzReadHead(f *testing.F) {
	f.Add("HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n")
	f.Add("HTTP/1.1 500 Internal Server Error\r\n\r\n")
	f.Fuzz(func(t *testing.T, answer string) {
		status, _, err := readHead(bufio.NewReader(strings.NewReader(answer)))
		if err == nil && (status < 0 || status > 999) {
			t.Fatalf("status %d read from %q", status, answer)
		}
	})
}

// A submitter sends what the API client sends, one job or a batch, and
// reads answers one after another on its connection; another answer
// than 201 is an error that names it.
func TestSubmitterSendsTheJobAndReadsTheAnswer(t *testing.T) {
	job := api.JobRequest{WorkflowID: "w", ExecutionMode: "lan"}
	for _, tc := range []struct {
		path string
		body any
		jobs int // the jobs the body must hold
	}{
		{path: "/api/v1/jobs", body: job, jobs: 1},
		{path: "/api/v1/jobs/batch", body: api.BatchJobsRequest{Jobs: []api.JobRequest{job, job, job}}, jobs: 3},
	} {
		t.Run(tc.path, func(t *testing.T) { testSubmitter(t, tc.path, tc.body, tc.jobs) })
	}
}

func testSubmitter(t *testing.T, path string, body any, jobs int) {
	var calls, conns atomic.Int32
	// The second answer is larger than the submitter's read buffer, as a
	// batch's answer is, so that reading past it is tested too.
	large := `{"jobs":"` + strings.Repeat("x", 8<<10) + `"}`
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != path || r.Header.Get("Authorization") != "Bearer tok" ||
			r.Header.Get("Content-Type") != "application/json" || sentJobs(r) != jobs {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if n == 3 {
			http.Error(w, `{"error":{"code":"no_leader"}}`, http.StatusServiceUnavailable)
			return
		}
		answer := `{"id":"j"}`
		if n == 2 {
			answer = large
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(answer))
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s, err := newSubmitter(strings.TrimPrefix(srv.URL, "http://"), "tok", path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSubmitters([]*submitter{s})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		if err := s.submit(ctx); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("two submits opened %d connections, want one kept alive", n)
	}
	if err := s.submit(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), path) {
		t.Fatalf("a 503 answered %v", err)
	}
	if err := s.submit(ctx); err != nil {
		t.Fatalf("submit after a failure: %v", err)
	}
}

// sentJobs counts the jobs a request's body holds: one JobRequest, or a
// BatchJobsRequest's; -1 when it holds neither.
func sentJobs(r *http.Request) int {
	var batch api.BatchJobsRequest
	var one api.JobRequest
	raw, err := io.ReadAll(r.Body)
	switch {
	case err != nil:
		return -1
	case strings.HasSuffix(r.URL.Path, "/batch") && json.Unmarshal(raw, &batch) == nil:
		return len(batch.Jobs)
	case json.Unmarshal(raw, &one) == nil && one.WorkflowID != "":
		return 1
	}
	return -1
}
