//go:build unix

package web

import (
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusedNav is the label of the main navigation's link that has the
// focus, or "" when the focus is elsewhere.
const focusedNav = `document.activeElement?.closest('nav[aria-label="Main"]') ? document.activeElement.textContent.trim() : ''`

// unlabelled lists the page's controls that have no accessible name.
const unlabelled = `[...document.querySelectorAll('main input, main select, main textarea, main button, main a[href], nav a')]
  .filter((el) => el.offsetParent !== null && !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent.trim() || el.title || el.placeholder))
  .map((el) => el.outerHTML.slice(0, 120))`

// stateSelect is the Jobs page's state filter.
const stateSelect = `[...document.querySelectorAll('main label.field')].find((l) => l.querySelector('span')?.textContent === 'State')?.querySelector('select')`

// tabTo presses Tab (Shift+Tab when back) until the navigation link
// label has the focus, at most 60 times, and checks that the focus is
// drawn.
func (tb *tab) tabTo(label string, back bool) {
	tb.t.Helper()
	var opts []chromedp.KeyOption
	if back {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	for range 60 {
		tb.run(chromedp.KeyEvent(kb.Tab, opts...))
		if eval[string](tb, focusedNav) == label {
			outline := eval[string](tb, `(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle === 'none' ? '' : s.outlineWidth; })()`)
			if outline == "" || outline == "0px" {
				tb.t.Errorf("the %s link has the keyboard focus but no visible outline", label)
			}
			return
		}
	}
	tb.t.Fatalf("60 presses of Tab never reached the %s link; the focus is on %s", label,
		eval[string](tb, `document.activeElement?.outerHTML.slice(0, 160) ?? 'nothing'`))
}

// at waits until the page is path with its main heading title.
func (tb *tab) at(path, title string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf("%s with its heading %q", path, title),
		fmt.Sprintf(`location.pathname === %q && document.querySelector('main h1')?.textContent === %q`, path, title), pageTimeout)
	if bad := eval[[]any](tb, unlabelled); len(bad) > 0 {
		tb.t.Errorf("%s: controls without a label: %v", path, bad)
	}
}

// keyboardOnly moves through the app with the keyboard alone (Tab,
// Shift+Tab and Enter through the main navigation), then checks that the
// browser's back and forward restore each view, its heading and its
// filters, and that the new page gets the focus.
func keyboardOnly(tb *tab, n *node) {
	tb.open(n, "/")
	tb.at("/", "Overview")
	tb.tabTo("Jobs", false)
	tb.run(chromedp.KeyEvent(kb.Enter))
	tb.at("/jobs", "Jobs")
	tb.waitJS("the focus on the new page", `document.activeElement?.id === 'main'`, pageTimeout)

	// Shift+Tab leaves the page for the navigation, above it.
	tb.tabTo("Cluster", true)
	tb.run(chromedp.KeyEvent(kb.Enter))
	tb.at("/cluster", "Cluster")
	tb.tabTo("Robots", true)
	tb.run(chromedp.KeyEvent(kb.Enter))
	tb.at("/robots", "Robots")

	// A filter chosen from the keyboard lands in the URL, so back and
	// forward restore it. Shift+Tab again: forward from the Robots page
	// the focus would pass every live-updated robot row and leave the
	// document before it wrapped round to the navigation.
	tb.tabTo("Jobs", true)
	tb.run(chromedp.KeyEvent(kb.Enter))
	tb.at("/jobs", "Jobs")
	tb.waitJS("the focus on the new page", `document.activeElement?.id === 'main'`, pageTimeout)
	tb.run(chromedp.KeyEvent(kb.Tab))
	tb.waitJS("the state filter focused", stateSelect+` === document.activeElement`, pageTimeout)
	tb.run(chromedp.KeyEvent("s")) // type-ahead: the first state starting with s
	tb.waitJS("the state filter in the URL", `new URLSearchParams(location.search).get('state') === 'succeeded'`, pageTimeout)

	for _, step := range []struct {
		act         chromedp.Action[chromedp.Void]
		path, title string
		query       string
	}{
		{chromedp.NavigateBack(), "/jobs", "Jobs", ""},
		{chromedp.NavigateBack(), "/robots", "Robots", ""},
		{chromedp.NavigateBack(), "/cluster", "Cluster", ""},
		{chromedp.NavigateBack(), "/jobs", "Jobs", ""},
		{chromedp.NavigateBack(), "/", "Overview", ""},
		{chromedp.NavigateForward(), "/jobs", "Jobs", ""},
		{chromedp.NavigateForward(), "/cluster", "Cluster", ""},
		{chromedp.NavigateForward(), "/robots", "Robots", ""},
		{chromedp.NavigateForward(), "/jobs", "Jobs", ""},
		{chromedp.NavigateForward(), "/jobs", "Jobs", "succeeded"},
	} {
		tb.run(step.act)
		tb.at(step.path, step.title)
		tb.waitJS(fmt.Sprintf("%s?state=%s and its filter", step.path, step.query), fmt.Sprintf(
			`(new URLSearchParams(location.search).get('state') ?? '') === %q && (location.pathname !== '/jobs' || (`+stateSelect+`?.value ?? '') === %q)`,
			step.query, step.query), pageTimeout)
	}
	tb.noErrors("keyboard navigation")
}

// leaveMember starts a robot-only member and makes it leave from the
// cluster page's Leave button: the process ends by itself with status 0
// (a graceful leave, not a kill), and the page no longer lists it alive.
func leaveMember(tb *tab, n *node, c *cluster) {
	m := c.start("r6", "--server=false")
	tb.open(n, "/cluster")
	button := `button[aria-label="Ask r6 to leave the cluster"]`
	tb.waitJS("r6's Leave button", fmt.Sprintf(`document.querySelector(%q) !== null`, button), pageTimeout)
	// A taller screen, so the members and their Leave buttons are in the shot.
	tb.run(chromedp.EmulateViewport(1440, 1200))
	tb.waitJS("the page laid out 1200 px tall", `window.innerHeight === 1200`, pageTimeout)
	tb.screenshot("cluster", false)
	tb.run(chromedp.EmulateViewport(1440, 900))
	tb.waitJS("the page laid out for the laptop again", `window.innerHeight === 900`, pageTimeout)
	tb.run(chromedp.Click(chromedp.CSS(button)))
	tb.waitJS("the page says r6 is leaving", `document.body.innerText.includes('r6 is leaving the cluster.')`, pageTimeout)
	select {
	case <-m.done:
	case <-time.After(settle):
		tb.t.Fatal("r6 still runs after the page asked it to leave")
	}
	if code := m.cmd.ProcessState.ExitCode(); code != 0 {
		tb.t.Errorf("r6 exited with status %d after leaving, want 0", code)
	}
	tb.waitJS("r6 no longer alive on the page", `![...document.querySelectorAll('#gossip tbody tr')].some((tr) => tr.cells[0].firstChild?.textContent === 'r6' && tr.cells[1].textContent === 'alive')`, pageTimeout)
	tb.noErrors("/cluster")
}
