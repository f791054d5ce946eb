package node

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// TestSlowBodyIsCutOffAtTheReadTimeout: a client that sends its request
// body a byte at a time loses its connection once the read timeout has
// passed, instead of holding it for as long as it trickles.
func TestSlowBodyIsCutOffAtTheReadTimeout(t *testing.T) {
	const readTimeout = time.Second
	cfg := testConfig(t, "solo", "")
	cfg.HTTPTimeouts = api.Timeouts{Read: readTimeout}
	n := startNode(t, cfg)

	took, held := trickleBody(t, n.HTTPAddr(), "/api/v1/jobs", 15*time.Second)
	if held {
		t.Fatalf("a slow body still held its connection after %v (read timeout %v)", took.Round(time.Millisecond), readTimeout)
	}
	if took < readTimeout {
		t.Fatalf("connection ended after %v, before the read timeout", took)
	}
	t.Logf("a slow body was cut off after %v (read timeout %v)", took.Round(time.Millisecond), readTimeout)
}

// trickleBody sends a POST to path on addr whose body comes a byte
// every 100 ms, and reads until the server closes the connection or
// bound passes. It returns how long that took, and whether the
// connection was still held at bound.
func trickleBody(t *testing.T, addr, path string, bound time.Duration) (took time.Duration, held bool) {
	t.Helper()
	// The clock starts before the dial: the server may accept, and start
	// its read timeout, before Dial returns here.
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: casare\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", path)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() { // the slow body: one byte every 100 ms
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	// The server answers or just closes; either way the connection ends.
	conn.SetReadDeadline(time.Now().Add(bound))
	_, err = io.Copy(io.Discard, conn)
	ne, ok := err.(net.Error)
	return time.Since(start), ok && ne.Timeout()
}

// openFollow starts a log stream of job id and returns its response.
func openFollow(t *testing.T, addr, token, id string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/api/v1/jobs/"+id+"/logs?follow=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestLogFollowersAreCappedAndOutliveTheWriteTimeout: log streams beyond
// the node's cap are refused with 503 too_many_streams and Retry-After, a
// closed stream frees its slot, and a stream outlives the server's write
// timeout (it sets its own deadlines as it goes).
func TestLogFollowersAreCappedAndOutliveTheWriteTimeout(t *testing.T) {
	// Short, to see a stream outlive it, but long enough for the calls
	// that set the test up on a busy machine.
	const writeTimeout = 3 * time.Second
	cfg := testConfig(t, "solo", "")
	cfg.Robot = false // the job stays queued, its streams open
	cfg.MaxLogFollowers = 2
	cfg.HTTPTimeouts = api.Timeouts{Read: writeTimeout, Write: writeTimeout}
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	res, err := c.CreateWorkflow(t.Context(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}

	first := openFollow(t, n.HTTPAddr(), adminToken(t, n), res.JobID)
	second := openFollow(t, n.HTTPAddr(), adminToken(t, n), res.JobID)
	if first.StatusCode != http.StatusOK || second.StatusCode != http.StatusOK {
		t.Fatalf("streams within the cap: %d, %d", first.StatusCode, second.StatusCode)
	}
	third := openFollow(t, n.HTTPAddr(), adminToken(t, n), res.JobID)
	var refused api.ErrorResponse
	json.NewDecoder(third.Body).Decode(&refused)
	if third.StatusCode != http.StatusServiceUnavailable || refused.Error.Code != "too_many_streams" || third.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream beyond the cap: %d %+v (Retry-After %q)", third.StatusCode, refused.Error, third.Header.Get("Retry-After"))
	}

	second.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		again := openFollow(t, n.HTTPAddr(), adminToken(t, n), res.JobID)
		again.Body.Close()
		if again.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream's slot was not freed: %d", again.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Let the server's read and write timeouts pass, then end the job: the
	// first stream still carries its end event.
	time.Sleep(2 * writeTimeout)
	if _, err := c.CancelJob(t.Context(), res.JobID, "test"); err != nil {
		t.Fatal(err)
	}
	events := bufio.NewScanner(first.Body)
	for events.Scan() {
		if strings.HasPrefix(events.Text(), "event: end") {
			return
		}
	}
	t.Fatalf("the stream ended without its end event: %v", events.Err())
}
