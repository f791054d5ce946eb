//go:build unix

package web

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/chromedp/chromedp"
)

// actionsJS lists the page's buttons and button links that write: what
// a viewer would be refused.
const actionsJS = `[...document.querySelectorAll('main button, main a.btn')].map((b) => b.textContent.trim())
	.filter((t) => /^(Cancel|Re-run|Re-run latest version|Drain|Undrain|Hand back|Enable|Disable|Trigger|Delete|Create schedule|Upload|Run now|Run…|Schedule…)$/.test(t))`

// viewerButtons signs a viewer token in and opens the pages that have
// action buttons: an admin sees them (so the check can fail), the viewer
// sees none.
func viewerButtons(t *testing.T, b *browser, admin *tab, n *node, api *client.Client, s seeded) {
	tok, err := api.CreateAPIToken(ctx(t), wire.CreateTokenRequest{Name: "auditor", Role: "viewer"})
	if err != nil {
		t.Fatalf("create a viewer token: %v", err)
	}
	viewer := b.newTab(t)
	viewer.signIn(n, client.New(n.URL(""), client.WithToken(tok.Token), client.WithTimeout(callTimeout)))
	viewer.waitJS("the sidebar names the viewer", `document.querySelector('.side-foot').textContent.includes('auditor · viewer')`, pageTimeout)
	for _, p := range []struct{ path, ready string }{
		{"/jobs/" + s.done[0], "#attempts tbody tr"},
		{"/jobs", "#jobs tbody tr"},
		{"/robots", "#fleet tbody tr"},
		{"/workflows", "#wfs tbody tr"},
		{"/workflows/" + s.quick, "#versions tbody tr"},
		{"/schedules", "#schedules tbody tr"},
	} {
		ready := fmt.Sprintf(`document.querySelector(%q) !== null`, p.ready)
		admin.open(n, p.path)
		admin.waitJS(p.path+" for the admin", ready, pageTimeout)
		if got := eval[[]string](admin, actionsJS); len(got) == 0 {
			t.Errorf("the admin sees no action buttons on %s", p.path)
		}
		viewer.open(n, p.path)
		viewer.waitJS(p.path+" for the viewer", ready, pageTimeout)
		if got := eval[[]string](viewer, actionsJS); len(got) > 0 {
			t.Errorf("the viewer sees action buttons on %s: %q", p.path, got)
		}
		if p.path == "/jobs/"+s.done[0] {
			viewer.screenshot("viewer-job", false)
		}
		viewer.noErrors(p.path + " for a viewer")
	}
	admin.noErrors("the admin's pages")
}

// apiDocs opens /docs: the OpenAPI document rendered, every operation
// listed, and a "try it" call that the session cookie authenticates.
func apiDocs(tb *tab, n *node) {
	tb.run(navigate(n.URL("/docs")))
	tb.waitJS("the rendered API document", `document.querySelectorAll('.opblock').length > 20`, pageTimeout)
	tb.screenshot("docs", false)
	// Try GET /api/v1/cluster: the answer comes back with the session's
	// credentials, so it is a 200 with the cluster, not a 401.
	op := `[...document.querySelectorAll('.opblock')].find((o) => o.querySelector('.opblock-summary-path')?.getAttribute('data-path') === '/api/v1/cluster' && o.classList.contains('opblock-get'))`
	tb.run(evalAction(op + `.querySelector('.opblock-summary-control').click()`))
	tb.waitJS("the operation open", op+`.querySelector('.try-out__btn') !== null`, pageTimeout)
	tb.run(evalAction(op + `.querySelector('.try-out__btn').click()`))
	tb.waitJS("the execute button", op+`.querySelector('.execute') !== null`, pageTimeout)
	tb.run(evalAction(op + `.querySelector('.execute').click()`))
	tb.until("a 200 answer with the cluster", func() (bool, error) {
		text, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](op+`.querySelector('.responses-wrapper')?.innerText ?? ''`))
		if err != nil {
			return false, err
		}
		return strings.Contains(text, "200") && strings.Contains(text, `"leader"`), fmt.Errorf("the operation shows:\n%s", text)
	})
	tb.run(evalAction(op + `.scrollIntoView({ block: 'start' })`))
	tb.screenshot("docs-try-it", false)
	tb.noErrors("/docs")
}

// nodeDown stops the node serving the open page: the page must say so and
// link the peers it knows.
func nodeDown(tb *tab, n *node) {
	tb.open(n, "/")
	tb.waitJS("the members known", `document.querySelectorAll('#members tbody tr').length >= 4`, pageTimeout)
	n.stop()
	tb.waitJS("the page says the node is gone and offers peers",
		`[...document.querySelectorAll('.banner.bad')].some((b) => b.textContent.includes('This node does not answer') && b.querySelectorAll('a[href^="http://127.0.0.1:"]').length >= 3)`, pageTimeout)
	tb.screenshot("node-down", false)
	tb.takeErrors() // failed requests to the stopped node are expected
}

// selfServed starts another robot-only member and stops every server:
// the member still serves the app (its sign-in page), and its API says
// no server answers.
func selfServed(t *testing.T, b *browser, c *cluster) {
	member := c.start("r5", "--server=false")
	for _, n := range c.nodes[:3] {
		n.stop()
	}
	tb := b.newTab(t)
	tb.run(navigate(member.URL("/signin")))
	tb.waitJS("the sign-in page, from the robot-only member alone", `document.querySelector('#signin-title')?.textContent === 'Sign in'`, pageTimeout)
	tb.screenshot("robot-only-no-server", false)
	_, err := member.client.Cluster(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "no_server") {
		t.Errorf("the robot-only member's API with no server up answered %v, want no_server", err)
	}
	tb.takeErrors() // the page's calls fail: no server answers
}

// removeGoneServer adds a fourth server, stops it, and removes it with
// the cluster page's button: it leaves the page's voters and the API's
// Raft configuration.
func removeGoneServer(tb *tab, n *node, c *cluster, api *client.Client) {
	gone := c.start("n5")
	// With three voters already, the cluster keeps n5 as a non-voter.
	tb.until("n5 in the Raft configuration", func() (bool, error) {
		cl, err := api.Cluster(ctx(tb.t))
		return err == nil && slices.ContainsFunc(cl.Servers, func(s wire.ClusterServer) bool { return s.Name == "n5" && s.Alive }),
			fmt.Errorf("servers %+v, error %v", cl.Servers, err)
	})
	gone.stop()
	tb.open(n, "/cluster")
	button := `button[aria-label="Remove server n5"]`
	tb.waitJS("n5's Remove button", fmt.Sprintf(`document.querySelector(%q) !== null`, button), pageTimeout)
	tb.run(chromedp.Click(chromedp.CSS(button)))
	tb.waitJS("n5 gone from the servers", `document.querySelector('#voters tbody tr') !== null && ![...document.querySelectorAll('#voters tbody tr td:first-child, #nonvoters tbody tr td:first-child')].some((td) => td.firstChild?.textContent === 'n5')`, pageTimeout)
	cl, err := api.Cluster(ctx(tb.t))
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, s := range cl.Servers {
		if s.Name == "n5" {
			tb.t.Errorf("the API still lists n5 after its removal: %+v", s)
		}
	}
	tb.screenshot("cluster-removed", false)
	tb.noErrors("/cluster")
}
