//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// remoteDebugWorkflow calls a subworkflow between two top-level nodes;
// pin is a secret variable, which the variables panel and every watch
// show as ***.
const remoteDebugWorkflow = `{"name":"remote-debug","secret_variables":["pin"],"nodes":[
 {"id":"start","type":"start"},
 {"id":"a","type":"set_variable","config":{"name":"greeting","value":"hello"}},
 {"id":"p","type":"set_variable","config":{"name":"pin","value":"4711"}},
 {"id":"call","type":"subworkflow","config":{"params":{"who":"{{ greeting }}"},"output_var":"sub","workflow":{
   "name":"greeter","nodes":[
    {"id":"start","type":"start"},
    {"id":"inner","type":"set_variable","config":{"name":"shout","value":"{{ who }}!"}},
    {"id":"end","type":"end"}],
   "connections":[{"from":"start","to":"inner"},{"from":"inner","to":"end"}]}}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"a"},{"from":"a","to":"p"},{"from":"p","to":"call"},{"from":"call","to":"end"}]}`

// TestDesignerDebugsRemoteRobots is the designer debugger across the
// mesh: the page is served by n1, which runs no robot; Run on Robot
// (Ctrl+F5) goes to the LAN robot of n2, the only one, and Submit
// (Ctrl+Shift+F5) to an internet robot connected through n3. Each run
// stops at a breakpoint set with F9, shows its variables (the secret as
// ***), evaluates watches added in the panel, steps into the subworkflow
// with F11 and shows the call stack, and continues with F5 to success.
func TestDesignerDebugsRemoteRobots(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("needs Chromium at /usr/bin/chromium")
	}
	c := newCluster(t)
	a := c.bootstrap("n1", "--robot=false")
	c.join("n2")
	nc := c.join("n3", "--robot=false")
	c.waitServers(3)
	connectRobot(t, c, "inet1", []string{quicAddr(t, nc)})
	waitRobotState(t, c, "inet1", "alive", "n3")
	waitRobotState(t, c, "n2", "alive", "")

	wf, err := a.client.CreateWorkflow(t.Context(), api.CreateWorkflowRequest{
		WorkflowName: "remote-debug", TriggerType: "none", WorkflowJSON: json.RawMessage(remoteDebugWorkflow),
	})
	if err != nil {
		t.Fatal(err)
	}
	tab := designerWithBreakpoint(t, a, wf.WorkflowID, "call")
	shots := screenshotDir(t)

	runs := []struct {
		name, dialog, robot string
		mods                chromedp.Modifier
	}{
		{"lan", "Run on Robot", "n2", chromedp.ModifierCtrl},
		{"internet", "Submit", "inet1", chromedp.ModifierCtrl | chromedp.ModifierShift},
	}
	for _, r := range runs {
		browse(t, tab, r.dialog,
			chromedp.KeyEvent(kb.F5, chromedp.KeyModifiers(r.mods)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[role="dialog"][aria-label=%q] .dz-note.ok`, r.dialog))),
			chromedp.Click(chromedp.CSS(`[data-testid="queue-run"]`)),
		)
		jobID := debugRemoteRun(t, tab, r.robot, filepath.Join(shots, "designer-debug-"+r.name))
		job, err := a.client.Job(t.Context(), jobID, client.Consistent())
		if err != nil {
			t.Fatal(err)
		}
		if job.State != "succeeded" || job.RobotID != r.robot || job.Attempt != 1 {
			t.Fatalf("%s run: %s", r.name, describeJob(job))
		}
		t.Logf("%s run %s: paused, stepped into the subworkflow and succeeded on robot %s with the page on n1", r.name, jobID, r.robot)
	}
}

// debugRemoteRun drives one debug run from its first stop to success and
// returns its job id; shots prefixes the screenshots' paths.
func debugRemoteRun(t *testing.T, tab context.Context, robot, shots string) string {
	t.Helper()
	waitJS(t, tab, "the run paused at call on "+robot, fmt.Sprintf(
		`(t => t?.includes('paused at call (breakpoint)') && t.includes('on robot %s'))(document.querySelector('[data-testid="debug-paused"]')?.textContent)`, robot))
	waitJS(t, tab, "call marked as the stop", `!!document.querySelector('.react-flow__node[data-id="call"] .dz-node.paused')`)
	vars := splitRows(waitJS(t, tab, "the variables panel", `[...document.querySelectorAll('.dz-vars tr')].map((r) => r.textContent).join(';')`))
	if !slices.Contains(vars, "greetinghello") || !slices.Contains(vars, "pin***") || slices.Contains(vars, "pin4711") {
		t.Fatalf("variables at call: %q", vars)
	}
	if n := waitJS(t, tab, "no call stack at the top", `String(document.querySelectorAll('.dz-stack div').length)`); n != "0" {
		t.Fatalf("%s frames shown at a top-level stop", n)
	}

	addWatch(t, tab, `upper(greeting)`, "HELLO")
	addWatch(t, tab, `pin + "-" + greeting`, "***-hello")
	browse(t, tab, "fit the canvas to the smaller pane", chromedp.Click(chromedp.CSS(`.react-flow__controls-fitview`)))
	screenshot(t, tab, shots+"-paused.png")

	browse(t, tab, "step into with F11", chromedp.KeyEvent(kb.F11))
	waitJS(t, tab, "the run paused inside the subworkflow", `document.querySelector('[data-testid="debug-paused"]')?.textContent.includes('paused at call/')`)
	waitJS(t, tab, "the call stack", `[...document.querySelectorAll('.dz-stack div')].map((d) => d.textContent).join(';') === 'call → remote-debug'`)
	// The subworkflow has its own variables: who, not greeting.
	waitJS(t, tab, "who in the variables", `[...document.querySelectorAll('.dz-vars tr')].some((r) => r.textContent === 'whohello')`)
	addWatch(t, tab, `who + "!"`, "hello!")
	screenshot(t, tab, shots+"-subworkflow.png")

	for _, w := range []string{`upper(greeting)`, `pin + "-" + greeting`, `who + "!"`} {
		browse(t, tab, "remove watch "+w, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label=%q]`, "Remove watch "+w))))
	}
	waitJS(t, tab, "no watches", `!document.querySelector('.dz-watches')`)

	jobID := waitJS(t, tab, "the job id", `document.querySelector('.dz-runp a.id')?.textContent ?? ''`)
	browse(t, tab, "continue with F5", chromedp.KeyEvent(kb.F5))
	waitJS(t, tab, "the run succeeded", `document.querySelector('.dz-runp .badge')?.textContent.includes('succeeded')`)
	return jobID
}

// addWatch types a watch into the debug panel, adds it with Enter and
// waits for its value. It types with KeyEvent, not SendKeys: chromedp
// v0.23's SendKeys reads the node's attributes before it locks them,
// which the race detector reports while React updates the panel.
func addWatch(t *testing.T, tab context.Context, expression, want string) {
	t.Helper()
	browse(t, tab, "add watch "+expression,
		chromedp.Click(chromedp.CSS(`.dz-watch-add input`)),
		chromedp.KeyEvent(expression),
		chromedp.KeyEvent(kb.Enter),
	)
	waitJS(t, tab, fmt.Sprintf("watch %s = %s", expression, want), fmt.Sprintf(
		`[...document.querySelectorAll('.dz-watches tr')].some((r) => r.textContent === %q)`, expression+want+"×"))
}
