//go:build unix

package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/internal/testutil"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium; the test fails rather than skips
// without it, as every browser test of the repository does.
const chromiumPath = "/usr/bin/chromium"

// Bounds on the browser's waits. pageTimeout is for a view to show what
// the API says; liveTimeout is the promise for a live update.
const (
	pageTimeout = 15 * time.Second
	liveTimeout = 2 * time.Second
)

// browser is one headless Chromium with a fresh profile, killed when the
// test ends; shots is where screenshots go.
type browser struct {
	root  context.Context
	shots string
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("these tests drive Debian's Chromium at %s: %v (apt-get install chromium)", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1440, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	// The first context starts the browser; every tab is a new browser
	// context (its own cookies) within it.
	root, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return &browser{root: root, shots: screenshotDir(t)}
}

// screenshotDir is CASARE_SCREENSHOTS when set (to refresh the committed
// ones), else a directory under CASARE_ARTIFACTS or the system's temp
// dir. It is kept after the test, which logs it.
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CASARE_SCREENSHOTS")
	if dir == "" {
		base := os.Getenv("CASARE_ARTIFACTS")
		if base == "" {
			base = os.TempDir()
		}
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if dir, err = os.MkdirTemp(base, "dashboard-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the dashboard: %s", dir)
	return dir
}

// tab is one page in its own browser context (its own cookies, so its
// own sign-in). It records what the page logs as an error and accepts
// every confirm() dialog, as a user who clicks OK.
type tab struct {
	t     testing.TB
	ctx   context.Context
	shots string
	log   *errorLog
}

// errorLog holds what a page logged as errors, written by the goroutine
// that reads the tab's console.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

// in returns the tab for use by subtest t.
func (tb *tab) in(t *testing.T) *tab {
	c := *tb
	c.t = t
	return &c
}

func (b *browser) newTab(t testing.TB) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, shots: b.shots, log: &errorLog{}}
	// Subscribe before the first page loads, so that no message is lost;
	// the goroutine ends with the tab's context.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				tb.record(fmt.Sprintf("%s (%s)", m, m.URL))
			}
		}
	}()
	err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			// A command may not run inside the listener.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return tb
}

func (tb *tab) record(msg string) {
	tb.log.mu.Lock()
	defer tb.log.mu.Unlock()
	tb.log.errs = append(tb.log.errs, msg)
}

// takeErrors returns what the page logged as errors since the last call.
func (tb *tab) takeErrors() []string {
	tb.log.mu.Lock()
	defer tb.log.mu.Unlock()
	errs := tb.log.errs
	tb.log.errs = nil
	return errs
}

// noErrors fails the test if the page logged an error while showing view.
func (tb *tab) noErrors(view string) {
	tb.t.Helper()
	if errs := tb.takeErrors(); len(errs) > 0 {
		tb.t.Errorf("%s logged errors in the browser:\n  %s", view, strings.Join(errs, "\n  "))
	}
}

// run runs browser actions, failing the test on an error.
func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// signIn opens the sign-in link `casare dashboard` would print, with a
// one-time code made by cl's token, on the page of node n, and waits
// until the signed-in page follows the event stream. What the page
// logged before it had a session (refused calls) is dropped.
func (tb *tab) signIn(n *node, cl *client.Client) {
	tb.t.Helper()
	code, err := cl.CreateSignInCode(ctx(tb.t))
	if err != nil {
		tb.t.Fatalf("sign-in code: %v", err)
	}
	tb.run(chromedp.Navigate(n.URL(code.Path)))
	tb.waitJS("the signed-in page follows the event stream", `[...document.querySelectorAll('.side-foot .row')].some((r) => r.textContent === 'Updateslive')`, pageTimeout)
	tb.takeErrors()
}

// navigate loads url without waiting for the app's heading.
func navigate(url string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(url) }

// open loads path as a reload would, and waits until the page shows its
// main heading.
func (tb *tab) open(n *node, path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(n.URL(path)), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
}

// waitJS waits until the JavaScript expression is true on the page.
func (tb *tab) waitJS(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		body, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(document.querySelector('.side-foot')?.innerText ?? '') + '\n' + (document.querySelector('main')?.innerText ?? document.body.innerText)`))
		if png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(tb.shots, "failed.png"), png, 0o644)
		}
		tb.t.Fatalf("waiting %v for %s: %v\nthe page shows (and failed.png):\n%s", timeout, what, err, body)
	}
}

// eval returns the value of a JavaScript expression on the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// until polls cond (which reads the page and the API) until it holds.
func (tb *tab) until(what string, cond func() (bool, error)) {
	tb.t.Helper()
	testutil.Eventually(tb.t, pageTimeout, what, cond)
}

// screenshot saves the visible page (1440×900) as name.png; full saves
// the whole page's height instead.
func (tb *tab) screenshot(name string, full bool) {
	tb.t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	// Let every pending paint land (fonts, React Flow's fit) first.
	_, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](
		`document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("browser: wait for paint: %v", err)
	}
	png, err := chromedp.Run(tb.ctx, shot)
	if err != nil {
		tb.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.shots, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// evalAction runs a JavaScript statement on the page.
func evalAction(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[*runtime.RemoteObject](js)(ctx, t)
		return chromedp.Void{}, err
	}
}
