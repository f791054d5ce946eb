package consensus

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// BenchmarkConsistentRead measures read indexes (WaitConsistent) on a
// three-server cluster in one process over the mutual-TLS cluster port,
// asked on the leader and through a follower by 1 or 64 callers. Each op
// is one consistent read; callers that arrive during a heartbeat round
// share the next. It reports the entries the reads added to the log,
// which should be none.
func BenchmarkConsistentRead(b *testing.B) {
	for _, on := range []string{"leader", "follower"} {
		for _, callers := range []int{1, 64} {
			b.Run(on+"/callers="+strconv.Itoa(callers), func(b *testing.B) {
				c := startClusterWith(b, 3, tlsStreams(b))
				leader := c.waitLeader(10 * time.Second)
				testutil.WaitFor(b, 10*time.Second, "leader ready for read-index reads", func() bool {
					return leader.currentReads() != nil
				})
				target := leader
				if on == "follower" {
					target = c.follower()
				}
				ctx := context.Background()
				before := leader.raft.LastIndex()
				b.ResetTimer()
				var wg sync.WaitGroup
				per := max(1, b.N/callers)
				for range callers {
					wg.Go(func() {
						for range per {
							if _, err := target.WaitConsistent(ctx); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(per*callers)/b.Elapsed().Seconds(), "reads/s")
				b.ReportMetric(float64(leader.raft.LastIndex()-before), "entries")
			})
		}
	}
}
