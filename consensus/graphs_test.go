package consensus

import "testing"

// FuzzParseGraphRef: whatever it accepts prints back as the same ref.
func FuzzParseGraphRef(f *testing.F) {
	for _, s := range []string{"wf-1@3", "@1", "a@0", "a@b@2", "a@", "a@-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseGraphRef(s)
		if err != nil {
			return
		}
		back, err := ParseGraphRef(ref.String())
		if err != nil || back != ref || ref.Version < 1 || ref.WorkflowID == "" {
			t.Fatalf("%q parsed as %+v, which prints as %q and parses back as %+v, %v", s, ref, ref.String(), back, err)
		}
	})
}
