//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// The register test treats each workflow as a register: a write stores a
// new version whose graph carries the value in its variables, and a
// consistent read returns the latest version's value.
const (
	registers       = 3
	registerClients = 8
	// writeRetryWindow bounds the retries of one write (same
	// Idempotency-Key, so still one operation); after it the write's
	// outcome is unknown.
	writeRetryWindow = 8 * time.Second
	opTimeout        = 3 * time.Second
	checkTimeout     = 2 * time.Minute
)

type registerInput struct {
	key   int
	write bool
	value int
	node  string // the node a read was served by, for messages
}

// registerModel is a set of independent integer registers, checked one
// key at a time.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := make([][]porcupine.Operation, registers)
		for _, op := range history {
			k := op.Input.(registerInput).key
			byKey[k] = append(byKey[k], op)
		}
		return byKey
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		in := input.(registerInput)
		if in.write {
			return true, in.value
		}
		return output.(int) == state.(int), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(registerInput)
		if in.write {
			return fmt.Sprintf("write(r%d, %d)", in.key, in.value)
		}
		return fmt.Sprintf("read(r%d) on %s → %v", in.key, in.node, output)
	},
}

func registerName(key int) string { return fmt.Sprintf("register-%d", key) }

func registerGraph(key, value int) json.RawMessage {
	return workflowJSON(registerName(key), map[string]any{"value": value})
}

// TestLinearizableReads checks with porcupine that writes and consistent
// reads sent to any node form a linearizable history across a leader
// crash, its restart, and a leader frozen until it is deposed.
func TestLinearizableReads(t *testing.T) {
	c := startCluster(t, 3)
	ctx := t.Context()
	ids := make([]string, registers)
	for k := range registers {
		resp, err := c.leader().client.CreateWorkflow(ctx, registerWrite(k, 0), client.IdempotencyKey(fmt.Sprintf("init-%d", k)))
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = resp.WorkflowID
	}

	h := &history{tb: t, start: time.Now(), nodes: c.all(), ids: ids}
	stop := make(chan struct{})
	var clients sync.WaitGroup
	stopClients := sync.OnceFunc(func() { close(stop); clients.Wait() })
	defer stopClients()
	for range registerClients {
		clients.Go(func() { h.runClient(ctx, stop) })
	}

	// Faults while the clients run: a leader crash and restart, then a
	// leader frozen long enough to be deposed, which then wakes up still
	// believing it leads.
	time.Sleep(2 * time.Second)
	first := c.leader()
	killedAt := first.kill()
	_, took := c.waitNewLeader(first, killedAt)
	t.Logf("leader %s SIGKILLed; new leader after %v", first.name, took)
	time.Sleep(2 * time.Second)
	first.restart()
	c.waitReplicated()
	time.Sleep(time.Second)
	second := c.leader()
	second.pause()
	t.Logf("leader %s SIGSTOPped", second.name)
	time.Sleep(4 * time.Second)
	second.resume()
	t.Logf("leader %s SIGCONTinued", second.name)
	time.Sleep(3 * time.Second)
	stopClients()

	ops := h.operations()
	s := &h.counts
	t.Logf("history: %d operations: %d reads ok, %d reads failed (dropped), %d writes ok, %d writes with unknown outcome",
		len(ops), s.readsOK.Load(), s.readsFailed.Load(), s.writesOK.Load(), s.writesUnknown.Load())
	if s.readsOK.Load() < 50 || s.writesOK.Load() < 50 {
		t.Fatalf("too few successful operations to judge linearizability")
	}
	result, info := porcupine.CheckOperationsVerbose(registerModel, ops, checkTimeout)
	if result != porcupine.Ok {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("casare-linearizability-%d.html", time.Now().UnixNano()))
		if err := porcupine.VisualizePath(registerModel, info, path); err != nil {
			t.Logf("visualize history: %v", err)
		}
		for _, stale := range staleReads(ops, 10) {
			t.Log(stale)
		}
		t.Fatalf("history is not linearizable: porcupine says %s; visualization in %s", result, path)
	}
}

// registerValue reads the value a register's workflow graph carries.
func registerValue(graph json.RawMessage) (int, error) {
	var g struct {
		Variables struct {
			Value int `json:"value"`
		} `json:"variables"`
	}
	if err := json.Unmarshal(graph, &g); err != nil {
		return 0, fmt.Errorf("graph does not decode: %w", err)
	}
	return g.Variables.Value, nil
}

func registerWrite(key, value int) api.CreateWorkflowRequest {
	return api.CreateWorkflowRequest{WorkflowName: registerName(key), WorkflowJSON: registerGraph(key, value), TriggerType: "none"}
}

// history records the operations of all clients with times relative to
// start. A write that never got a 2xx may or may not have happened, so
// it returns at "infinity"; a failed read changed nothing and is dropped.
type history struct {
	tb    testing.TB
	start time.Time
	nodes []*node
	ids   []string

	mu      sync.Mutex
	ops     []porcupine.Operation
	clients atomic.Int64
	values  atomic.Int64
	counts  historyStats
}

type historyStats struct {
	readsOK, readsFailed, writesOK, writesUnknown atomic.Int64
}

func (h *history) now() int64 { return time.Since(h.start).Nanoseconds() }

func (h *history) record(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

func (h *history) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]porcupine.Operation(nil), h.ops...)
}

// runClient issues reads and writes to random nodes, dead or paused ones
// included, until stop is closed.
func (h *history) runClient(ctx context.Context, stop <-chan struct{}) {
	id := int(h.clients.Add(1)) - 1 // porcupine numbers clients from 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		key := rand.IntN(registers)
		if rand.IntN(2) == 0 {
			if !h.write(ctx, id, key) {
				// A client whose write is still "in flight" forever
				// continues as a new client, as porcupine expects.
				id = int(h.clients.Add(1)) - 1
			}
		} else {
			h.read(ctx, id, key)
		}
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	}
}

// write stores a fresh value, retrying with one Idempotency-Key, and
// reports whether the outcome is known.
func (h *history) write(ctx context.Context, clientID, key int) bool {
	value := int(h.values.Add(1))
	idemKey := fmt.Sprintf("write-%d", value)
	op := porcupine.Operation{ClientId: clientID, Input: registerInput{key: key, write: true, value: value}, Call: h.now()}
	deadline := time.Now().Add(writeRetryWindow)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n := h.nodes[rand.IntN(len(h.nodes))]
		callCtx, cancel := context.WithTimeout(ctx, opTimeout)
		_, err := n.client.CreateWorkflow(callCtx, registerWrite(key, value), client.IdempotencyKey(idemKey))
		cancel()
		if err == nil {
			op.Return = h.now()
			h.record(op)
			h.counts.writesOK.Add(1)
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	op.Return = math.MaxInt64
	h.record(op)
	h.counts.writesUnknown.Add(1)
	return false
}

func (h *history) read(ctx context.Context, clientID, key int) {
	n := h.nodes[rand.IntN(len(h.nodes))]
	call := h.now()
	callCtx, cancel := context.WithTimeout(ctx, opTimeout)
	wf, err := n.client.Workflow(callCtx, h.ids[key], client.Consistent())
	cancel()
	ret := h.now()
	if err != nil {
		h.counts.readsFailed.Add(1)
		return
	}
	value, err := registerValue(wf.Graph)
	if err != nil {
		h.tb.Errorf("read of register %d on %s: %v", key, n.name, err)
		return
	}
	h.record(porcupine.Operation{
		ClientId: clientID, Input: registerInput{key: key, node: n.name}, Call: call, Output: value, Return: ret,
	})
	h.counts.readsOK.Add(1)
}

// staleReads describes up to limit reads that returned a value already
// overwritten when they began: its write returned before another write to
// the register began, which returned before the read was sent. It names
// the culprits in the test's log, which a CI run keeps while porcupine's
// visualization file is lost; porcupine alone decides linearizability.
func staleReads(ops []porcupine.Operation, limit int) []string {
	type write struct{ call, ret int64 }
	writes := make([]map[int]write, registers)
	for k := range writes {
		writes[k] = map[int]write{0: {}} // the initial values, written before the clients started
	}
	for _, op := range ops {
		if in := op.Input.(registerInput); in.write {
			writes[in.key][in.value] = write{op.Call, op.Return}
		}
	}
	var found []string
	for _, r := range ops {
		in := r.Input.(registerInput)
		if in.write {
			continue
		}
		w1, ok := writes[in.key][r.Output.(int)]
		if !ok {
			found = append(found, fmt.Sprintf("read(r%d) on %s at %v returned %d, which no write wrote", in.key, in.node, time.Duration(r.Call), r.Output))
			continue
		}
		for v, w2 := range writes[in.key] {
			if w1.ret < w2.call && w2.ret < r.Call {
				found = append(found, fmt.Sprintf("read(r%d) on %s at %v returned %d, overwritten by %d, acknowledged at %v",
					in.key, in.node, time.Duration(r.Call), r.Output, v, time.Duration(w2.ret)))
				break
			}
		}
		if len(found) == limit {
			break
		}
	}
	return found
}

// TestStaleReadsNamesOverwrittenReads checks the failure report on a
// made-up history: a read of a value overwritten before it began is
// named; a read that overlaps the overwrite, or of a value whose write
// overlapped the other, is not.
func TestStaleReadsNamesOverwrittenReads(t *testing.T) {
	ops := []porcupine.Operation{
		{Input: registerInput{key: 0, write: true, value: 1}, Call: 10, Return: 20},
		{Input: registerInput{key: 0, write: true, value: 2}, Call: 30, Return: 40},
		{Input: registerInput{key: 0, node: "n2"}, Call: 35, Output: 1, Return: 50},
		{Input: registerInput{key: 0, node: "n3"}, Call: 45, Output: 1, Return: 50},
		{Input: registerInput{key: 1, write: true, value: 3}, Call: 10, Return: 30},
		{Input: registerInput{key: 1, write: true, value: 4}, Call: 20, Return: 40},
		{Input: registerInput{key: 1, node: "n1"}, Call: 50, Output: 3, Return: 60},
	}
	got := staleReads(ops, 10)
	if len(got) != 1 || !strings.Contains(got[0], "on n3") || !strings.Contains(got[0], "overwritten by 2") {
		t.Fatalf("staleReads = %q, want one report of n3's read", got)
	}
}
