package web

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// minGzipBytes is the smallest file worth compressing: below about a
// kilobyte the gzip header and a round of CPU buy nothing.
const minGzipBytes = 1024

// gzipCache holds the gzip form of the bundle's text files, made on the
// first request for each, so the page weighs what the build reports
// (about a third of the raw size) without compressing on every request
// or at startup of every server a test builds.
type gzipCache struct {
	mu sync.Mutex
	// m maps a file name to its compressed bytes; nil means the file is
	// not worth compressing.
	m map[string][]byte
}

// get returns the compressed form of data, the file at name, or nil when
// it should be sent as it is.
func (c *gzipCache) get(name, contentType string, data []byte) []byte {
	if len(data) < minGzipBytes || !compressible(contentType) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gz, ok := c.m[name]; ok {
		return gz
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, werr := zw.Write(data)
	cerr := zw.Close()
	var gz []byte
	if werr == nil && cerr == nil && buf.Len() < len(data) {
		gz = buf.Bytes()
	}
	c.m[name] = gz
	return gz
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json") || strings.HasPrefix(contentType, "image/svg+xml")
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
