package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// stream is a WebSocket client of GET /api/v1/events.
type stream struct {
	conn *websocket.Conn
}

func dialEvents(t *testing.T, node *apitest.Node, query string) *stream {
	t.Helper()
	return dialEventsWith(t, node, query, nil)
}

// dialSmallWindow connects with a 4 KiB receive buffer, so that a client
// that stops reading fills the connection after a few frames, as a slow
// browser on a slow link does.
func dialSmallWindow(t *testing.T, node *apitest.Node, query string) *stream {
	t.Helper()
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = setRecvBuffer(fd, 4096) })
		return errors.Join(err, serr)
	}}
	return dialEventsWith(t, node, query, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}})
}

// openSSE opens the stream as server-sent events, as curl users do; the
// body is closed when the test ends. Like dialEventsWith, it is the one
// place that would add credentials.
func openSSE(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+apitest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func dialEventsWith(t *testing.T, node *apitest.Node, query string, hc *http.Client) *stream {
	t.Helper()
	url := "ws" + strings.TrimPrefix(node.URL, "http") + "/api/v1/events" + query
	conn, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"Bearer " + apitest.AdminToken}},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(64 << 20) // a backlog frame holds thousands of events
	t.Cleanup(func() { conn.CloseNow() })
	return &stream{conn: conn}
}

// next reads one frame, failing the test after timeout.
func (s *stream) next(t *testing.T, timeout time.Duration) (api.EventFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return api.EventFrame{}, err
	}
	var f api.EventFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("decode frame %s: %v", data, err)
	}
	return f, nil
}

// jobEvents collects "job state" events by job id and the resume index
// of the last frame read.
type jobEvents struct {
	seen   map[string][]string // job id → states, in order
	resume uint64
}

func (j *jobEvents) take(t *testing.T, f api.EventFrame) {
	t.Helper()
	if f.Type != api.FrameEvents && f.Type != api.FrameHello {
		t.Fatalf("unexpected %s frame: %s", f.Type, f.Message)
	}
	for _, e := range f.Events {
		if e.Index == 0 {
			t.Fatalf("event without a Raft index: %+v", e)
		}
		if e.Type == api.EventJob {
			j.seen[e.JobID] = append(j.seen[e.JobID], e.To)
		}
	}
	j.resume = f.Resume
}

func submitN(t *testing.T, node *apitest.Node, wf string, prefix string, n int) []string {
	t.Helper()
	specs := make([]consensus.JobSpec, n)
	ids := make([]string, n)
	for i := range specs {
		ids[i] = fmt.Sprintf("%s-%03d", prefix, i)
		specs[i] = consensus.JobSpec{ID: ids[i], WorkflowID: wf, ExecutionMode: consensus.ModeAny}
	}
	if _, err := node.Store.SubmitJobs(t.Context(), specs); err != nil {
		t.Fatalf("submit %s: %v", prefix, err)
	}
	return ids
}

func createWorkflow(t *testing.T, node *apitest.Node) string {
	t.Helper()
	created, err := node.Client.CreateWorkflow(t.Context(), api.CreateWorkflowRequest{
		WorkflowName: "events", WorkflowJSON: []byte(helloWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	return created.WorkflowID
}

// twoNodes runs a leader and a follower that replicates it; the stream
// is read from the follower, whose events come from its own applies.
func twoNodes(t *testing.T, adjust func(*api.Config)) (leader, follower *apitest.Node) {
	t.Helper()
	leader = apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: adjust})
	leader.WaitLeaderKnown(t, 10*time.Second)
	follower = apitest.Start(t, apitest.Config{Name: "n2", API: adjust})
	if _, err := leader.Peer.Join(t.Context(), follower.JoinRequest()); err != nil {
		t.Fatalf("join n2: %v", err)
	}
	follower.WaitLeaderKnown(t, 10*time.Second)
	return leader, follower
}

// A client that reconnects with since= gets every job event it missed,
// once, in order: queued, then running and succeeded for the jobs a
// robot ran while it was away.
func TestEventStreamResumesWithoutLoss(t *testing.T) {
	t.Parallel()
	leader, follower := twoNodes(t, nil)
	wf := createWorkflow(t, leader)

	s := dialEvents(t, follower, "")
	got := &jobEvents{seen: map[string][]string{}}
	hello, err := s.next(t, 10*time.Second)
	if err != nil || hello.Type != api.FrameHello || hello.Node != "n2" || hello.Queue == nil {
		t.Fatalf("first frame %+v, %v; want n2's hello with queue counts", hello, err)
	}
	got.take(t, hello)
	before := submitN(t, leader, wf, "before", 20)
	apitest.WaitFor(t, 10*time.Second, "the 20 jobs' queued events", func() bool {
		f, err := s.next(t, 10*time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got.take(t, f)
		return len(got.seen) == 20
	})
	s.conn.Close(websocket.StatusNormalClosure, "going away for a while")

	// While the client is away: more jobs, and a robot runs some of them.
	during := submitN(t, leader, wf, "during", 30)
	claimed, err := leader.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 5})
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d jobs, %v", len(claimed), err)
	}
	done := consensus.CompleteCmd{RobotID: "r1"}
	for _, c := range claimed {
		done.Items = append(done.Items, consensus.Completion{JobID: c.Job.ID, Token: c.Job.Lease.Token, Succeeded: true})
	}
	if _, err := leader.Store.Complete(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	last := submitN(t, leader, wf, "after", 1)

	s = dialEvents(t, follower, fmt.Sprintf("?since=%d", got.resume))
	hello, err = s.next(t, 10*time.Second)
	if err != nil || hello.Type != api.FrameHello || hello.Resume != got.resume {
		t.Fatalf("hello after resume: %+v, %v; want resume %d", hello, err, got.resume)
	}
	apitest.WaitFor(t, 10*time.Second, "the events missed while away", func() bool {
		f, err := s.next(t, 10*time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got.take(t, f)
		return len(got.seen[last[0]]) > 0
	})
	ran := map[string]bool{}
	for _, c := range claimed {
		ran[c.Job.ID] = true
	}
	for _, id := range append(before, during...) {
		want := "queued"
		if ran[id] {
			want = "queued running succeeded"
		}
		if g := strings.Join(got.seen[id], " "); g != want {
			t.Errorf("job %s: events %q, want %q", id, g, want)
		}
	}
}

// A since older than the node holds is answered with a reload frame that
// says why, over WebSocket and over server-sent events.
func TestEventStreamAnswersReloadWhenSinceIsTooOld(t *testing.T) {
	t.Parallel()
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) { c.EventBuffer = 8 }})
	node.WaitLeaderKnown(t, 10*time.Second)
	wf := createWorkflow(t, node)
	submitN(t, node, wf, "job", 20) // 20 events overflow a buffer of 8

	s := dialEvents(t, node, "?since=1")
	f, err := s.next(t, 10*time.Second)
	if err != nil || f.Type != api.FrameReload || !strings.Contains(f.Message, "older than the oldest event") {
		t.Fatalf("frame %+v, %v; want a reload", f, err)
	}
	if _, err := s.next(t, 10*time.Second); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after the reload frame: %v, want a normal close", err)
	}

	resp := openSSE(t, node.URL+"/api/v1/events?since=1")
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() && sc.Text() != "" {
		lines = append(lines, sc.Text())
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" || len(lines) != 3 || lines[1] != "event: reload" {
		t.Errorf("server-sent answer %s: %q, want a reload event", resp.Header.Get("Content-Type"), lines)
	}

	bad := get(t, node.URL+"/api/v1/events?since=yesterday")
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.apiError(t).Message, "since") {
		t.Errorf("since=yesterday: %d %s, want 400 naming since", bad.status, bad.body)
	}
	plain := get(t, node.URL+"/api/v1/events")
	if plain.status != http.StatusBadRequest || !strings.Contains(plain.apiError(t).Message, "text/event-stream") {
		t.Errorf("plain GET: %d %s, want 400 saying how to connect", plain.status, plain.body)
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The API server's read and write timeouts bound ordinary requests; a
// WebSocket or server-sent event stream outlives them and still delivers.
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := createWorkflow(t, node)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const short = 300 * time.Millisecond
	srv := api.NewHTTPServer(api.New(api.Config{Store: node.Store, NodeName: "n1"}), api.Timeouts{Read: short, Write: short})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	timed := &apitest.Node{Name: "n1", URL: "http://" + ln.Addr().String()}

	ws := dialEvents(t, timed, "")
	sse := bufio.NewScanner(openSSE(t, timed.URL+"/api/v1/events").Body)
	if f, err := ws.next(t, 10*time.Second); err != nil || f.Type != api.FrameHello {
		t.Fatalf("hello: %+v, %v", f, err)
	}
	time.Sleep(4 * short) // the property under test: outlive the timeouts
	ids := submitN(t, node, wf, "late", 1)
	got := &jobEvents{seen: map[string][]string{}}
	apitest.WaitFor(t, 10*time.Second, "the WebSocket to deliver the job after the timeouts", func() bool {
		f, err := ws.next(t, 10*time.Second)
		if err != nil {
			t.Fatalf("WebSocket after %v: %v", 4*short, err)
		}
		got.take(t, f)
		return len(got.seen[ids[0]]) > 0
	})
	for sse.Scan() {
		if strings.Contains(sse.Text(), ids[0]) {
			return
		}
	}
	t.Fatalf("server-sent events ended without the job: %v", sse.Err())
}
