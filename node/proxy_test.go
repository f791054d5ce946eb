package node

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The proxy shuns a server for a no_leader, not_member or catching_up
// answer alone, and the client still reads the whole answer.
func TestAnsweredElsewhereReadsTheErrorAndGivesItBack(t *testing.T) {
	long := `{"error":{"code":"no_leader","message":"` + strings.Repeat("x", 2*maxErrorPeek) + `"}}`
	for name, tc := range map[string]struct {
		status     int
		retryAfter string
		body       string
		want       bool
	}{
		"no_leader":               {503, "1", `{"error":{"code":"no_leader","message":"no leader"}}`, true},
		"catching_up":             {503, "1", `{"error":{"code":"catching_up","message":"replaying"}}`, true},
		"not_member":              {503, "1", `{"error":{"code":"not_member","message":"removed"}}`, true},
		"too_many_streams":        {503, "1", `{"error":{"code":"too_many_streams","message":"busy"}}`, false},
		"503 without Retry-After": {503, "", `{"error":{"code":"no_leader"}}`, false},
		"a success":               {200, "", `{"jobs":[]}`, false},
		"not JSON":                {503, "1", `<html>busy</html>`, false},
		"longer than the peek":    {503, "1", long, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
		if tc.retryAfter != "" {
			resp.Header.Set("Retry-After", tc.retryAfter)
		}
		if got := answeredElsewhere(resp); got != tc.want {
			t.Errorf("%s: answeredElsewhere = %v, want %v", name, got, tc.want)
		}
		if body, err := io.ReadAll(resp.Body); err != nil || string(body) != tc.body {
			t.Errorf("%s: the client read %d bytes (%v), want the whole answer of %d", name, len(body), err, len(tc.body))
		}
	}
}
