package consensus

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/s2"
)

// mergedSubmit is the envelope of a merged submit of n plain jobs, as
// the leader stamps it.
func mergedSubmit(t testing.TB, n int) []byte {
	t.Helper()
	specs := make([]JobSpec, n)
	for i := range specs {
		specs[i] = JobSpec{ID: fmt.Sprintf("0193a1b2-c3d4-7e5f-8a9b-%012d", i), WorkflowID: "w1", ExecutionMode: ModeLAN}
	}
	buf, err := encodeCommand(cmdSubmitGroups, SubmitGroupsCmd{Groups: [][]JobSpec{specs}})
	if err != nil {
		t.Fatal(err)
	}
	stampTime(buf, time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC))
	return buf
}

func TestCompressEntryRoundTrip(t *testing.T) {
	large := mergedSubmit(t, 1000)
	random := append([]byte{byte(cmdPutWorkflow), 1, 2, 3, 4, 5, 6, 7, 8}, rand.Text()...)
	for len(random) < headerLen+2*compressAtLeast {
		random = append(random, rand.Text()...)
	}
	for _, tc := range []struct {
		name       string
		envelope   []byte
		compressed bool
	}{
		{"a merged submit of a thousand jobs", large, true},
		{"a small entry", mergedSubmit(t, 3), false},
		{"an entry that does not compress", random, false},
		{"a bare header", large[:headerLen], false},
	} {
		entry := compressEntry(tc.envelope)
		if got := commandType(entry[0]) == cmdCompressed; got != tc.compressed {
			t.Fatalf("%s: compressed %v, want %v", tc.name, got, tc.compressed)
		}
		if !tc.compressed && &entry[0] != &tc.envelope[0] {
			t.Fatalf("%s: left uncompressed but copied", tc.name)
		}
		if tc.compressed && 3*len(entry) > len(tc.envelope) {
			t.Fatalf("%s: %d bytes compressed to %d, less than a third off", tc.name, len(tc.envelope), len(entry))
		}
		back, err := expandEntry(entry)
		if err != nil || !bytes.Equal(back, tc.envelope) {
			t.Fatalf("%s: expanded to %d bytes (%v), want the %d of the envelope", tc.name, len(back), err, len(tc.envelope))
		}
		_, at, _, err := splitCommand(entry)
		if _, want, _, _ := splitCommand(tc.envelope); err != nil || !at.Equal(want) {
			t.Fatalf("%s: the entry's header reads time %v (%v), want the envelope's %v", tc.name, at, err, want)
		}
	}
	if again := compressEntry(compressEntry(large)); commandType(again[headerLen]) == cmdCompressed {
		t.Fatal("a compressed entry was compressed again")
	}
	if _, err := expandEntry(compressedPoison()["compressed, too large"]); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("an entry claiming 128 MiB expanded with %v", err)
	}
}

// compressedPoison are compressed entries no replica can expand, or
// that expand to an envelope no handler applies.
func compressedPoison() map[string][]byte {
	header := []byte{byte(cmdCompressed), 0, 0, 0, 0, 0, 0, 0, 0}
	entry := func(inner commandType, block []byte) []byte {
		return append(append(bytes.Clone(header), byte(inner)), block...)
	}
	// A block starts with its expanded length as a uvarint: this one
	// claims 128 MiB, more than maxExpandedEntry.
	huge := []byte{0x80, 0x80, 0x80, 0x40, 0x00}
	return map[string][]byte{
		"compressed, damaged block": entry(cmdSubmitGroups, []byte{0x20, 0xff, 0xff, 0xff, 0x01}),
		"compressed, no type":       header,
		"compressed twice":          entry(cmdCompressed, s2.Encode(nil, []byte(`{}`))),
		"compressed, too large":     entry(cmdSubmitGroups, huge),
		"compressed, undecodable":   entry(cmdSubmitJobs, s2.Encode(nil, []byte(`{nope`))),
	}
}

func init() {
	for name, entry := range compressedPoison() {
		poisonEntries[name] = entry
	}
}

// FuzzExpandEntry: any entry expands or is refused with an error, never
// a panic, and what expands is an envelope of another type.
func FuzzExpandEntry(f *testing.F) {
	f.Add(compressEntry(mergedSubmit(f, 200)))
	for _, entry := range compressedPoison() {
		f.Add(entry)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := expandEntry(data)
		if err == nil && len(out) > 0 && commandType(out[0]) == cmdCompressed {
			t.Fatalf("%x expanded to another compressed entry", data)
		}
	})
}

// TestCompressedEntriesReplicate submits a merged batch large enough to
// be compressed: the log holds it compressed, every replica applies it
// to the same state, and a replica restarted on its data dir replays it.
func TestCompressedEntriesReplicate(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	specs := make([]JobSpec, 500)
	for i := range specs {
		specs[i] = JobSpec{ID: fmt.Sprintf("job-%03d", i), WorkflowID: "w1", ExecutionMode: ModeLAN}
	}
	if _, err := c.follower().SubmitJobs(ctx, specs); err != nil {
		t.Fatal(err)
	}
	index := leader.AppliedIndex()
	if typ := lastEntryType(t, leader); typ != cmdCompressed {
		t.Fatalf("entry %d holds type %s, want a compressed merged submit", index, typ)
	}

	// A server that says it runs an older build stops the compression.
	older, ok := leader.node(c.stores[2].cfg.Name)
	if !ok {
		t.Fatalf("%s is not registered", c.stores[2].cfg.Name)
	}
	older.LogFormat = 0
	if err := leader.registerNode(ctx, older); err != nil {
		t.Fatal(err)
	}
	for i := range specs {
		specs[i].ID = fmt.Sprintf("later-%03d", i)
	}
	if _, err := leader.SubmitJobs(ctx, specs); err != nil {
		t.Fatal(err)
	}
	if typ := lastEntryType(t, leader); typ != cmdSubmitGroups {
		t.Fatalf("with a server of an older build, the merged submit's entry holds type %s", typ)
	}

	index = leader.AppliedIndex()
	want := waitSameState(t, c.stores, index)
	for _, s := range c.stores {
		if _, ok, _ := s.Job("job-499"); !ok {
			t.Fatalf("%s lacks the batch's last job", s.cfg.Name)
		}
		if n := s.AppliedEntries()[cmdSubmitGroups.String()]; n == 0 {
			t.Fatalf("%s counts no submit_groups entry: %v", s.cfg.Name, s.AppliedEntries())
		}
	}

	c.restartReplaying(ctx, 2, index, want, "a log holding a compressed entry")
}

// lastEntryType is the type of the last entry the store applied, as its
// log holds it.
func lastEntryType(t *testing.T, s *Store) commandType {
	t.Helper()
	var l raft.Log
	if err := s.logs.GetLog(s.AppliedIndex(), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Data) == 0 {
		t.Fatalf("entry %d is empty", l.Index)
	}
	return commandType(l.Data[0])
}
