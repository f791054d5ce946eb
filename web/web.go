package web

import (
	"bytes"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// reservedPrefixes are the API's paths. The app never answers under them,
// so a mistyped API path gets the API's JSON error, not an HTML page.
var reservedPrefixes = []string{"/api", "/internal", "/health", "/metrics"}

// Cache rules. Vite puts a content hash into every file name under
// assets/, so those never change and may be cached for good; index.html
// names the current hashes and must be revalidated on every load, or a
// browser would keep running an old build after an upgrade.
const (
	assetsDir        = "/assets/"
	immutableCaching = "public, max-age=31536000, immutable"
	revalidate       = "no-cache"
)

// Serves reports whether the app answers r: a GET or HEAD outside the
// API's prefixes.
func Serves(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	for _, prefix := range reservedPrefixes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return false
		}
	}
	return true
}

// Handler serves the embedded bundle: a file of the bundle as itself,
// and any other path that looks like a page (no file extension, not
// under assets/) as index.html.
type Handler struct {
	files fs.FS
	index []byte
	gz    gzipCache
}

// NewHandler returns the handler of the embedded bundle.
func NewHandler() *Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // only for an invalid literal path
	}
	return newHandler(files)
}

// newHandler serves files. A bundle without index.html (a broken build;
// the embed directive already refuses a missing dist/) answers pages with a 500
// that says how to fix it, rather than stopping the node.
func newHandler(files fs.FS) *Handler {
	index, _ := fs.ReadFile(files, "index.html")
	return &Handler{files: files, index: index}
}

// ServeHTTP answers one request. Callers route only requests for which
// Serves is true; others get 405 or 404 here too.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean("/" + r.URL.Path)
	if name != "/" && name != "/index.html" && h.serveFile(w, r, name) {
		return
	}
	isPage := name == "/index.html" || (path.Ext(name) == "" && !strings.HasPrefix(name+"/", assetsDir))
	if !isPage {
		// A missing asset must fail as itself: index.html in its place
		// would only show up as a MIME type error in the browser.
		http.NotFound(w, r)
		return
	}
	if h.index == nil {
		http.Error(w, "this build of casare has no web app bundle: run `make web` and build again", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", revalidate)
	h.send(w, r, "/index.html", h.index)
}

// serveFile answers with the bundle's file at name and reports whether
// there was one.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	data, err := fs.ReadFile(h.files, strings.TrimPrefix(name, "/"))
	if err != nil {
		return false // absent, or a directory
	}
	if strings.HasPrefix(name, assetsDir) {
		w.Header().Set("Cache-Control", immutableCaching)
	} else {
		w.Header().Set("Cache-Control", revalidate)
	}
	h.send(w, r, name, data)
	return true
}

// send answers with a file's bytes, gzipped when the client takes it and
// it pays. Embedded files have no modification time, so there is no
// Last-Modified; hashed asset names and revalidation do the caching.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		if gz := h.gz.get(name, ctype, data); gz != nil {
			w.Header().Set("Content-Encoding", "gzip")
			data = gz
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
