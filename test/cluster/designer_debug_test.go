//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/casare/casare/api"
	"github.com/casare/casare/internal/testutil"
)

// TestDesignerDebugsARunOnTheRobot drives the designer's debugger in
// headless Chromium against a real node with a robot: F9 sets a
// breakpoint, F8 runs, the run stops on the robot and the page shows the
// stop and its variables; F10 steps, F5 continues to success.
func TestDesignerDebugsARunOnTheRobot(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("needs Chromium at /usr/bin/chromium")
	}
	c := startCluster(t, 1)
	n1 := c.byName("n1")
	testutil.WaitFor(t, settleTimeout, "robot n1 alive", func() bool {
		rs, err := n1.client.Robots(t.Context())
		return err == nil && slices.ContainsFunc(rs.Robots, func(r api.Robot) bool { return r.ID == "n1" && r.State == "alive" })
	})
	wf, err := n1.client.CreateWorkflow(t.Context(), api.CreateWorkflowRequest{
		WorkflowName: "designer-debug", TriggerType: "none",
		WorkflowJSON: json.RawMessage(`{"name":"designer-debug","nodes":[
		 {"id":"start","type":"start"},
		 {"id":"a","type":"set_variable","config":{"name":"greeting","value":"hello"}},
		 {"id":"b","type":"set_variable","config":{"name":"shout","value":"{{ greeting }}!"}},
		 {"id":"end","type":"end"}],
		 "connections":[{"from":"start","to":"a"},{"from":"a","to":"b"},{"from":"b","to":"end"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	tab := designerWithBreakpoint(t, n1, wf.WorkflowID, "b")
	shots := screenshotDir(t)
	browse(t, tab, "run with F8",
		chromedp.KeyEvent(kb.F8),
		chromedp.WaitVisible(chromedp.CSS(`[role="dialog"][aria-label="Run Local"] .dz-note.ok`)),
		chromedp.Click(chromedp.CSS(`[data-testid="queue-run"]`)),
	)
	waitJS(t, tab, "the run paused at b", `document.querySelector('[data-testid="debug-paused"]')?.textContent.includes('paused at b')`)
	waitJS(t, tab, "b marked as the stop", `!!document.querySelector('.react-flow__node[data-id="b"] .dz-node.paused')`)
	vars := waitJS(t, tab, "the variables panel", `[...document.querySelectorAll('.dz-vars tr')].map((r) => r.textContent).join(';')`)
	if !slices.Contains(splitRows(vars), "greetinghello") || slices.Contains(splitRows(vars), "shouthello!") {
		t.Fatalf("variables at b: %q", vars)
	}
	for i := range 6 {
		addWatch(t, tab, fmt.Sprintf(`greeting + "%d"`, i), fmt.Sprintf("hello%d", i))
	}
	checkDebugColumnsScroll(t, tab)
	screenshot(t, tab, filepath.Join(shots, "designer-debug-paused.png"))
	browse(t, tab, "step with F10", chromedp.KeyEvent(kb.F10))
	waitJS(t, tab, "the run paused at end", `document.querySelector('[data-testid="debug-paused"]')?.textContent.includes('paused at end')`)
	waitJS(t, tab, "shout set by the step", `[...document.querySelectorAll('.dz-vars tr')].some((r) => r.textContent === 'shouthello!')`)
	browse(t, tab, "continue with F5", chromedp.KeyEvent(kb.F5))
	waitJS(t, tab, "the run succeeded", `document.querySelector('.dz-runp .badge')?.textContent.includes('succeeded')`)
	jobs, err := listJobs(t, n1, wf.WorkflowID, "succeeded")
	if err != nil || len(jobs) != 1 || jobs[0].Attempt != 1 {
		t.Fatalf("jobs: %s %v", fmt.Sprint(jobs), err)
	}
}

func splitRows(s string) []string { return strings.Split(s, ";") }

// checkDebugColumnsScroll scrolls the debugger's watches, which overflow
// the panel, to their end and checks that they scrolled on their own:
// the panel's header and its Continue button stay where they were.
func checkDebugColumnsScroll(t *testing.T, tab context.Context) {
	t.Helper()
	got := waitJS(t, tab, "the watches scroll on their own", `(() => {
		const panel = document.querySelector('.dz-debug');
		const col = document.querySelector('.dz-debug-body > div[aria-label="Watches"]');
		const btn = [...panel.querySelectorAll('.dz-debug-btns button')].find((b) => b.textContent.startsWith('Continue'));
		if (!col || !btn || col.scrollHeight <= col.clientHeight) return '';
		const before = btn.getBoundingClientRect().top;
		col.scrollTop = col.scrollHeight;
		const p = panel.getBoundingClientRect(), b = btn.getBoundingClientRect();
		return col.scrollTop > 0 && panel.scrollTop === 0 && b.top === before && b.top >= p.top && b.bottom <= p.bottom ? 'ok' : 'moved';
	})()`)
	if got != "ok" {
		t.Fatalf("scrolling the watches %s the debugger's buttons", got)
	}
}

// designerWithBreakpoint signs in on n, opens workflow wfID in the
// designer and sets a breakpoint on nodeID with F9.
func designerWithBreakpoint(t testing.TB, n *node, wfID, nodeID string) context.Context {
	t.Helper()
	code, err := n.client.CreateSignInCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tab := designerBrowser(t)
	sel := fmt.Sprintf(`.react-flow__node[data-id=%q]`, nodeID)
	browse(t, tab, "open the workflow in the designer on "+n.name,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate("http://"+n.http+code.Path+"&next=/designer/"+wfID),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	)
	selectNode(t, tab, nodeID)
	browse(t, tab, "a breakpoint with F9", chromedp.KeyEvent(kb.F9))
	waitJS(t, tab, "a breakpoint on "+nodeID, fmt.Sprintf(`!!document.querySelector(%q)`, sel+" .dz-node.bp"))
	return tab
}
