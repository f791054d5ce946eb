package archive_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/consensus"
)

// BenchmarkWriteJobs writes batches of 1000 finished jobs shaped like the
// bench's no-op jobs (one attempt, a few log lines): ns/op is one batch.
func BenchmarkWriteJobs(b *testing.B) {
	db := open(b, archivetest.Database(b))
	ctx := context.Background()
	const batch = 1000
	next := 0
	b.ResetTimer()
	for range b.N {
		jobs := make([]consensus.Job, batch)
		for i := range jobs {
			next++
			jobs[i] = finishedJob(next, fmt.Sprintf("node %d finished: ok", next))
			jobs[i].Logs = append(jobs[i].Logs, jobs[i].Logs[0], jobs[i].Logs[0])
		}
		if err := db.WriteJobs(ctx, "", jobs, uint64(100+next)); err != nil {
			b.Fatal(err)
		}
	}
}
