package web

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// get serves one request and returns the answer.
func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, path, nil))
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEveryAppRouteIsAnsweredWithIndexHTML checks the history-API
// fallback on the real embedded bundle: a reload of any view gets the
// app, which then shows that view.
func TestEveryAppRouteIsAnsweredWithIndexHTML(t *testing.T) {
	h := NewHandler()
	index, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/index.html", "/robots", "/jobs", "/jobs/0b9f2c1e-7d", "/jobs?state=failed", "/workflows", "/workflows/wf-1", "/schedules", "/cluster", "/designer/wf-1"} {
		resp := get(t, h, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != revalidate {
			t.Errorf("GET %s: Cache-Control %q; index.html must be revalidated so upgrades show", path, cc)
		}
		if got := body(t, resp); got != string(index) {
			t.Errorf("GET %s: body is not index.html: %.80q", path, got)
		}
	}
	if resp := get(t, h, http.MethodHead, "/jobs/x"); resp.StatusCode != http.StatusOK || body(t, resp) != "" {
		t.Errorf("HEAD /jobs/x: status %d, want 200 and no body", resp.StatusCode)
	}
}

// TestAssetsAreServedWithTheirContentType serves every file of the real
// bundle and checks its type and caching.
func TestAssetsAreServedWithTheirContentType(t *testing.T) {
	h := NewHandler()
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	seen := map[string]bool{}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "dist/index.html" {
			return err
		}
		path := strings.TrimPrefix(p, "dist")
		ext := path[strings.LastIndex(path, "."):]
		resp := get(t, h, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		if ct, ok := want[ext]; ok {
			seen[ext] = true
			if got := resp.Header.Get("Content-Type"); got != ct {
				t.Errorf("GET %s: Content-Type %q, want %q", path, got, ct)
			}
		}
		wantCache := revalidate
		if strings.HasPrefix(path, assetsDir) {
			wantCache = immutableCaching
		}
		if got := resp.Header.Get("Cache-Control"); got != wantCache {
			t.Errorf("GET %s: Cache-Control %q, want %q", path, got, wantCache)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for ext := range want {
		if !seen[ext] {
			t.Errorf("the bundle has no %s file: is web/dist built?", ext)
		}
	}
}

// TestMissingFilesAreNotAnsweredWithTheApp: a stale or mistyped asset
// URL must fail as itself, not load index.html as JavaScript.
func TestMissingFilesAreNotAnsweredWithTheApp(t *testing.T) {
	h := NewHandler()
	for _, path := range []string{"/assets/index-gone.js", "/assets/", "/favicon.ico", "/robots.txt"} {
		if resp := get(t, h, http.MethodGet, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := get(t, h, http.MethodPost, "/jobs"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /jobs: status %d, want 405", resp.StatusCode)
	}
}

func TestServesLeavesTheAPIPathsAlone(t *testing.T) {
	cases := map[string]bool{
		"GET /": true, "GET /jobs/1": true, "HEAD /cluster": true, "GET /apis": true, "GET /healthz-page": true,
		"GET /api": false, "GET /api/v1/nope": false, "GET /internal/v1/x": false, "GET /health": false,
		"GET /health/ready": false, "GET /metrics": false, "POST /jobs": false, "DELETE /": false,
	}
	for req, want := range cases {
		method, path, _ := strings.Cut(req, " ")
		if got := Serves(httptest.NewRequest(method, path, nil)); got != want {
			t.Errorf("Serves(%s) = %v, want %v", req, got, want)
		}
	}
}

// TestABundleWithoutIndexSaysHowToFixIt: a broken build answers pages
// with a 500 that names the fix, and the node keeps running.
func TestABundleWithoutIndexSaysHowToFixIt(t *testing.T) {
	h := newHandler(fstest.MapFS{"assets/a.js": {Data: []byte("1")}})
	resp := get(t, h, http.MethodGet, "/jobs")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body(t, resp), "make web") {
		t.Fatalf("status %d; want 500 naming make web", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodGet, "/assets/a.js"); resp.StatusCode != http.StatusOK {
		t.Fatalf("asset: status %d", resp.StatusCode)
	}
}

// TestTextFilesAreSentGzippedToClientsThatTakeIt: the page weighs what
// the build reports, and a client without gzip still gets plain bytes.
func TestTextFilesAreSentGzippedToClientsThatTakeIt(t *testing.T) {
	h := NewHandler()
	index := string(body(t, get(t, h, http.MethodGet, "/")))
	script := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(index)
	if script == "" {
		t.Fatalf("index.html names no script: %s", index)
	}
	plain := body(t, get(t, h, http.MethodGet, script))
	for _, accept := range []string{"gzip", "br, gzip;q=0.8", "GZIP"} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, script, nil)
		req.Header.Set("Accept-Encoding", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Fatalf("Accept-Encoding %q: encoding %q, type %q", accept, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || string(unzipped) != plain {
			t.Fatalf("gzipped body does not unzip to the file (%v)", err)
		}
		if rec.Body.Len() >= len(plain)/2 {
			t.Errorf("gzipped %d bytes of %d: expected at least half saved", rec.Body.Len(), len(plain))
		}
	}
	for _, accept := range []string{"", "br", "gzip;q=0"} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, script, nil)
		req.Header.Set("Accept-Encoding", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Result().Header.Get("Content-Encoding") != "" || rec.Body.String() != plain {
			t.Errorf("Accept-Encoding %q: got an encoded body", accept)
		}
	}
}
