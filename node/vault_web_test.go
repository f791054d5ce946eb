package node

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// webValue is typed into the page's password field.
const webValue = `web-Pa55"word<&>-4Rt`

// TestSecretsPageSetsConnectsAndDeletesWithoutShowingValues drives the web
// app's Secrets page in headless Chromium against a real node, as an
// admin: it sets a secret through the form (the node stores exactly the
// typed value, the field is emptied, and neither the page nor any answer
// the browser received holds it), gets an OAuth consent link with PKCE
// and a state, and deletes the secret after the confirmation. A viewer
// sees the names but no button that writes.
func TestSecretsPageSetsConnectsAndDeletesWithoutShowingValues(t *testing.T) {
	chromium, err := findChromium()
	if err != nil {
		t.Skip(err)
	}
	n := startNode(t, testConfig(t, "web", ""))
	admin := adminClient(t, n, n)
	ctx := context.Background()
	if _, err := admin.SetSecret(ctx, "CRM_PASSWORD", wire.PutSecretRequest{Value: "already-there-1", AllowedWorkflows: []string{"crm-login"}}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.HTTPAddr()

	tab := newTab(t, chromium)
	signIn(t, tab, admin, base)
	do(t, tab, "the vault lists the secret", chromedp.WaitVisible(`//td//strong[text()="CRM_PASSWORD"]`))

	// Set a secret through the form.
	const set = `form[aria-label="Set a secret"] `
	do(t, tab, "set a secret",
		typeInto(chromedp.CSS(set+`input[type=text]`), "WEB_PW"),
		typeInto(chromedp.CSS(set+`input[type=password]`), webValue),
		chromedp.Click(chromedp.CSS(set+`button[type=submit]`)),
		chromedp.WaitVisible(`//td//strong[text()="WEB_PW"]`),
	)
	if field := browse(t, tab, "read the password field", chromedp.Value(chromedp.CSS(set+`input[type=password]`))); field != "" {
		t.Fatalf("the password field still holds %q after the set", field)
	}
	got, err := n.Store().OpenSecret("WEB_PW")
	if err != nil || string(got) != webValue {
		t.Fatalf("the node stored %q (%v), want what was typed", got, err)
	}

	// Connect an OAuth account: the page shows the consent link.
	const oauth = `form[aria-label="Connect an OAuth account"] `
	do(t, tab, "ask for a consent link",
		typeInto(chromedp.CSS(oauth+`input[placeholder="CRM_REFRESH"]`), "CRM_REFRESH"),
		typeInto(chromedp.CSS(oauth+`input[placeholder="casare-robots"]`), "casare"),
		typeInto(chromedp.CSS(oauth+`input[placeholder$="authorize"]`), "http://127.0.0.1:9/authorize"),
		typeInto(chromedp.CSS(oauth+`input[placeholder$="token"]`), "http://127.0.0.1:9/token"),
		typeInto(chromedp.CSS(oauth+`input[placeholder^="offline_access"]`), "offline_access crm.read"),
		chromedp.Click(chromedp.CSS(oauth+`button[type=submit]`)),
		chromedp.WaitVisible(`//a[text()="Open consent page"]`),
	)
	href := browse(t, tab, "read the consent link", chromedp.AttributeValue(`//a[text()="Open consent page"]`, "href")).Value
	u, err := url.Parse(href)
	if err != nil || u.Host != "127.0.0.1:9" || u.Path != "/authorize" {
		t.Fatalf("consent link %q", href)
	}
	q := u.Query()
	if q.Get("state") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" ||
		q.Get("client_id") != "casare" || q.Get("scope") != "offline_access crm.read" {
		t.Fatalf("consent link %q lacks PKCE, state, client or scopes", href)
	}
	screenshot(t, tab, "secrets-oauth.png")

	// Delete, accepting the confirmation.
	dialogs, stop := context.WithCancel(tab)
	defer stop()
	go func() {
		for _, err := range chromedp.Events(dialogs, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			go chromedp.Call(dialogs, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	do(t, tab, "delete the secret",
		chromedp.Click(chromedp.CSS(`button[aria-label="Delete secret WEB_PW"]`)),
		chromedp.WaitNotPresent(`//td//strong[text()="WEB_PW"]`),
	)
	stop()
	if _, found := n.Store().SecretInfo("WEB_PW"); found {
		t.Fatal("the secret is still in the vault after the delete")
	}
	assertNoLeak(t, "the page", []byte(browse(t, tab, "read the page", chromedp.OuterHTML(chromedp.CSS("html")))), webValue)

	// A viewer sees the vault but nothing that writes.
	viewer, err := admin.CreateAPIToken(ctx, wire.CreateTokenRequest{Name: "watcher", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	vtab := newTab(t, chromium)
	signIn(t, vtab, client.New(base, client.WithToken(viewer.Token)), base)
	do(t, vtab, "the viewer's vault", chromedp.WaitVisible(`//td//strong[text()="CRM_PASSWORD"]`))
	writes := browse(t, vtab, "look for writes", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('button, form')].map(e => e.getAttribute('aria-label') || e.textContent).filter(s => /Delete|New value|Set a secret|Connect an OAuth/.test(s))`))
	if len(writes) != 0 {
		t.Fatalf("a viewer sees %q", writes)
	}
}

func findChromium() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// newTab starts a headless Chromium and returns its tab.
func newTab(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1440, 1400))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first action starts the browser: no timeout on it, which would
	// stop the browser when it ran out.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	return tab
}

// signIn signs the tab in with c's credential and opens the Secrets page.
func signIn(t *testing.T, tab context.Context, c *client.Client, base string) {
	t.Helper()
	code, err := c.CreateSignInCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	do(t, tab, "sign in", chromedp.Navigate(base+code.Path+"&next="+url.QueryEscape("/secrets")))
}

// typeInto focuses the field and types v as key events. (SendKeys reads
// the node's attributes without its lock while React changes them, which
// the race detector reports.)
func typeInto(sel chromedp.CSS, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(sel), chromedp.KeyEvent(v))
}

// do runs steps in tab, each call bounded.
func do(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browse(t, tab, what, chromedp.Steps(steps...))
}

func browse[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot keeps the page in the test's temp dir, or in
// $CASARE_SCREENSHOTS when set (how web/screenshots are refreshed).
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	// The toasts would cover what the page shows: dismiss them.
	browse(t, tab, "dismiss the toasts", chromedp.Evaluate[int](
		`[...document.querySelectorAll('.toasts button[aria-label="Dismiss"]')].map(b => b.click()).length`))
	do(t, tab, "wait for the toasts to go", chromedp.WaitNotPresent(chromedp.CSS(`.toasts button`)))
	png := browse(t, tab, "screenshot", chromedp.CaptureScreenshot())
	dir := os.Getenv("CASARE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
