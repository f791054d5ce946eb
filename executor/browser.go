package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"sort"
	"time"

	"github.com/chromedp/chromedp"
)

// defaultBrowserActionTimeout bounds a browser action in a node without a
// timeout of its own: a selector that never matches must not hang a robot.
const defaultBrowserActionTimeout = 60 * time.Second

// resources are what a run and its subworkflows share and what must be
// released when the top-level run ends.
type resources struct {
	// ctx is the top-level run's context; browsers live under it, so
	// cancelling the run kills them.
	ctx          context.Context
	browsers     map[string]*browserSession
	opened       int // browsers opened so far, for default names
	subworkflows map[string]*plan
	// steps counts node executions of the attempt, subworkflows'
	// included, against maxSteps (limits.max_steps).
	steps    int64
	maxSteps int64
	// secrets are the vault values handed to the run, for secret();
	// redact hides them and the secret variables in what leaves it.
	secrets map[string]string
	redact  *redactor
	// stored are values the run asks the vault to keep (OAuth refresh
	// tokens, store_refresh_token_as), by secret name.
	stored map[string]string
}

// storeSecret records a value for the vault and hides it from now on.
func (r *resources) storeSecret(name, value string) {
	if r.stored == nil {
		r.stored = map[string]string{}
	}
	r.stored[name] = value
	r.redact.add(value)
}

// close closes every browser still open.
func (s *resources) close(logger *slog.Logger) {
	names := make([]string, 0, len(s.browsers))
	for name := range s.browsers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s.browsers[name].close()
		logger.Debug("browser closed at end of run", "session", name)
	}
	s.browsers = nil
}

// browserSession is one Chromium process with one tab.
type browserSession struct {
	name          string
	tab           context.Context
	cancelTab     context.CancelFunc
	cancelAlloc   context.CancelFunc
	cancelSession context.CancelFunc
}

// openBrowser starts Chromium under parent. The launch is also bounded by
// launchCtx (the node's context) without tying the browser's lifetime to
// it.
func openBrowser(parent, launchCtx context.Context, execPath string, headless bool, logger *slog.Logger) (*browserSession, error) {
	// chromedp gives every browser a fresh temporary --user-data-dir, and
	// removes it (killing leftover child processes first) when the
	// browser stops.
	opts := slices.Clone(chromedp.DefaultExecAllocatorOptions[:])
	opts = append(opts,
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The robot may have no network: nothing may phone home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	if !headless {
		opts = append(opts, chromedp.VisibleWindow)
	}
	sessionCtx, cancelSession := context.WithCancel(parent)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(sessionCtx, opts...)
	debugf := func(format string, args ...any) { logger.Debug(fmt.Sprintf(format, args...), "component", "chromedp") }
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(debugf), chromedp.WithErrorf(debugf))
	b := &browserSession{tab: tab, cancelTab: cancelTab, cancelAlloc: cancelAlloc, cancelSession: cancelSession}

	stop := context.AfterFunc(launchCtx, cancelSession)
	err := chromedp.Do(tab) // the first action starts the browser
	if !stop() {
		err = fmt.Errorf("launch cut off: %w", context.Cause(launchCtx))
	}
	if err != nil {
		b.close()
		return nil, fmt.Errorf("start %s: %w", execPath, err)
	}
	return b, nil
}

// action returns a context for one browser action: it belongs to the tab
// but ends with the node's context.
func (b *browserSession) action(nodeCtx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(b.tab)
	var cancelTimeout context.CancelFunc = func() {}
	if _, ok := nodeCtx.Deadline(); !ok {
		ctx, cancelTimeout = context.WithTimeout(ctx, defaultBrowserActionTimeout)
	}
	stop := context.AfterFunc(nodeCtx, func() { cancel(context.Cause(nodeCtx)) })
	return ctx, func() {
		stop()
		cancelTimeout()
		cancel(nil)
	}
}

// close stops the browser and waits until its process and temporary
// profile are gone.
func (b *browserSession) close() {
	b.cancelTab()
	b.cancelAlloc()
	b.cancelSession()
}

// chromiumPath finds the browser binary.
func (e *Engine) chromiumPath() (string, error) {
	if e.chromium != "" {
		return e.chromium, nil
	}
	if p := os.Getenv("CASARE_CHROMIUM"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: set CASARE_CHROMIUM or install chromium")
}

// browser returns the session a browser node addresses: the one its
// session field names, or the only one open.
func (c call) browser() (*browserSession, error) {
	name, err := c.str("session")
	if err != nil {
		return nil, err
	}
	open := c.r.shared.browsers
	if name != "" {
		b, ok := open[name]
		if !ok {
			return nil, fmt.Errorf("session: no open browser session %q (sessions do not survive a resumed run)", name)
		}
		return b, nil
	}
	switch len(open) {
	case 0:
		return nil, errors.New("no browser session is open: run browser_open first (sessions do not survive a resumed run)")
	case 1:
		for _, b := range open {
			return b, nil
		}
	}
	return nil, errors.New("several browser sessions are open: set session")
}
