package executor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

const formPage = `<!doctype html>
<html><body>
<form onsubmit="return false">
  <input id="name" value="">
  <button id="greet" type="button">Greet</button>
</form>
<p id="result" style="display: none"></p>
<script>
document.getElementById("greet").addEventListener("click", () => {
  // Answer a little later, as real pages do, so the workflow has to wait.
  setTimeout(() => {
    const result = document.getElementById("result");
    result.textContent = "Hello, " + document.getElementById("name").value + "!";
    result.style.display = "block";
  }, 50);
});
</script>
</body></html>`

// requireChromium fails, rather than skips, without a browser: CI installs
// one, and a skipped browser test would hide a broken robot image.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("browser tests need /usr/bin/chromium: %v", err)
	}
}

func formServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, formPage)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserFillsFormAndScreenshots(t *testing.T) {
	requireChromium(t)
	srv := formServer(t)
	e, dir := testEngine(t)
	w := chain(
		Node{ID: "open", Type: "browser_open", Config: cfg("session_var", "browser")},
		Node{ID: "nav", Type: "browser_navigate", Config: cfg("url", "{{ site }}/form", "session", "{{ browser }}")},
		Node{ID: "ready", Type: "browser_wait_for", Config: cfg("selector", "#name", "timeout", "10s")},
		Node{ID: "type", Type: "browser_type", Config: cfg("selector", "#name", "text", "{{ who }}")},
		Node{ID: "click", Type: "browser_click", Config: cfg("selector", "#greet")},
		Node{ID: "answer", Type: "browser_wait_for", Config: cfg("selector", "#result")},
		Node{ID: "read", Type: "browser_extract_text", Config: cfg("selector", "#result", "output_var", "greeting")},
		Node{ID: "shot", Type: "browser_screenshot", Config: cfg("path", "shots/page.png")},
		Node{ID: "element", Type: "browser_screenshot", Config: cfg("path", "shots/result.png", "selector", "#result")},
		Node{ID: "full", Type: "browser_screenshot", Config: cfg("path", "shots/full.png", "full_page", true)},
		Node{ID: "close", Type: "browser_close", Config: cfg("session", "{{ browser }}")},
	)
	res := e.Run(background(t), w, RunOptions{Vars: map[string]any{"site": srv.URL, "who": "Ada"}})
	mustSucceed(t, res)
	if res.Variables["greeting"] != "Hello, Ada!" {
		t.Errorf("greeting = %q", res.Variables["greeting"])
	}
	if res.Variables["browser"] != "browser" {
		t.Errorf("session_var = %v", res.Variables["browser"])
	}
	for _, name := range []string{"page.png", "result.png", "full.png"} {
		data, err := os.ReadFile(filepath.Join(dir, "shots", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 100 {
			t.Errorf("%s is not a PNG (%d bytes)", name, len(data))
		}
	}
	assertNoBrowserLeft(t)
}

func TestBrowserTimeoutIsCaughtAndSessionsCloseAtRunEnd(t *testing.T) {
	requireChromium(t)
	srv := formServer(t)
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "open", Type: "browser_open", Config: cfg("session", "main")},
		Node{ID: "nav", Type: "browser_navigate", Config: cfg("url", srv.URL)},
		Node{ID: "wait", Type: "browser_wait_for", Config: cfg("selector", "#never", "timeout", "300ms")},
		Node{ID: "handler", Type: "set_variable", Config: cfg("name", "caught", "value", "{{ error }}")},
	)
	w.Connections[3].Port = "error"
	res := e.Run(background(t), w, RunOptions{})
	mustSucceed(t, res)
	if msg, _ := res.Variables["caught"].(string); !strings.Contains(msg, "#never did not become visible within 300ms") {
		t.Errorf("caught %q", msg)
	}
	// The workflow never closed its browser; the run did.
	assertNoBrowserLeft(t)

	// A browser node without a session fails clearly.
	res = e.Run(background(t), chain(Node{ID: "click", Type: "browser_click", Config: cfg("selector", "#x")}), RunOptions{})
	if res.State != StateFailed || !strings.Contains(res.Error, "no browser session is open") {
		t.Errorf("%s: %s", res.State, res.Error)
	}
}

func TestBrowserCancellation(t *testing.T) {
	requireChromium(t)
	srv := formServer(t)
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "open", Type: "browser_open"},
		Node{ID: "nav", Type: "browser_navigate", Config: cfg("url", srv.URL)},
		Node{ID: "wait", Type: "browser_wait_for", Config: cfg("selector", "#never", "timeout", "1m")},
	)
	ctx, cancel := context.WithCancel(background(t))
	opts := RunOptions{OnEvent: func(ev Event) {
		if ev.NodeID == "wait" && ev.Kind == EventNodeStarted {
			time.AfterFunc(200*time.Millisecond, cancel)
		}
	}}
	var res Result
	runWithin(t, 15*time.Second, func() { res = e.Run(ctx, w, opts) })
	if res.State != StateCancelled || res.Checkpoint.Next != "wait" {
		t.Errorf("state %s next %q: %s", res.State, res.Checkpoint.Next, res.Error)
	}
	assertNoBrowserLeft(t)
}

// assertNoBrowserLeft checks that no Chromium started by chromedp is still
// running. chromedp names every temporary profile chromedp-runner*, and
// Chromium passes --user-data-dir to all of its processes.
func assertNoBrowserLeft(t *testing.T) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "every browser process to exit", func() (bool, error) {
		if pids := browserProcesses(); len(pids) > 0 {
			return false, fmt.Errorf("still running: %v", pids)
		}
		return true, nil
	})
}

func browserProcesses() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + entry.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte("chromedp-runner")) {
			continue
		}
		if !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
