package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// readBodyOf runs readBody on a request whose body is body and whose
// declared length is declared (-1: none, as for a chunked body).
func readBodyOf(t *testing.T, body string, declared, limit int64) ([]byte, error) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
	req.ContentLength = declared
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = req
	return readBody(c, limit)
}

func TestReadBodyTakesWhatArrivesWithinTheLimit(t *testing.T) {
	big := strings.Repeat("j", 3*presizeBytes)
	for _, tc := range []struct {
		name     string
		body     string
		declared int64
	}{
		{"declared", `{"jobs":[]}`, 11},
		{"chunked", `{"jobs":[]}`, -1},
		{"empty", ``, 0},
		{"larger than the presize", big, int64(len(big))},
		{"exactly the presize", big[:presizeBytes], presizeBytes},
		// What arrives counts, not what was declared (a real server
		// would report the body cut short; httptest's reader ends
		// early without an error).
		{"declared more than sent", `{"jobs":[]}`, 4 << 20},
		{"declared more than sent, under the presize", `{"jobs":[]}`, 1000},
	} {
		got, err := readBodyOf(t, tc.body, tc.declared, 4<<20)
		if err != nil || !bytes.Equal(got, []byte(tc.body)) {
			t.Errorf("%s: read %d bytes, err %v; want the %d sent", tc.name, len(got), err, len(tc.body))
		}
	}
}

func TestReadBodyRefusesMoreThanTheLimit(t *testing.T) {
	body := strings.Repeat("j", 2048)
	for _, declared := range []int64{-1, 2048, 100} {
		_, err := readBodyOf(t, body, declared, 1024)
		var apiErr *apiError
		if !errors.As(err, &apiErr) || apiErr.code != CodeBodyTooLarge {
			t.Errorf("declared %d: err %v, want %s", declared, err, CodeBodyTooLarge)
		}
	}
}

// A client that declares a large body and sends little costs the node
// little: the declared length is not allocated beyond presizeBytes.
func TestReadBodyAllocatesAtMostThePresizeForADeclaredLength(t *testing.T) {
	const limit = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := readBodyOf(t, `{}`, limit, limit); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	// The request and its context cost about 15 KB, and a presized
	// buffer (none here) would count twice under -race: far from the
	// declared 64 MiB either way.
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*presizeBytes {
		t.Fatalf("a body declared as %d bytes that sent 2 cost %d bytes, want at most %d", limit, got, 4*presizeBytes)
	}
}

// BenchmarkReadBody reads a batch of 100 jobs' size.
func BenchmarkReadBody(b *testing.B) {
	body := strings.Repeat(`{"workflow_id":"wf-0001","params":{"n":1}},`, 500)
	gin.SetMode(gin.ReleaseMode)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = req
		if _, err := readBody(c, 8<<20); err != nil {
			b.Fatal(err)
		}
	}
}
