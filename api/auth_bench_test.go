package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// BenchmarkAuthCheck measures what the credential check adds to a
// request, in process and without the network: the same cheap read
// (the queue counts) with a bearer token, against the open /health.
func BenchmarkAuthCheck(b *testing.B) {
	n := apitest.StartLeader(b, "n1")
	h := n.Server.Config.Handler
	for _, tc := range []struct{ name, path, auth string }{
		{"open", "/health", ""},
		{"bearer", "/api/v1/auth/whoami", "Bearer " + apitest.AdminToken},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", tc.path, w.Code, w.Body)
				}
			}
		})
	}
}
