//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/pki"
)

// rawRaftClients is how many goroutines apply at once in the raw Raft
// yardstick: the figures of the issue are ratios to 64 concurrent applies.
const rawRaftClients = 64

// rawRaftResult is what the raw Raft helper process prints as JSON.
type rawRaftResult struct {
	Applies int     `json:"applies"`
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu_seconds"` // the helper's CPU time in the window
	// The window's means, as the nodes' timings give them for Casare
	// (proctimings.go): an apply's wait, and the log writes of the
	// leader and of the followers, in seconds.
	Apply         float64 `json:"apply_seconds"`
	LeaderWrite   float64 `json:"leader_log_write_seconds"`
	FollowerWrite float64 `json:"follower_log_write_seconds"`
	// Busy and Kernel are the machine's shares of all CPUs (0–1) busy,
	// and busy in the kernel, in the window.
	Busy   float64 `json:"machine_busy"`
	Kernel float64 `json:"machine_kernel"`
}

// note says the window's means and how busy the machine was.
func (r rawRaftResult) note() string {
	ms := func(s float64) string {
		if s == 0 {
			return "–" // not measured
		}
		return formatValue(s*1000) + " ms"
	}
	return fmt.Sprintf("means: apply %s, leader log write %s, followers log write %s; machine %.0f%% busy, %.0f%% in the kernel",
		ms(r.Apply), ms(r.LeaderWrite), ms(r.FollowerWrite), r.Busy*100, r.Kernel*100)
}

// timedLogs times a raw node's log writes, as consensus times its own.
type timedLogs struct {
	raft.LogStore
	nanos, writes atomic.Int64
}

func (t *timedLogs) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := t.LogStore.StoreLogs(logs)
	t.nanos.Add(int64(time.Since(start)))
	t.writes.Add(1)
	return err
}

func (t *timedLogs) StoreLog(l *raft.Log) error { return t.StoreLogs([]*raft.Log{l}) }

// reading is the total time and count of its writes so far.
func (t *timedLogs) reading() [2]int64 { return [2]int64{t.nanos.Load(), t.writes.Load()} }

// meanWrite is the mean write, in seconds, of the nodes (leader or not)
// between two readings of each.
func meanWrite(rafts []*raft.Raft, leader *raft.Raft, logs []*timedLogs, before [][2]int64, isLeader bool) float64 {
	var nanos, writes int64
	for i, r := range rafts {
		if (r == leader) != isLeader {
			continue
		}
		after := logs[i].reading()
		nanos, writes = nanos+after[0]-before[i][0], writes+after[1]-before[i][1]
	}
	if writes == 0 {
		return 0
	}
	return time.Duration(nanos / writes).Seconds()
}

func (r rawRaftResult) rate() float64 { return float64(r.Applies) / r.Seconds }

// cpuPerApply is the helper's CPU time per apply in µs.
func (r rawRaftResult) cpuPerApply() float64 {
	return perItem(time.Duration(r.CPU*float64(time.Second)), r.Applies)
}

// noopFSM applies nothing: the yardstick is Raft and its log store alone.
type noopFSM struct{}

func (noopFSM) Apply(*raft.Log) any                 { return nil }
func (noopFSM) Snapshot() (raft.FSMSnapshot, error) { return noopSnapshot{}, nil }
func (noopFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type noopSnapshot struct{}

func (noopSnapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (noopSnapshot) Release()                             {}

// runRawRaft is the helper process of the real-process bench: three
// hashicorp/raft nodes with raft-boltdb on loopback TCP, configured as
// consensus configures them (commit timeout, batch size, batched apply
// channel), and rawRaftClients goroutines applying 16-byte entries on the
// leader for warm+dur. It prints a rawRaftResult on stdout.
// With tls set, Raft runs as the product runs it: over the mutual-TLS
// cluster port (clusternet's stream layer, node certificates from one
// cluster CA), instead of raft's plain TCP transport.
func runRawRaft(dir string, tls bool, warm, dur time.Duration) error {
	rafts, logs, err := startRawRaft(dir, tls)
	defer func() {
		for _, r := range rafts {
			r.Shutdown().Error() // the helper exits next; nothing to report
		}
	}()
	if err != nil {
		return err
	}
	leader, err := waitRawLeader(rafts, 15*time.Second)
	if err != nil {
		return err
	}
	var count, applyNanos atomic.Int64
	var counting atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), warm+dur)
	defer cancel()
	var wg sync.WaitGroup
	for range rawRaftClients {
		wg.Go(func() {
			entry := make([]byte, 16)
			for ctx.Err() == nil {
				start := time.Now()
				if err := leader.Apply(entry, 10*time.Second).Error(); err == nil && counting.Load() {
					count.Add(1)
					applyNanos.Add(int64(time.Since(start)))
				}
			}
		})
	}
	time.Sleep(warm)
	counting.Store(true)
	cpu0, t0, machine0 := processCPU(), time.Now(), sampleCPU()
	written := make([][2]int64, len(logs))
	for i, l := range logs {
		written[i] = l.reading()
	}
	time.Sleep(dur)
	counting.Store(false)
	applies, waited := count.Load(), applyNanos.Load()
	res := rawRaftResult{Applies: int(applies), Seconds: time.Since(t0).Seconds(), CPU: (processCPU() - cpu0).Seconds(),
		LeaderWrite: meanWrite(rafts, leader, logs, written, true), FollowerWrite: meanWrite(rafts, leader, logs, written, false)}
	res.Busy, res.Kernel, _ = machineShares(machine0, sampleCPU())
	if applies > 0 {
		res.Apply = time.Duration(waited / applies).Seconds()
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(res)
}

func startRawRaft(dir string, tls bool) ([]*raft.Raft, []*timedLogs, error) {
	var servers []raft.Server
	var transports []*raft.NetworkTransport
	var ca *pki.CA
	if tls {
		var err error
		if ca, err = pki.NewCA("bench", time.Now()); err != nil {
			return nil, nil, fmt.Errorf("raw raft CA: %w", err)
		}
	}
	for i := range 3 {
		id := raft.ServerID(fmt.Sprintf("r%d", i))
		var tr *raft.NetworkTransport
		var err error
		if tls {
			tr, err = tlsTransport(ca, string(id))
		} else {
			tr, err = raft.NewTCPTransportWithLogger("127.0.0.1:0", nil, 3, 10*time.Second, hclog.NewNullLogger())
		}
		if err != nil {
			return nil, nil, fmt.Errorf("raw raft transport: %w", err)
		}
		transports = append(transports, tr)
		servers = append(servers, raft.Server{ID: id, Address: tr.LocalAddr()})
	}
	var rafts []*raft.Raft
	var logs []*timedLogs
	for i, tr := range transports {
		r, l, err := startRawNode(filepath.Join(dir, fmt.Sprintf("r%d", i)), servers[i].ID, tr, raft.Configuration{Servers: servers})
		if err != nil {
			return rafts, logs, err
		}
		rafts, logs = append(rafts, r), append(logs, l)
	}
	return rafts, logs, nil
}

func startRawNode(dir string, id raft.ServerID, tr *raft.NetworkTransport, boot raft.Configuration) (*raft.Raft, *timedLogs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	store, err := consensus.OpenLog(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("raw raft log: %w", err)
	}
	timed := &timedLogs{LogStore: store}
	logs, err := raft.NewLogCache(1024, timed)
	if err != nil {
		return nil, nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hclog.NewNullLogger())
	if err != nil {
		return nil, nil, err
	}
	rc := raft.DefaultConfig()
	rc.LocalID = id
	rc.HeartbeatTimeout, rc.ElectionTimeout = 500*time.Millisecond, 500*time.Millisecond // as consensus sets them
	rc.LeaderLeaseTimeout = rc.HeartbeatTimeout / 2
	rc.CommitTimeout = 5 * time.Millisecond
	rc.MaxAppendEntries = 64 // as consensus sets it
	rc.BatchApplyCh = true
	rc.Logger = hclog.NewNullLogger()
	if err := raft.BootstrapCluster(rc, logs, store, snaps, tr, boot); err != nil {
		return nil, nil, fmt.Errorf("raw raft bootstrap: %w", err)
	}
	r, err := raft.NewRaft(rc, noopFSM{}, logs, store, snaps, tr)
	return r, timed, err
}

// tlsTransport is the Raft transport of a node named name as package
// node builds it: a cluster port (clusternet.Mux) serving the node's
// certificate from ca and requiring one from its peers, and Raft's
// network transport over its stream layer with consensus's pool size and
// timeout. The helper process exits after its run, which closes it.
func tlsTransport(ca *pki.CA, name string) (*raft.NetworkTransport, error) {
	key, err := pki.GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.Issue(&key.PublicKey, pki.NodeRequest{Name: name, Server: true}, time.Now())
	if err != nil {
		return nil, err
	}
	id, err := pki.NewIdentity(ca, cert, key)
	if err != nil {
		return nil, err
	}
	mux, err := clusternet.Listen("127.0.0.1:0", "", id.ServerConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: clusternet.NewStreamLayer(mux, id.ClientConfig()), MaxPool: 3, Timeout: 10 * time.Second,
		Logger: hclog.NewNullLogger(),
	}), nil
}

func waitRawLeader(rafts []*raft.Raft, limit time.Duration) (*raft.Raft, error) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, r := range rafts {
			if r.State() == raft.Leader {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("raw raft: no leader after %v", limit)
}
