package consensus

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/pki"
)

// BenchmarkRaftApply measures raw Raft applies (a queue pause toggle, the
// cheapest command) on a three-server cluster in one process, over plain
// TCP and over the mutual-TLS cluster port nodes use. Each op is one
// committed entry; parallel callers let Raft batch.
func BenchmarkRaftApply(b *testing.B) {
	for _, tc := range []struct {
		name      string
		configure func(testing.TB) func(*Config)
	}{
		{"tcp", func(testing.TB) func(*Config) { return nil }},
		{"mtls", tlsStreams},
	} {
		for _, callers := range []int{1, 64} {
			b.Run(tc.name+"/callers="+strconv.Itoa(callers), func(b *testing.B) {
				c := startClusterWith(b, 3, tc.configure(b))
				leader := c.waitLeader(10 * time.Second)
				ctx := context.Background()
				b.ResetTimer()
				var wg sync.WaitGroup
				per := max(1, b.N/callers)
				for range callers {
					wg.Go(func() {
						for i := range per {
							if err := leader.Pause(ctx, "", i%2 == 0); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(per*callers)/b.Elapsed().Seconds(), "applies/s")
			})
		}
	}
}

// tlsStreams gives every store of a test cluster a cluster port with a
// node certificate from one CA, as package node does.
func tlsStreams(tb testing.TB) func(*Config) {
	ca, err := pki.NewCA("bench", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return func(cfg *Config) {
		key, err := pki.GenerateKey()
		if err != nil {
			tb.Fatal(err)
		}
		cert, err := ca.Issue(&key.PublicKey, pki.NodeRequest{Name: cfg.Name, Server: true}, time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		id, err := pki.NewIdentity(ca, cert, key)
		if err != nil {
			tb.Fatal(err)
		}
		mux, err := clusternet.Listen("127.0.0.1:0", "", id.ServerConfig(), slog.New(slog.DiscardHandler))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { mux.Close() })
		cfg.Stream = clusternet.NewStreamLayer(mux, id.ClientConfig())
		cfg.RaftBind = mux.Addr().String()
	}
}

// TestRaftOverMutualTLS: a cluster whose Raft runs over the cluster
// port replicates as over TCP, and a server holding a certificate from
// another CA, even once added to the configuration, receives nothing.
func TestRaftOverMutualTLS(t *testing.T) {
	c := startClusterWith(t, 2, tlsStreams(t))
	leader := c.waitLeader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.follower().Pause(ctx, "", true); err != nil {
		t.Fatalf("write through the follower: %v", err)
	}
	stranger := startStore(t, "n3", tlsStreams(t))
	if _, err := leader.Join(ctx, JoinRequest{Name: "n3", RaftAddr: stranger.cfg.RaftAdvertise, HTTPAddr: "mem-3"}); err != nil {
		t.Fatalf("add n3 to the configuration: %v", err)
	}
	for range 20 {
		if err := leader.Pause(ctx, "", false); err != nil {
			t.Fatal(err)
		}
	}
	// Heartbeats go out every few hundred ms; several rounds have passed
	// once the writes above are committed and a second more has gone by.
	time.Sleep(time.Second)
	if got := stranger.AppliedIndex(); got != 0 {
		t.Fatalf("a server with another CA's certificate applied up to %d", got)
	}
	if leader.AppliedIndex() < 20 {
		t.Fatalf("leader applied only %d", leader.AppliedIndex())
	}
}

func startStore(t *testing.T, name string, configure func(*Config)) *Store {
	t.Helper()
	cfg := Config{Name: name, DataDir: t.TempDir(), RaftBind: "127.0.0.1:0", HTTPAddr: "mem-" + name, Forwarder: &directForwarder{}}
	configure(&cfg)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
