// Package web tests the dashboard in a real browser: Go tests start
// casare processes on loopback (three servers and a robot-only member)
// and drive Debian's headless Chromium (/usr/bin/chromium) against the
// pages they serve with chromedp. The package holds only tests.
//
// Screenshots of every view are written to $CASARE_ARTIFACTS/dashboard,
// or to a fresh temporary directory when CASARE_ARTIFACTS is unset; the
// test logs the directory. To refresh the committed screenshots:
//
//	CASARE_SCREENSHOTS=$PWD/web/screenshots go test -count=1 ./test/web/
package web
