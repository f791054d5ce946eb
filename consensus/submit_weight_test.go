package consensus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSubmitWeightBoundsItsEncoding: a submit weighs at least the bytes
// its specs encode to, sealed parameters (base64 in the entry) and every
// string included, so that maxGroupBytes bounds a merged submit entry and
// one client's large sealed parameters cannot take the entry that carries
// other clients' submits past the leader's limit on forwarded entries.
func TestSubmitWeightBoundsItsEncoding(t *testing.T) {
	odd := strings.Repeat("\x01\"é", 300)
	spec := JobSpec{
		ID: odd, WorkflowID: odd, Params: json.RawMessage(`{"token":"***"}`),
		SealedParams:  &SealedParams{KeyID: odd, Ciphertext: bytes.Repeat([]byte{0xff}, 64<<10)},
		ExecutionMode: ModeAny, RobotTags: []string{odd, odd}, PinnedRobot: odd, RerunOf: odd,
		UniqueKey: odd, ScheduleID: odd, Debug: &DebugOptions{Breakpoints: []string{odd}},
	}
	specs := []JobSpec{spec, spec}
	enc, err := encodeJSON(specs)
	if err != nil {
		t.Fatal(err)
	}
	if _, weight := weighSpecs(specs); weight < len(enc) {
		t.Errorf("specs that encode to %d bytes weigh %d", len(enc), weight)
	}
}
