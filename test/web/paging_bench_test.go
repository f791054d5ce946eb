//go:build unix

package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/chromedp/chromedp"
)

// pagingJobs is how many jobs BenchmarkJobsPaging queues: the issue's
// "paging through 100k jobs stays fast".
const pagingJobs = 100_000

// BenchmarkJobsPaging queues 100,000 jobs on one real casare node (in
// batches of 1,000 through POST /api/v1/jobs/batch; the node runs no
// robot, so every job stays queued) and pages through them, newest
// first, 50 to a page: with the job list API (following next_cursor, so
// the loop walks ever deeper pages) and with the Jobs page's Next button
// in headless Chromium (from the click until the next page's 50 rows
// are drawn).
// ns/op is the time per page.
//
//	go test ./test/web/ -run '^$' -bench JobsPaging -benchtime 200x
func BenchmarkJobsPaging(b *testing.B) {
	c := newCluster(b)
	n := c.start("n1", "--robot=false")
	api := n.client
	wf, err := api.CreateWorkflow(ctx(b), wire.CreateWorkflowRequest{
		WorkflowName: "Paging", WorkflowJSON: workflowJSON(b, "Paging", step{"wait", "delay", "1s"}), TriggerType: "none",
	})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	reqs := make([]wire.JobRequest, batch)
	for i := range reqs {
		reqs[i] = wire.JobRequest{WorkflowID: wf.WorkflowID}
	}
	start := time.Now()
	for range pagingJobs / batch {
		if _, err := api.SubmitJobs(ctx(b), reqs); err != nil {
			b.Fatalf("submit a batch: %v", err)
		}
	}
	q, err := api.QueueStats(ctx(b))
	if err != nil || q.ByState["queued"] != pagingJobs {
		b.Fatalf("after submitting %d jobs the queue holds %+v (%v)", pagingJobs, q.ByState, err)
	}
	b.Logf("queued %d jobs in %v", pagingJobs, time.Since(start).Round(time.Millisecond))

	b.Run("api", func(b *testing.B) {
		cursor, pages := "", 0
		for b.Loop() {
			list, err := api.Jobs(ctx(b), client.JobQuery{Limit: 50, Cursor: cursor})
			if err != nil || len(list.Jobs) != 50 {
				b.Fatalf("page %d: %d jobs, %v", pages, len(list.Jobs), err)
			}
			cursor = "" // after the last page: start over
			if list.NextCursor != nil {
				cursor = *list.NextCursor
			}
			pages++
		}
		b.ReportMetric(float64(pages*50), "jobs_seen")
	})

	b.Run("page", func(b *testing.B) {
		tb := newBrowser(b).newTab(b)
		tb.signIn(n, api)
		tb.open(n, "/jobs")
		const firstRow = `document.querySelector('#jobs tbody tr a')?.getAttribute('href') ?? ''`
		tb.waitJS("the first page", `document.querySelectorAll('#jobs tbody tr').length === 50`, pageTimeout)
		// The page's request for each page, as Resource Timing saw it,
		// splits the figure into the API call and the rest (React's
		// render and the browser's layout).
		const lastFetch = `(() => { const e = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/jobs?')).pop(); performance.clearResourceTimings(); return e ? e.duration : 0; })()`
		pages, fetchMs := 0, 0.0
		for b.Loop() {
			before := eval[string](tb, firstRow)
			// The button's own click(), as a user's click or Enter
			// fires it, without CDP's mouse plumbing in the figure.
			tb.run(evalAction(`document.querySelector('nav[aria-label="Pages"] button:last-child').click()`))
			_, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](
				fmt.Sprintf(`document.querySelectorAll('#jobs tbody tr').length === 50 && (%s) !== %q`, firstRow, before),
				chromedp.WithPollingTimeout(pageTimeout), chromedp.WithPollingInterval(5*time.Millisecond)))
			if err != nil {
				b.Fatalf("page %d after Next: %v", pages+1, err)
			}
			pages++
			fetchMs += eval[float64](tb, lastFetch)
		}
		b.ReportMetric(fetchMs/float64(pages), "fetch-ms/op")
		tb.noErrors("/jobs, paging")
	})
}
