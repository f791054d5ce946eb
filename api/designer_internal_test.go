package api

import (
	"encoding/json"
	"testing"

	"github.com/casare/casare/executor"
)

// FuzzValidationReport feeds arbitrary workflow documents to POST
// /api/v1/workflows/validate's checker: it never panics, and it calls a
// document valid exactly when the executor would run it and saving
// would take it.
func FuzzValidationReport(f *testing.F) {
	f.Add([]byte(`{"name":"w","nodes":[{"id":"s","type":"start"}]}`))
	f.Add([]byte(`{"name":"w","nodes":[{"id":"s","type":"start"},{"id":"d","type":"delay","config":{"duration":"soon"}}],"connections":[{"from":"s","to":"d"}]}`))
	f.Add([]byte(`{"nodes":[{"id":"s","type":"start"},{"id":"x","type":"if","config":{"condition":"(("}}],"connections":[{"from":"s","to":"x","port":"maybe"}]}`))
	f.Add([]byte(`{"name":"\u202e","nodes":[]}`))
	f.Add([]byte(`[1]`))
	f.Add([]byte(`{"name":1}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return // the request's decoder refuses it before the checker runs
		}
		r := validationReport(doc)
		_, err := executor.ParseAndValidate(doc)
		if r.Valid != (err == nil && r.Error == "") {
			t.Fatalf("valid %v, executor says %v, report %+v", r.Valid, err, r)
		}
		if !r.Valid && r.Error == "" && len(r.Problems) == 0 {
			t.Fatalf("invalid without a reason: %+v", r)
		}
		if r.Problems == nil {
			t.Fatal("problems must be a list, not null")
		}
	})
}
