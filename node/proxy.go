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

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh"
)

// newServerProxy sends a robot-only node's API traffic to a live server,
// so every member answers the same API. It keeps away from a server that
// answered no_leader, as the node's robot does (shunned): such a server
// may be cut off from the others while this node still reaches it, and
// every write sent there would wait NoLeaderWait and fail.
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
			if answeredNoLeader(resp) {
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

// maxErrorPeek bounds what answeredNoLeader reads of an answer: an API
// error is a short JSON object.
const maxErrorPeek = 4 << 10

// answeredNoLeader reports whether a server answered no_leader. It reads
// the start of a 503 that says when to retry (the API's no_leader,
// not_member and catching_up) and puts it back for the client.
func answeredNoLeader(resp *http.Response) bool {
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
	return json.Unmarshal(head, &answer) == nil && answer.Error.Code == consensus.CodeNoLeader
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
