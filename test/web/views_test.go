//go:build unix

package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/chromedp/chromedp"
)

// shows waits until the page's value (a JavaScript expression) equals
// what the API says, both compared as JSON.
func (tb *tab) shows(what, pageExpr string, api func() (any, error)) {
	tb.t.Helper()
	tb.until(what, func() (bool, error) {
		want, err := api()
		if err != nil {
			return false, err
		}
		var wantJSON any
		data, err := json.Marshal(want)
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(data, &wantJSON); err != nil {
			return false, err
		}
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[any](pageExpr))
		if err != nil {
			return false, err
		}
		return reflect.DeepEqual(got, wantJSON), fmt.Errorf("the page shows %v, the API says %v", got, wantJSON)
	})
}

// statJS is the value of the overview card labelled label.
func statJS(label string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('.stat')].find((s) => s.querySelector('.label')?.textContent === %q)?.querySelector('.value')?.textContent ?? ''`, label)
}

// firstTexts lists the own text of the first cell of every row of table
// (its name without "(this node)").
func firstTexts(table string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('%s tbody tr td:first-child')].map((td) => td.firstChild.textContent).sort()`, table)
}

// checkViews loads every view of the app from node n, as a reload or a
// shared link does, and compares what it shows with n's API. shots saves
// a screenshot of each.
func checkViews(tb *tab, n *node, s seeded, shots bool) {
	tb.t.Helper()
	cl := n.client
	shot := func(name string) {
		if shots {
			tb.screenshot(name, false)
		}
	}
	c := func() context.Context { return ctx(tb.t) }

	tb.open(n, "/")
	tb.shows("the leader", statJS("Leader"), func() (any, error) {
		cluster, err := cl.Cluster(c())
		if err != nil || cluster.Leader == nil {
			return nil, errors.Join(err, errors.New("no leader"))
		}
		return cluster.Leader.Name, nil
	})
	tb.shows("robots alive", statJS("Robots alive"), func() (any, error) {
		rs, err := cl.Robots(c())
		alive := 0
		for _, r := range rs.Robots {
			if r.State == "alive" {
				alive++
			}
		}
		return fmt.Sprintf("%d / %d", alive, len(rs.Robots)), err
	})
	tb.shows("jobs by state", `Object.fromEntries([...document.querySelectorAll('#states .state-strip a')].map((a) => [a.querySelector('.badge').textContent, Number(a.querySelector('.n').textContent.replace(/\D/g, ''))]))`,
		func() (any, error) {
			q, err := cl.QueueStats(c())
			return q.ByState, err
		})
	tb.shows("the servers", firstTexts("#servers"), serverNames(tb, cl))
	tb.shows("the jobs submitted in the last 15 minutes", `document.querySelector('#throughput .chart-legend li .val')?.textContent ?? ''`,
		func() (any, error) {
			var tp wire.Throughput
			err := cl.GetJSON(c(), "/api/v1/stats/throughput", &tp)
			return fmt.Sprintf("%d jobs", submittedIn(tp)), err
		})
	tb.waitJS("the throughput and claim latency lines", `['#throughput [data-series=submitted] path', '#throughput [data-series=succeeded] path', '#claim-latency [data-series=p50] path']
		.every((sel) => (document.querySelector(sel)?.getAttribute('d') ?? '').startsWith('M'))`, pageTimeout)
	shot("overview")
	if shots {
		tb.phone("phone-overview")
	}
	tb.noErrors("/")

	tb.open(n, "/robots")
	tb.shows("the robots", `[...document.querySelectorAll('#fleet tbody tr td:first-child strong')].map((e) => e.textContent).sort()`, func() (any, error) {
		rs, err := cl.Robots(c())
		var names []string
		for _, r := range rs.Robots {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		return names, err
	})
	shot("robots")
	tb.noErrors("/robots")

	tb.open(n, "/jobs")
	tb.shows("the newest jobs", `[...document.querySelectorAll('#jobs tbody tr td:first-child a')].map((a) => a.title)`, func() (any, error) {
		page, err := cl.Jobs(c(), client.JobQuery{Limit: 50})
		var ids []string
		for _, j := range page.Jobs {
			ids = append(ids, j.ID)
		}
		return ids, err
	})
	shot("jobs")
	tb.noErrors("/jobs")

	id := s.done[1]
	tb.open(n, "/jobs/"+id)
	tb.shows("the job, its attempts and its graph", `({state: document.querySelector('main h1 .badge')?.textContent, attempts: document.querySelectorAll('#attempts tbody tr').length, done: document.querySelectorAll('.gnode.st-done').length})`,
		func() (any, error) {
			j, err := cl.Job(c(), id)
			return map[string]any{"state": j.State, "attempts": len(j.Attempts), "done": 4}, err
		})
	shot("job")
	if shots {
		tb.phone("phone-job")
	}
	tb.noErrors("/jobs/ID")

	tb.open(n, "/workflows")
	tb.shows("the workflows", `[...new Set([...document.querySelectorAll('#wfs a[href^="/workflows/"]')].map((a) => decodeURIComponent(a.getAttribute('href').slice(11).split('#')[0])))].sort()`, func() (any, error) {
		wfs, err := cl.Workflows(c())
		var ids []string
		for _, w := range wfs.Workflows {
			ids = append(ids, w.ID)
		}
		slices.Sort(ids)
		return ids, err
	})
	shot("workflows")
	tb.noErrors("/workflows")

	tb.open(n, "/workflows/"+s.quick)
	tb.shows("the workflow and its graph", `({name: document.querySelector('main h1')?.textContent, nodes: document.querySelectorAll('.react-flow__node').length})`, func() (any, error) {
		w, err := cl.Workflow(c(), s.quick)
		var g struct{ Nodes []struct{ ID string } }
		if err == nil {
			err = json.Unmarshal(w.Graph, &g)
		}
		return map[string]any{"name": w.Name, "nodes": len(g.Nodes)}, err
	})
	tb.shows("the nodes the latest version added and removed", `Object.fromEntries([...document.querySelectorAll('#diff dt')].map((dt) => [dt.textContent, [...dt.nextElementSibling.querySelectorAll('code')].map((c) => c.textContent)]).filter(([k]) => k.startsWith('Nodes a') || k.startsWith('Nodes r')))`,
		func() (any, error) { return versionNodeChanges(c(), cl, s.quick) })
	shot("workflow")
	if shots {
		tb.run(evalAction(`document.getElementById('diff').scrollIntoView({ block: 'center' })`))
		shot("workflow-diff")
	}
	tb.noErrors("/workflows/ID")

	tb.open(n, "/schedules")
	tb.shows("the schedules", `[...document.querySelectorAll('#schedules tbody tr code')].map((e) => e.textContent).sort()`, func() (any, error) {
		list, err := cl.Schedules(c(), "")
		var crons []string
		for _, sc := range list.Schedules {
			crons = append(crons, sc.Cron)
		}
		slices.Sort(crons)
		return crons, err
	})
	shot("schedules")
	tb.noErrors("/schedules")

	tb.open(n, "/cluster")
	tb.shows("the voters", statJS("Voters"), func() (any, error) {
		cluster, err := cl.Cluster(c())
		alive, total := 0, 0
		for _, sv := range cluster.Servers {
			if sv.Voter {
				total++
				if sv.Alive {
					alive++
				}
			}
		}
		return fmt.Sprintf("%d / %d", alive, total), err
	})
	tb.shows("the gossip members", firstTexts("#gossip"), func() (any, error) {
		cluster, err := cl.Cluster(c())
		var names []string
		for _, m := range cluster.Members {
			names = append(names, m.Name)
		}
		slices.Sort(names)
		return names, err
	})
	shot("cluster")
	tb.noErrors("/cluster")
}

func serverNames(tb *tab, cl *client.Client) func() (any, error) {
	return func() (any, error) {
		cluster, err := cl.Cluster(ctx(tb.t))
		var names []string
		for _, s := range cluster.Servers {
			names = append(names, s.Name)
		}
		slices.Sort(names)
		return names, err
	}
}

// phone shows the page on a phone's screen (390×844): it must not be
// wider than the screen (wide tables scroll inside their card), and it is
// saved as name.png.
func (tb *tab) phone(name string) {
	tb.t.Helper()
	tb.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	tb.waitJS("the page laid out for a phone", `window.innerWidth === 390`, pageTimeout)
	tb.screenshot(name, false)
	if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 390 {
		tb.t.Errorf("%s: the page is %d px wide on a 390 px screen", name, w)
	}
	tb.run(chromedp.EmulateViewport(1440, 900))
	tb.waitJS("the page laid out for the laptop again", `window.innerWidth === 1440`, pageTimeout)
}

// versionNodeChanges lists, from the API, the nodes the latest version of
// a workflow added and removed compared with the one before, keyed as the
// page labels them (an empty list is left out, as the page does).
func versionNodeChanges(ctx context.Context, cl *client.Client, id string) (map[string][]string, error) {
	vs, err := cl.WorkflowVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(vs.Versions) < 2 {
		return nil, fmt.Errorf("%d versions", len(vs.Versions))
	}
	ids := func(raw json.RawMessage) (map[string]bool, error) {
		var g struct{ Nodes []struct{ ID string } }
		out := map[string]bool{}
		err := json.Unmarshal(raw, &g)
		for _, n := range g.Nodes {
			out[n.ID] = true
		}
		return out, err
	}
	older, err := ids(vs.Versions[len(vs.Versions)-2].Graph)
	if err != nil {
		return nil, err
	}
	newer, err := ids(vs.Versions[len(vs.Versions)-1].Graph)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for id := range newer {
		if !older[id] {
			out["Nodes added"] = append(out["Nodes added"], id)
		}
	}
	for id := range older {
		if !newer[id] {
			out["Nodes removed"] = append(out["Nodes removed"], id)
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out, nil
}

// submittedIn counts the jobs a throughput series saw submitted: every
// interval's rate over its length, the newest over the time it has run.
func submittedIn(tp wire.Throughput) int {
	total := 0.0
	for i, p := range tp.Points {
		secs := float64(tp.IntervalSeconds)
		if i == len(tp.Points)-1 {
			secs = max(1, tp.Now.Sub(p.Start).Seconds())
		}
		total += p.Submitted * secs
	}
	return int(math.Round(total))
}
