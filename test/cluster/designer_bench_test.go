//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/casare/casare/api"
)

// BenchmarkDesigner300Nodes measures what a 301-node workflow costs in
// the designer: one op is opening /designer/<id> until every node is
// laid out and drawn (API reads, layout, React Flow's first render with
// culling), and each op then drags a node across the canvas for 40
// mouse moves and reports the browser's frame intervals meanwhile.
func BenchmarkDesigner300Nodes(b *testing.B) {
	c := startCluster(b, 1)
	n1 := c.byName("n1")
	code, err := n1.client.CreateSignInCode(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	tab := designerBrowser(b)
	base := "http://" + n1.http
	browse(b, tab, "sign in", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+code.Path+"&next=/designer"),
		chromedp.WaitVisible(chromedp.CSS(`.react-flow__node[data-id="start"]`)))
	// Leaving a dragged (so unsaved) canvas asks "leave the page?";
	// the user says yes. The loop ends when the browser closes.
	dialogs := chromedp.Events(tab, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	// The small workflow is the baseline of the same machine and browser.
	for _, size := range []struct{ ifs, chain, nodes int }{{1, 2, 4}, {30, 9, 301}} {
		name := fmt.Sprintf("designer-%d", size.nodes)
		resp, err := n1.client.CreateWorkflow(b.Context(), api.CreateWorkflowRequest{
			WorkflowName: name, WorkflowJSON: bigWorkflow(name, size.ifs, size.chain), TriggerType: "none",
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("nodes=%d", size.nodes), func(b *testing.B) {
			benchDesignerOpenAndDrag(b, tab, fmt.Sprintf("%s/designer/%s", base, resp.WorkflowID), size.nodes)
		})
	}
}

// benchDesignerOpenAndDrag opens the designer at url per op, then
// drags a node, reporting the worst median and maximum frame interval
// of the drags.
func benchDesignerOpenAndDrag(b *testing.B, tab context.Context, url string, nodes int) {
	var frameMedian, frameMax float64
	for i := 0; i < b.N; i++ {
		browse(b, tab, "open", chromedp.Navigate(url))
		waitJS(b, tab, "all nodes", fmt.Sprintf(`document.querySelector('.dz-insp header p')?.textContent.startsWith('%d nodes') && document.querySelectorAll('.react-flow__node').length > 0`, nodes))
		b.StopTimer()
		waitJS(b, tab, "frame recorder", `(() => {
			window.__frames = []; let last = performance.now();
			const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__frames.length < 400) requestAnimationFrame(tick); };
			requestAnimationFrame(tick); return true; })()`)
		xy := waitJS(b, tab, "a visible node", `(() => { const n = [...document.querySelectorAll('.react-flow__node')].find((e) => { const r = e.getBoundingClientRect(); return r.x > 480 && r.x < 900 && r.y > 100 && r.y < 700; }); if (!n) return ''; const r = n.getBoundingClientRect(); return JSON.stringify([r.x + 12, r.y + 6]); })()`)
		var p [2]float64
		if err := json.Unmarshal([]byte(xy), &p); err != nil {
			b.Fatalf("node position %q: %v", xy, err)
		}
		steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, p[0], p[1], chromedp.ButtonLeft, chromedp.ClickCount(1))}
		for k := 1; k <= 40; k++ {
			steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p[0]+float64(k*4), p[1]+float64(k*2), chromedp.ButtonLeft))
		}
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, p[0]+160, p[1]+80, chromedp.ButtonLeft, chromedp.ClickCount(1)))
		browse(b, tab, "drag", steps...)
		stats := waitJS(b, tab, "frame stats", `(() => { const f = window.__frames.slice(1).sort((a, b) => a - b); return f.length ? JSON.stringify([f[Math.floor(f.length/2)], f[f.length-1]]) : ''; })()`)
		var fs [2]float64
		if err := json.Unmarshal([]byte(stats), &fs); err != nil {
			b.Fatalf("frames %q: %v", stats, err)
		}
		frameMedian, frameMax = max(frameMedian, fs[0]), max(frameMax, fs[1])
		b.StartTimer()
	}
	b.ReportMetric(frameMedian, "ms/frame-median-drag")
	b.ReportMetric(frameMax, "ms/frame-max-drag")
}

// bigWorkflow is a workflow of 1 + ifs·(1+chain) nodes: a ladder of if
// nodes, each with a chain of log nodes on its true branch and the next
// if on its false branch.
func bigWorkflow(name string, ifs, chain int) json.RawMessage {
	type node struct {
		ID     string         `json:"id"`
		Type   string         `json:"type"`
		Config map[string]any `json:"config"`
	}
	type conn struct {
		From string `json:"from"`
		To   string `json:"to"`
		Port string `json:"port,omitempty"`
	}
	nodes := []node{{ID: "start", Type: "start"}}
	var conns []conn
	prev, port := "start", ""
	for i := range ifs {
		id := fmt.Sprintf("if_%d", i)
		nodes = append(nodes, node{ID: id, Type: "if", Config: map[string]any{"condition": fmt.Sprintf("n > %d", i)}})
		conns = append(conns, conn{From: prev, To: id, Port: port})
		last, lport := id, "true"
		for j := range chain {
			lid := fmt.Sprintf("log_%d_%d", i, j)
			nodes = append(nodes, node{ID: lid, Type: "log", Config: map[string]any{"message": fmt.Sprintf("step %d of %d", j, i)}})
			conns = append(conns, conn{From: last, To: lid, Port: lport})
			last, lport = lid, ""
		}
		prev, port = id, "false"
	}
	data, err := json.Marshal(map[string]any{"name": name, "variables": map[string]any{"n": 3}, "nodes": nodes, "connections": conns})
	if err != nil {
		panic(err) // only plain values go in
	}
	return data
}
