package node

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/casare/casare/mesh"
)

// newServerProxy sends a robot-only node's API traffic to a live server,
// so every member answers the same API. It keeps away from a server that
// answered no_leader, as the node's robot does (shunned): such a server
// may be cut off from the others while this node still reaches it, and
// every write sent there would wait NoLeaderWait and fail. A server that
// is replaying its log after a restart, or no longer a member, is shunned
// likewise (sendsElsewhere).
func newServerProxy(m *mesh.Mesh, log *slog.Logger) http.Handler {
	avoid := newShunned()
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := cmp.Or(avoid.pick(liveServers(m, httpAddr), time.Now()), "no-live-server.invalid")
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = target
			// The Host the browser used goes on: the server checks a
			// WebSocket's Origin (the event stream) against it, and
			// builds redirect URLs that must lead back here.
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			if answeredElsewhere(resp) {
				avoid.add(resp.Request.URL.Host, time.Now())
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			log.Warn("proxy to server failed", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": "no_server", "message": "this robot-only node reaches no live server: " + err.Error(),
			}})
		},
	}
}

// maxErrorPeek bounds what answeredElsewhere reads of an answer: an API
// error is a short JSON object.
const maxErrorPeek = 4 << 10

// answeredElsewhere reports whether a server answered no_leader,
// not_member or catching_up (sendsElsewhere). It reads the start of a
// 503 that says when to retry, as those do, and puts it back for the
// client.
func answeredElsewhere(resp *http.Response) bool {
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	var answer struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	return json.Unmarshal(head, &answer) == nil && sendsElsewhere(answer.Error.Code)
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
