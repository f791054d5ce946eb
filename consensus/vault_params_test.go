package consensus

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzSplitParams checks the parser of job params on the way into Raft:
// any input either is refused as not a JSON object or splits into params
// whose named values are all "***" (which the FSM's check accepts) and a
// sealed part that merges back into exactly the original params.
func FuzzSplitParams(f *testing.F) {
	f.Add([]byte(`{"password":"hunter2","user":"ann"}`), "password")
	f.Add([]byte(`{"password":{"nested":[1,2]},"n":3}`), "password,n")
	f.Add([]byte(`{"password":"***"}`), "password")
	f.Add([]byte(`{"a":1,"a":2}`), "a")
	f.Add([]byte(`[1,2]`), "x")
	f.Add([]byte(`null`), "x")
	f.Add([]byte(`null`), "")
	f.Add([]byte(`{"\u0070assword":"é<&>"}`), "password")
	f.Fuzz(func(t *testing.T, params []byte, list string) {
		names := strings.Split(list, ",")
		masked, plain, err := splitParams(params, names)
		if err != nil {
			if !IsCode(err, CodeInvalid) {
				t.Fatalf("refusal is not invalid: %v", err)
			}
			return
		}
		if plain == nil {
			if string(masked) != string(params) {
				t.Fatalf("nothing to hide, but params changed: %s → %s", params, masked)
			}
			return
		}
		st := newState()
		if err := st.checkSpecParams(&JobSpec{Params: masked}, names); err != nil {
			t.Fatalf("the FSM refuses the masked params %s: %v", masked, err)
		}
		merged, err := mergeParams(masked, plain)
		if err != nil {
			t.Fatal(err)
		}
		var want, got map[string]any
		if json.Unmarshal(params, &want) != nil || json.Unmarshal(merged, &got) != nil || !reflect.DeepEqual(want, got) {
			t.Fatalf("merged params %s differ from %s", merged, params)
		}
	})
}

// TestCheckSpecParamsRefusesClearAndRetiredKeys checks the FSM's guard:
// a secret variable in clear, or sealed under a key the cluster retired,
// is a conflict the submitting server answers by sealing again.
func TestCheckSpecParamsRefusesClearAndRetiredKeys(t *testing.T) {
	st := newState()
	vars := []string{"password"}
	clear := JobSpec{Params: json.RawMessage(`{"password":"hunter2"}`)}
	if err := st.checkSpecParams(&clear, vars); !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), errParamsResealMsg) {
		t.Fatalf("params in clear: %v", err)
	}
	masked := JobSpec{Params: json.RawMessage(`{"password":"***"}`), SealedParams: &SealedParams{KeyID: "k1"}}
	if err := st.checkSpecParams(&masked, vars); err != nil {
		t.Fatalf("sealed params before any key is named: %v", err)
	}
	st.vaultKeyID = "k2"
	if err := st.checkSpecParams(&masked, vars); !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), "k1") {
		t.Fatalf("params sealed under a retired key: %v", err)
	}
	if err := st.checkSpecParams(&JobSpec{Params: json.RawMessage(`{"user":"ann"}`)}, vars); err != nil {
		t.Fatalf("params without the secret variable: %v", err)
	}
}
