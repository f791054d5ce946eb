package tunnel

import (
	"context"
	"encoding/json"
	"testing"
)

// BenchmarkCallRoundTrip measures one robot→node call over a real QUIC
// connection on loopback: request frame out, handler, response frame back.
func BenchmarkCallRoundTrip(b *testing.B) {
	ts := startServer(b)
	robot := dialClient(b, ts.addr)
	ctx := context.Background()
	req := json.RawMessage(`{"job_id":"j-123","progress":42}`)

	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		node := ts.nextConn(b)
		sent := func() uint64 {
			return robot.qc.ConnectionStats().PacketsSent + node.qc.ConnectionStats().PacketsSent
		}
		before := sent()
		for b.Loop() {
			if err := robot.Call(ctx, "echo", req, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(sent()-before)/float64(b.N), "packets/call")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		// Several calls in flight per core, as when a node pushes jobs to a
		// robot that is heartbeating several others.
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := robot.Call(ctx, "echo", req, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
