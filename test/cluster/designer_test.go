//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/casare/casare/api"
	"github.com/casare/casare/internal/testutil"
)

// designerTimeout bounds one wait of the browser test; the page answers
// in milliseconds, the bound is for a busy machine.
const designerTimeout = 30 * time.Second

// TestDesignerBuildsSavesAndRunsAWorkflow drives the designer in headless
// Chromium against a real node that runs a robot: it builds a workflow
// from the library (a drop and a click, a port connected by mouse),
// enters an invalid duration and sees the validator's error on the node,
// fixes it, saves two versions, runs with F8 (Run Local) and sees every
// node succeed on the canvas; then it imports a workflow file and checks
// that what the designer saves is the file's nodes, connections and
// config.
func TestDesignerBuildsSavesAndRunsAWorkflow(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("needs Chromium at /usr/bin/chromium")
	}
	c := startCluster(t, 1)
	n1 := c.byName("n1")
	testutil.WaitFor(t, settleTimeout, "robot n1 alive", func() bool {
		rs, err := n1.client.Robots(t.Context())
		return err == nil && slices.ContainsFunc(rs.Robots, func(r api.Robot) bool { return r.ID == "n1" && r.State == "alive" })
	})
	code, err := n1.client.CreateSignInCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tab := designerBrowser(t)
	base := "http://" + n1.http
	shots := screenshotDir(t)

	browse(t, tab, "open the designer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+code.Path+"&next=/designer"),
		chromedp.WaitVisible(chromedp.CSS(`.dz-lib-item[data-type="delay"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="start"]`)),
	)
	name := "designer-e2e"
	browse(t, tab, "name the workflow",
		retype(`input[aria-label="workflow name"]`, name),
	)
	// delay: dropped from the library onto the canvas, then connected
	// from start's exit by mouse.
	dropFromLibrary(t, tab, "delay", 700, 300)
	connectPorts(t, tab, "start", "next", "delay")
	waitJS(t, tab, "the start→delay edge", `document.querySelectorAll('.react-flow__edge').length === 1`)
	// log: clicked in the library with delay selected, which adds it
	// after delay and connects it.
	browse(t, tab, "add log after delay",
		chromedp.Click(chromedp.CSS(`.react-flow__node[data-id="delay"]`)),
		chromedp.Click(chromedp.CSS(`.dz-lib-item[data-type="log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="log"]`)),
	)
	waitJS(t, tab, "the delay→log edge", `document.querySelectorAll('.react-flow__edge').length === 2`)
	browse(t, tab, "give log a message",
		chromedp.SendKeys(chromedp.CSS(`#f-message`), "built in the designer"),
		chromedp.Click(chromedp.CSS(`.react-flow__pane`)),
		chromedp.KeyEvent("L", chromedp.KeyModifiers(chromedp.ModifierShift)),
	)
	waitJS(t, tab, "auto-layout puts start, delay, log left to right", `(() => {
		const x = (id) => document.querySelector('.react-flow__node[data-id="'+id+'"]').getBoundingClientRect().x;
		return x('start') < x('delay') && x('delay') < x('log');
	})()`)
	// An invalid duration: the server's validator names it on the node.
	selectNode(t, tab, "delay")
	browse(t, tab, "enter a bad duration",
		chromedp.WaitVisible(chromedp.CSS(`#f-duration`)),
		chromedp.SendKeys(chromedp.CSS(`#f-duration`), "soon"),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="delay"] .dz-problem`)),
	)
	problem := waitJS(t, tab, "the node's problem", `document.querySelector('.react-flow__node[data-id="delay"] .dz-problem')?.textContent ?? ''`)
	if !containsAll(problem, "duration") {
		t.Errorf("delay's problem: %q", problem)
	}
	screenshot(t, tab, filepath.Join(shots, "designer-invalid.png"))
	browse(t, tab, "fix the duration",
		retype(`#f-duration`, "50ms"),
		chromedp.WaitNotPresent(chromedp.CSS(`.dz-problem`)),
	)
	browse(t, tab, "save with Ctrl+S", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitJS(t, tab, "version 1 saved", `document.querySelector('[data-testid="save-status"]').textContent === 'saved · v1'`)
	wf := workflowNamed(t, n1, name)
	// A second version: a display name on log.
	selectNode(t, tab, "log")
	browse(t, tab, "edit log and save again",
		chromedp.SendKeys(chromedp.CSS(`input[aria-label="display name"]`), "Say it"),
		chromedp.Click(chromedp.Search(`//button[text()="Save"]`)),
	)
	waitJS(t, tab, "version 2 saved", `document.querySelector('[data-testid="save-status"]').textContent === 'saved · v2'`)
	waitJS(t, tab, "two versions listed", `document.querySelectorAll('select[aria-label="version"] option').length === 2`)

	var graph struct {
		Nodes []struct {
			ID, Type, Name string
			Config         map[string]any
		}
		Connections []struct{ From, To, Port string }
	}
	versions, err := n1.client.WorkflowVersions(t.Context(), wf)
	if err != nil || len(versions.Versions) != 2 {
		t.Fatalf("versions: %+v %v", versions, err)
	}
	if err := json.Unmarshal(versions.Versions[1].Graph, &graph); err != nil {
		t.Fatal(err)
	}
	if len(graph.Nodes) != 3 || graph.Nodes[1].Config["duration"] != "50ms" || graph.Nodes[2].Name != "Say it" || len(graph.Connections) != 2 {
		t.Errorf("saved graph: %+v", graph)
	}

	// Run Local (F8): pinned to n1's robot; every node ends done.
	browse(t, tab, "F8 opens Run Local",
		chromedp.KeyEvent(kb.F8),
		chromedp.WaitVisible(chromedp.CSS(`[role="dialog"][aria-label="Run Local"] .dz-note.ok`)),
	)
	screenshot(t, tab, filepath.Join(shots, "designer-run-dialog.png"))
	browse(t, tab, "queue the run",
		chromedp.Click(chromedp.CSS(`[data-testid="queue-run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.dz-runp`)),
	)
	waitJS(t, tab, "every node done", `['start','delay','log'].every((id) => document.querySelector('.react-flow__node[data-id="'+id+'"] .dz-node.run-done'))`)
	waitJS(t, tab, "the run succeeded", `document.querySelector('.dz-runp .badge')?.textContent.includes('succeeded')`)
	screenshot(t, tab, filepath.Join(shots, "designer-run.png"))
	jobs, err := listJobs(t, n1, wf, "succeeded")
	if err != nil || len(jobs) != 1 || jobs[0].PinnedRobot != "n1" || jobs[0].WorkflowVersion != 2 {
		t.Fatalf("jobs: %+v %v", jobs, err)
	}
	first := jobs[0].ID
	// Run on Robot (Ctrl+F5): any LAN robot, no pin; the canvas follows
	// the new job.
	browse(t, tab, "Ctrl+F5 opens Run on Robot",
		chromedp.KeyEvent(kb.F5, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(chromedp.CSS(`[role="dialog"][aria-label="Run on Robot"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="queue-run"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[role="dialog"]`)),
	)
	waitJS(t, tab, "the second run's link", fmt.Sprintf(`(() => { const a = document.querySelector('.dz-runp a.id'); return a && a.textContent !== %q && document.querySelector('.dz-runp .badge')?.textContent.includes('succeeded'); })()`, first))
	testutil.Eventually(t, settleTimeout, "the Run on Robot job", func() (bool, error) {
		jobs, err := listJobs(t, n1, wf, "succeeded")
		if err != nil || len(jobs) != 2 {
			return false, err
		}
		for _, j := range jobs {
			if j.ID != first && (j.PinnedRobot != "" || j.ExecutionMode != "lan") {
				return false, fmt.Errorf("Run on Robot queued %+v", j)
			}
		}
		return true, nil
	})

	// Import a workflow file, save it, and compare what was stored.
	file := filepath.Join(t.TempDir(), "imported.json")
	imported := `{"name":"designer-import","variables":{"who":"world"},"nodes":[` +
		`{"id":"start","type":"start"},` +
		`{"id":"check","type":"if","config":{"condition":"who == \"world\""}},` +
		`{"id":"hi","type":"log","name":"Greet","config":{"message":"hello {{ who }}","level":"warn"},"timeout":"5s","retry":{"max":2,"backoff":"1s"}},` +
		`{"id":"stop","type":"end","config":{"status":"failed","message":"not the world"}}],` +
		`"connections":[{"from":"start","to":"check"},{"from":"check","to":"hi","port":"true"},{"from":"check","to":"stop","port":"false"}]}`
	if err := os.WriteFile(file, []byte(imported), 0o600); err != nil {
		t.Fatal(err)
	}
	browse(t, tab, "import a file",
		chromedp.Navigate(base+"/designer"),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="start"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="import-file"]`), []string{file}),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="stop"]`)),
	)
	waitJS(t, tab, "branch edges drawn", `document.querySelectorAll('.react-flow__edge.port-true, .react-flow__edge.port-false').length === 2`)
	screenshot(t, tab, filepath.Join(shots, "designer-imported.png"))
	browse(t, tab, "save the import", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitJS(t, tab, "import saved", `document.querySelector('[data-testid="save-status"]').textContent === 'saved · v1'`)
	got, err := n1.client.Workflow(t.Context(), workflowNamed(t, n1, "designer-import"))
	if err != nil {
		t.Fatal(err)
	}
	var want, saved map[string]any
	if err := json.Unmarshal([]byte(imported), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got.Graph, &saved); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "variables", "nodes", "connections"} {
		if !reflect.DeepEqual(saved[k], want[k]) {
			t.Errorf("%s: saved %v, file %v", k, saved[k], want[k])
		}
	}

	browse(t, tab, "the help overlay", chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS(`[aria-label="Keyboard shortcuts"][role="dialog"]`)))
	screenshot(t, tab, filepath.Join(shots, "designer-help.png"))
}

// designerBrowser starts headless Chromium with a fresh profile; the
// test's end stops it.
func designerBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return tab
}

// do runs steps, each bounded by designerTimeout.
func browse(t testing.TB, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, designerTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// selectNode clicks a canvas node until the canvas shows it selected: a
// click while the canvas still moves (auto-layout, fitting the view) can
// land beside the node on a loaded machine.
func selectNode(t testing.TB, tab context.Context, id string) {
	t.Helper()
	sel := fmt.Sprintf(`.react-flow__node[data-id=%q]`, id)
	deadline := time.Now().Add(designerTimeout)
	for {
		ctx, cancel := context.WithTimeout(tab, 3*time.Second)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err == nil {
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector(%q)`, sel+".selected"), chromedp.WithPollingTimeout(time.Second)))
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("select node %s: %v", id, err)
		}
	}
}

// waitJS waits until expression is truthy in the page and returns its
// value as text.
func waitJS(t testing.TB, tab context.Context, what, expression string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, designerTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[any](expression, chromedp.WithPollingTimeout(designerTimeout)))
	if err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
	return fmt.Sprint(v)
}

// retype replaces an input's text as a user does: select all, type.
func retype(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).select(), true)`, sel))(ctx, t)
			return err
		}),
		// KeyEvent types into the focused field; SendKeys reads the
		// node's attributes while chromedp's DOM events write them (a
		// data race inside chromedp v0.23.0 that -race caught in CI).
		chromedp.KeyEvent(text),
	)
}

// dropFromLibrary drags a library entry onto the canvas at (x, y) with
// the HTML5 drag and drop events a user's drag fires.
func dropFromLibrary(t testing.TB, tab context.Context, nodeType string, x, y int) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const item = document.querySelector('.dz-lib-item[data-type=%q]');
		const pane = document.querySelector('.dz-canvas');
		const dt = new DataTransfer();
		item.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt }));
		const at = { bubbles: true, cancelable: true, dataTransfer: dt, clientX: %d, clientY: %d };
		pane.dispatchEvent(new DragEvent('dragover', at));
		pane.dispatchEvent(new DragEvent('drop', at));
		return true;
	})()`, nodeType, x, y)
	browse(t, tab, "drop "+nodeType, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js)(ctx, tgt)
		return err
	}), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.react-flow__node[data-id=%q]`, nodeType))))
}

// connectPorts drags with the mouse from a node's output handle to
// another node's input handle.
func connectPorts(t testing.TB, tab context.Context, from, port, to string) {
	t.Helper()
	centre := func(sel string) (float64, float64) {
		p := waitJS(t, tab, sel, fmt.Sprintf(`(() => { const r = document.querySelector(%q)?.getBoundingClientRect(); return r ? JSON.stringify([r.x + r.width/2, r.y + r.height/2]) : ''; })()`, sel))
		var xy [2]float64
		if err := json.Unmarshal([]byte(p), &xy); err != nil {
			t.Fatalf("%s: %q: %v", sel, p, err)
		}
		return xy[0], xy[1]
	}
	x1, y1 := centre(fmt.Sprintf(`.react-flow__node[data-id=%q] .react-flow__handle[data-handleid=%q]`, from, port))
	x2, y2 := centre(fmt.Sprintf(`.react-flow__node[data-id=%q] .react-flow__handle[data-handleid="in"]`, to))
	browse(t, tab, fmt.Sprintf("connect %s.%s to %s", from, port, to),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (x1+x2)/2, (y1+y2)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x2, y2, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x2, y2, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
}

func screenshot(t testing.TB, tab context.Context, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, designerTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// screenshotDir is $CASARE_SCREENSHOTS when set, as for test/web
// (web/screenshots to retake the committed pictures), else a temp dir.
func screenshotDir(t testing.TB) string {
	if dir := os.Getenv("CASARE_SCREENSHOTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

func workflowNamed(t testing.TB, n *node, name string) string {
	t.Helper()
	list, err := n.client.Workflows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range list.Workflows {
		if w.Name == name {
			return w.ID
		}
	}
	t.Fatalf("no workflow named %q", name)
	return ""
}
