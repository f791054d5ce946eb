package executor

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

func browserKinds() []*nodeKind {
	session := Field{Name: "session", Type: TypeString, Description: "browser session name, e.g. \"{{ browser }}\"; may be left out while only one session is open"}
	selector := Field{Name: "selector", Type: TypeString, Required: true, Description: "CSS selector of the element"}
	kind := func(name, desc string, exec execFunc, fields ...Field) *nodeKind {
		return &nodeKind{
			NodeType: NodeType{
				Name:     name,
				Category: "browser",
				Description: desc + " Actions wait for their element; without a node timeout an action gives up after " +
					defaultBrowserActionTimeout.String() + ".",
				Fields:    append(fields, session),
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			exec:    exec,
		}
	}
	open := &nodeKind{
		NodeType: NodeType{
			Name:     "browser_open",
			Category: "browser",
			Description: "Starts a Chromium browser with one tab. The session lives until browser_close or the end of the run; " +
				"variables hold only its name.",
			Fields: []Field{
				{Name: "headless", Type: TypeBoolean, Default: "true", Description: "run without a window"},
				{Name: "session", Type: TypeString, Description: "name for the session; default: browser, browser-2, ..."},
				{Name: "session_var", Type: TypeVariable, Description: "variable that receives the session name"},
			},
			Ports:     []string{""},
			ErrorPort: true,
		},
		effects: true,
		exec:    execBrowserOpen,
	}
	return []*nodeKind{
		open,
		kind("browser_navigate", "Loads a URL and waits for the page to load.", execBrowserNavigate,
			Field{Name: "url", Type: TypeString, Required: true, Description: "URL to load"}),
		kind("browser_click", "Clicks an element once it is visible.", execBrowserClick, selector),
		kind("browser_type", "Types text into an element.", execBrowserType, selector,
			Field{Name: "text", Type: TypeString, Required: true, Description: "text to type"},
			Field{Name: "clear", Type: TypeBoolean, Default: "false", Description: "clear the element's value first"}),
		kind("browser_extract_text", "Reads the visible text of an element.", execBrowserExtractText, selector,
			Field{Name: "output_var", Type: TypeVariable, Required: true, Description: "variable that receives the text"}),
		kind("browser_wait_for", "Waits until an element is visible.", execBrowserWaitFor, selector,
			Field{Name: "timeout", Type: TypeDuration, Default: "30s", Description: "how long to wait before failing"}),
		kind("browser_screenshot", "Saves a PNG screenshot of the viewport, the full page or one element.", execBrowserScreenshot,
			Field{Name: "path", Type: TypeString, Required: true, Description: "PNG file to write; parent directories are created"},
			Field{Name: "selector", Type: TypeString, Description: "CSS selector of an element to capture instead of the viewport"},
			Field{Name: "full_page", Type: TypeBoolean, Default: "false", Description: "capture the whole page, not just the viewport"}),
		kind("browser_close", "Closes the browser session.", execBrowserClose),
	}
}

func execBrowserOpen(ctx context.Context, c call) (string, error) {
	headless, err := c.boolean("headless", true)
	if err != nil {
		return "", err
	}
	name, err := c.str("session")
	if err != nil {
		return "", err
	}
	shared := c.r.shared
	if name == "" {
		name = "browser"
		if shared.opened > 0 {
			name += "-" + strconv.Itoa(shared.opened+1)
		}
	}
	if _, taken := shared.browsers[name]; taken {
		return "", fmt.Errorf("session: a browser session %q is already open", name)
	}
	path, err := c.r.engine.chromiumPath()
	if err != nil {
		return "", err
	}
	b, err := openBrowser(shared.ctx, ctx, path, headless, c.r.engine.logger)
	if err != nil {
		return "", err
	}
	b.name = name
	if shared.browsers == nil {
		shared.browsers = make(map[string]*browserSession)
	}
	shared.browsers[name] = b
	shared.opened++
	sessionVar, err := c.str("session_var")
	if err != nil || sessionVar == "" {
		return "", err
	}
	return "", c.set(sessionVar, name)
}

// browserAction runs f against the node's browser session.
func (c call) browserAction(ctx context.Context, f func(ctx context.Context) error) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	actx, done := b.action(ctx)
	defer done()
	return f(actx)
}

func execBrowserNavigate(ctx context.Context, c call) (string, error) {
	url, err := c.requiredStr("url")
	if err != nil {
		return "", err
	}
	return "", c.browserAction(ctx, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(url))
	})
}

func execBrowserClick(ctx context.Context, c call) (string, error) {
	sel, err := c.requiredStr("selector")
	if err != nil {
		return "", err
	}
	return "", c.browserAction(ctx, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
	})
}

func execBrowserType(ctx context.Context, c call) (string, error) {
	sel, err := c.requiredStr("selector")
	if err != nil {
		return "", err
	}
	text, err := c.str("text")
	if err != nil {
		return "", err
	}
	clear, err := c.boolean("clear", false)
	if err != nil {
		return "", err
	}
	steps := []chromedp.Action[chromedp.Void]{}
	if clear {
		steps = append(steps, chromedp.Clear(chromedp.CSS(sel)))
	}
	steps = append(steps, chromedp.SendKeys(chromedp.CSS(sel), text))
	return "", c.browserAction(ctx, func(ctx context.Context) error {
		return chromedp.Do(ctx, steps...)
	})
}

func execBrowserExtractText(ctx context.Context, c call) (string, error) {
	sel, err := c.requiredStr("selector")
	if err != nil {
		return "", err
	}
	var text string
	err = c.browserAction(ctx, func(ctx context.Context) error {
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		return err
	})
	if err != nil {
		return "", err
	}
	return "", c.setOutput(text)
}

func execBrowserWaitFor(ctx context.Context, c call) (string, error) {
	sel, err := c.requiredStr("selector")
	if err != nil {
		return "", err
	}
	timeout, err := c.duration("timeout", 30*time.Second)
	if err != nil {
		return "", err
	}
	return "", c.browserAction(ctx, func(ctx context.Context) error {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel)))
		if err != nil && wctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("%s did not become visible within %s", sel, timeout)
		}
		return err
	})
}

func execBrowserScreenshot(ctx context.Context, c call) (string, error) {
	path, err := c.requiredStr("path")
	if err != nil {
		return "", err
	}
	sel, err := c.str("selector")
	if err != nil {
		return "", err
	}
	fullPage, err := c.boolean("full_page", false)
	if err != nil {
		return "", err
	}
	var shot chromedp.Action[[]byte]
	switch {
	case sel != "":
		shot = chromedp.Screenshot(chromedp.CSS(sel))
	case fullPage:
		shot = chromedp.FullScreenshot(100) // quality 100 means PNG
	default:
		shot = chromedp.CaptureScreenshot()
	}
	var png []byte
	err = c.browserAction(ctx, func(ctx context.Context) error {
		png, err = chromedp.Run(ctx, shot)
		return err
	})
	if err != nil {
		return "", err
	}
	f, err := c.openFile("path", path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644, true)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(png); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return "", f.Close()
}

func execBrowserClose(_ context.Context, c call) (string, error) {
	b, err := c.browser()
	if err != nil {
		return "", err
	}
	b.close()
	delete(c.r.shared.browsers, b.name)
	return "", nil
}
