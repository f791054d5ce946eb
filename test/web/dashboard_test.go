//go:build unix

package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/internal/testutil"
	"github.com/chromedp/chromedp"
)

// TestDashboard starts three servers and a robot-only member as casare
// processes, seeds workflows, jobs and a schedule through the API, and
// drives the dashboard each node serves in headless Chromium. The
// subtests share the cluster and the browser: starting them is most of
// the run time.
func TestDashboard(t *testing.T) {
	c := newCluster(t)
	n1 := c.start("n1")
	c.start("n2")
	c.start("n3")
	robotOnly := c.start("r4", "--server=false", "--tags", "office")
	api := n1.client
	waitFleet(t, api, 3, 4)
	leader, follower := roles(t, c)
	s := seed(t, api)

	b := newBrowser(t)
	admin := b.newTab(t)
	admin.signIn(follower, api)

	t.Run("every view shows what the API says", func(t *testing.T) {
		checkViews(admin.in(t), follower, s, true)
	})
	t.Run("the keyboard alone moves through the views, and back and forward restore them", func(t *testing.T) {
		keyboardOnly(admin.in(t), follower)
	})
	t.Run("a submitted job goes live to succeeded with its graph", func(t *testing.T) {
		liveJob(admin.in(t), follower, api, s)
	})
	t.Run("cancel and re-run from the page", func(t *testing.T) {
		cancelAndRerun(admin.in(t), follower, api, s)
	})
	t.Run("a bad cron expression is refused beside the field", func(t *testing.T) {
		badCron(admin.in(t), leader, api)
	})
	t.Run("a viewer sees no action buttons", func(t *testing.T) {
		viewerButtons(t, b, admin.in(t), leader, api, s)
	})
	t.Run("the API docs", func(t *testing.T) {
		apiDocs(admin.in(t), follower)
	})
	t.Run("an admin removes a server that is gone from the cluster page", func(t *testing.T) {
		removeGoneServer(admin.in(t), follower, c, api)
	})
	t.Run("an admin makes a member leave from the cluster page", func(t *testing.T) {
		leaveMember(admin.in(t), follower, c)
	})
	t.Run("a robot-only member serves the page, and says when it is gone", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn(robotOnly, api)
		checkViews(tb, robotOnly, s, false)
		nodeDown(tb, robotOnly)
	})
	// Last: it stops every server.
	t.Run("a robot-only member serves the page itself", func(t *testing.T) {
		selfServed(t, b, c)
	})
}

// waitFleet waits until the cluster has servers voters and robots alive.
func waitFleet(t testing.TB, api *client.Client, servers, robots int) {
	t.Helper()
	testutil.Eventually(t, settle, fmt.Sprintf("%d voters and %d robots alive", servers, robots), func() (bool, error) {
		cl, err := api.Cluster(ctx(t))
		if err != nil {
			return false, err
		}
		voters := 0
		for _, s := range cl.Servers {
			if s.Voter && s.Alive {
				voters++
			}
		}
		rs, err := api.Robots(ctx(t))
		if err != nil {
			return false, err
		}
		alive := 0
		for _, r := range rs.Robots {
			if r.State == "alive" {
				alive++
			}
		}
		return voters == servers && alive == robots, fmt.Errorf("%d voters, %d robots alive", voters, alive)
	})
}

// roles returns the leader and a server that follows it.
func roles(t *testing.T, c *cluster) (leader, follower *node) {
	t.Helper()
	cl, err := c.nodes[0].client.Cluster(ctx(t))
	if err != nil || cl.Leader == nil {
		t.Fatalf("who leads: %v %+v", err, cl.Leader)
	}
	for _, n := range c.nodes[:3] {
		if n.name == cl.Leader.Name {
			leader = n
		} else if follower == nil {
			follower = n
		}
	}
	if leader == nil || follower == nil {
		t.Fatalf("leader %s is not one of the servers", cl.Leader.Name)
	}
	return leader, follower
}

// seeded is what seed made.
type seeded struct {
	quick, slow string   // workflow IDs: a few short delays, one long one
	done        []string // succeeded jobs of quick
	schedule    string
}

// step is one node of a test workflow.
type step struct{ id, typ, duration string }

// workflowJSON is a workflow running steps in order between start and end.
func workflowJSON(t testing.TB, name string, steps ...step) json.RawMessage {
	t.Helper()
	type wfNode struct {
		ID     string         `json:"id"`
		Type   string         `json:"type"`
		Config map[string]any `json:"config,omitempty"`
	}
	type conn struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	nodes := []wfNode{{ID: "start", Type: "start"}}
	for _, s := range steps {
		nodes = append(nodes, wfNode{ID: s.id, Type: s.typ, Config: map[string]any{"duration": s.duration}})
	}
	nodes = append(nodes, wfNode{ID: "end", Type: "end"})
	var conns []conn
	for i := 1; i < len(nodes); i++ {
		conns = append(conns, conn{From: nodes[i-1].ID, To: nodes[i].ID})
	}
	data, err := json.Marshal(map[string]any{"name": name, "nodes": nodes, "connections": conns})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func seed(t *testing.T, api *client.Client) seeded {
	t.Helper()
	var s seeded
	for _, wf := range []struct {
		id    *string
		name  string
		steps []step
	}{
		{&s.quick, "Invoice intake", []step{{"fetch_mail", "delay", "150ms"}, {"post_ledger", "delay", "150ms"}}},
		{&s.slow, "Month-end close", []step{{"reconcile", "delay", "10m"}}},
	} {
		r, err := api.CreateWorkflow(ctx(t), wire.CreateWorkflowRequest{
			WorkflowName: wf.name, WorkflowJSON: workflowJSON(t, wf.name, wf.steps...), TriggerType: "none", Tags: []string{"finance"},
		})
		if err != nil {
			t.Fatalf("create workflow %s: %v", wf.name, err)
		}
		*wf.id = r.WorkflowID
	}
	for range 3 {
		s.done = append(s.done, submit(t, api, s.quick))
	}
	for _, id := range s.done {
		waitState(t, api, id, "succeeded")
	}
	// A second version of the quick workflow, for the version diff: a
	// node more and another delay. Jobs queued from here on run it.
	if _, err := api.CreateWorkflow(ctx(t), wire.CreateWorkflowRequest{
		WorkflowName: "Invoice intake", TriggerType: "none", Tags: []string{"finance"},
		WorkflowJSON: workflowJSON(t, "Invoice intake", step{"fetch_mail", "delay", "100ms"}, step{"post_ledger", "delay", "150ms"}, step{"notify", "delay", "50ms"}),
	}); err != nil {
		t.Fatalf("add a version: %v", err)
	}
	sc, err := api.CreateSchedule(ctx(t), wire.ScheduleRequest{WorkflowID: s.quick, Cron: "0 6 * * 1-5", Timezone: "Europe/Berlin"})
	if err != nil {
		t.Fatalf("create schedule: %v", err)
	}
	s.schedule = sc.ID
	return s
}

func submit(t testing.TB, api *client.Client, workflowID string) string {
	t.Helper()
	j, err := api.SubmitJob(ctx(t), wire.JobRequest{WorkflowID: workflowID})
	if err != nil {
		t.Fatalf("submit a job of %s: %v", workflowID, err)
	}
	return j.ID
}

// waitState waits until the API says job id is in state.
func waitState(t testing.TB, api *client.Client, id, state string) wire.Job {
	t.Helper()
	var j wire.Job
	testutil.Eventually(t, settle, fmt.Sprintf("job %s %s", id, state), func() (bool, error) {
		var err error
		j, err = api.Job(ctx(t), id)
		return err == nil && j.State == state, fmt.Errorf("state %q, error %v", j.State, err)
	})
	return j
}

// liveJob watches the job list while a job is submitted through the API:
// the row must appear and say succeeded within 2 s, without a reload;
// then a longer job's page must show its graph's nodes turning done.
func liveJob(tb *tab, n *node, api *client.Client, s seeded) {
	tb.open(n, "/jobs")
	tb.waitJS("the job list", `document.querySelectorAll('#jobs tbody tr').length > 0`, pageTimeout)
	tb.run(markPage)
	id := submit(tb.t, api, s.quick)
	submitted := time.Now()
	row := fmt.Sprintf(`document.querySelector('#jobs tbody a[href="/jobs/%s"]')?.closest('tr')`, id)
	tb.waitJS("the new job's row says succeeded", row+`?.querySelector('.badge')?.textContent === 'succeeded'`, liveTimeout)
	tb.t.Logf("job %s: submitted through the API, succeeded on the page %v later", id, time.Since(submitted).Round(time.Millisecond))
	tb.waitJS("no reload", `window.casareTestMark === true`, time.Second)

	// A job whose steps take long enough to be seen running.
	slow, err := api.CreateWorkflow(ctx(tb.t), wire.CreateWorkflowRequest{
		WorkflowName: "Vendor onboarding", TriggerType: "none",
		WorkflowJSON: workflowJSON(tb.t, "Vendor onboarding", step{"check_vendor", "delay", "1500ms"}, step{"open_account", "delay", "1500ms"}),
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	id = submit(tb.t, api, slow.WorkflowID)
	link := fmt.Sprintf(`main a[href="/jobs/%s"]`, id)
	tb.waitJS("the new job in the list", fmt.Sprintf(`document.querySelector(%q) !== null`, link), liveTimeout)
	tb.run(evalAction(fmt.Sprintf(`document.querySelector(%q).click()`, link)))
	tb.waitJS("the job's graph", `document.querySelectorAll('.gnode').length === 4`, pageTimeout)
	tb.waitJS("a node running", `document.querySelector('.gnode.st-running') !== null`, pageTimeout)
	tb.screenshot("job-running", false)
	tb.waitJS("every node done and the job succeeded",
		`document.querySelectorAll('.gnode.st-done').length === 4 && document.querySelector('main h1 .badge')?.textContent === 'succeeded'`, pageTimeout)
	tb.waitJS("no reload", `window.casareTestMark === true`, time.Second)
	waitState(tb.t, api, id, "succeeded")
	tb.noErrors("the live job")
}

// markPage sets a mark that a reload would wipe.
var markPage = evalAction(`window.casareTestMark = true`)

// cancelAndRerun cancels a running job with its page's button, then
// re-runs a finished job from its page, which opens the new job.
func cancelAndRerun(tb *tab, n *node, api *client.Client, s seeded) {
	id := submit(tb.t, api, s.slow)
	waitState(tb.t, api, id, "running")
	tb.open(n, "/jobs/"+id)
	tb.waitJS("the running job", `document.querySelector('main h1 .badge')?.textContent === 'running'`, pageTimeout)
	tb.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Cancel job %s"]`, id))))
	tb.waitJS("the job cancelled", `document.querySelector('main h1 .badge')?.textContent === 'cancelled'`, pageTimeout)
	waitState(tb.t, api, id, "cancelled")

	old := s.done[0]
	tb.open(n, "/jobs/"+old)
	tb.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Re-run job %s"]`, old))))
	tb.waitJS("the re-run's page", fmt.Sprintf(`location.pathname !== '/jobs/%s' && document.querySelector('main h1 .badge')?.textContent === 'succeeded'`, old), pageTimeout)
	newID := eval[string](tb, `decodeURIComponent(location.pathname.slice('/jobs/'.length))`)
	j := waitState(tb.t, api, newID, "succeeded")
	if j.RerunOf != old {
		tb.t.Errorf("job %s is a re-run of %q, want %s", newID, j.RerunOf, old)
	}
	tb.noErrors("cancel and re-run")
}

// badCron types a cron expression the scheduler refuses into the create
// form: the node's refusal shows beside the field, before and after
// submitting, and no schedule is made.
func badCron(tb *tab, n *node, api *client.Client) {
	before, err := api.Schedules(ctx(tb.t), "")
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.open(n, "/schedules")
	form := `form[aria-label="Create a schedule"]`
	tb.waitJS("the workflows to choose from", fmt.Sprintf(`document.querySelector('%s select option:not([value=""])') !== null`, form), pageTimeout)
	// Choose the first workflow and type the expression, as a user does:
	// through the elements' own value setters and input events, which is
	// what React listens to.
	tb.run(evalAction(fmt.Sprintf(`(() => {
		const s = document.querySelector('%s select');
		Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(s, s.options[1].value);
		s.dispatchEvent(new Event('change', { bubbles: true }));
	})()`, form)))
	// The form's example expression: the node's preview of its next fires.
	tb.waitJS("the preview of the next five fires", `document.querySelectorAll('.preview .fires li').length === 5`, pageTimeout)
	tb.screenshot("schedule-preview", false)
	tb.run(evalAction(fmt.Sprintf(`(() => {
		const c = document.querySelector('%s input.mono');
		Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(c, '61 * * * *');
		c.dispatchEvent(new Event('input', { bubbles: true }));
	})()`, form)))
	hint := `(document.querySelector('#sc-cron-hint.err')?.textContent ?? '')`
	tb.waitJS("the node's refusal beside the field", hint+`.includes('61')`, pageTimeout)
	tb.screenshot("schedule-bad-cron", false)
	tb.run(chromedp.Click(chromedp.CSS(form + ` button[type=submit]`)))
	tb.waitJS("the refusal after submitting", fmt.Sprintf(`document.querySelector('%s input.mono').getAttribute('aria-invalid') === 'true' && %s.includes('61')`, form, hint), pageTimeout)
	after, err := api.Schedules(ctx(tb.t), "")
	if err != nil {
		tb.t.Fatal(err)
	}
	if len(after.Schedules) != len(before.Schedules) {
		tb.t.Errorf("%d schedules after a refused create, want %d", len(after.Schedules), len(before.Schedules))
	}
	// The refusals are the API's answers, which the browser logs as
	// failed requests (they may be logged after the page shows them);
	// nothing else may be logged.
	var logged []string
	tb.until("the refused create logged", func() (bool, error) {
		logged = append(logged, tb.takeErrors()...)
		return slices.ContainsFunc(logged, func(e string) bool { return strings.Contains(e, "400") && strings.HasSuffix(e, "/api/v1/schedules)") }),
			fmt.Errorf("logged: %q", logged)
	})
	for _, e := range logged {
		if !strings.Contains(e, "status of 400") {
			tb.t.Errorf("the schedules page logged: %s", e)
		}
	}
}
