package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

// TestThreeNodeCluster runs three real stores wired by client.Forwarder
// and checks the API's cluster behaviour: joining through a follower,
// writes through a follower answered only after commit, and
// linearizable reads on a follower. It names n1 the leader throughout,
// so the followers wait long before they campaign: on a loaded machine
// a late heartbeat must not move the leadership under the test.
func TestThreeNodeCluster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	patient := func(c *consensus.Config) { c.HeartbeatTimeout, c.ElectionTimeout = 10*time.Second, 10*time.Second }
	n1 := apitest.StartLeader(t, "n1")
	n2 := apitest.Start(t, apitest.Config{Name: "n2", Store: patient})
	n3 := apitest.Start(t, apitest.Config{Name: "n3", Store: patient})

	if _, err := n1.Peer.Join(ctx, n2.JoinRequest()); err != nil {
		t.Fatalf("join n2 through the leader: %v", err)
	}
	n2.WaitLeaderKnown(t, 10*time.Second)
	// n2 is a follower: the join goes through its store's forwarder.
	resp, err := n2.Peer.Join(ctx, n3.JoinRequest())
	if err != nil {
		t.Fatalf("join n3 through follower n2: %v", err)
	}
	if resp.Leader != "n1" || !resp.Voter {
		t.Errorf("join answered %+v, want leader n1, voter", resp)
	}
	n3.WaitLeaderKnown(t, 10*time.Second)
	cluster, err := n3.Client.Cluster(ctx, client.Consistent())
	if err != nil {
		t.Fatal(err)
	}
	if len(cluster.Servers) != 3 || cluster.Leader == nil || cluster.Leader.Name != "n1" || cluster.RaftState != "Follower" {
		t.Fatalf("cluster seen from n3: %+v", cluster)
	}

	t.Run("write through a follower is forwarded and committed", func(t *testing.T) {
		created, err := n2.Client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
			WorkflowName: "forwarded", WorkflowJSON: []byte(helloWorkflow),
		})
		if err != nil {
			t.Fatalf("create through follower: %v", err)
		}
		// The answer came after the commit, so the leader has applied it
		// already: no waiting.
		if _, found, _ := n1.Store.Workflow(created.WorkflowID); !found {
			t.Error("leader lacks the workflow a follower acknowledged")
		}
		if _, found, _ := n1.Store.Job(created.JobID); !found {
			t.Error("leader lacks the job a follower acknowledged")
		}
		jobs, err := n3.Client.SubmitJobs(ctx, []api.JobRequest{{WorkflowID: created.WorkflowID}, {WorkflowID: created.WorkflowID}})
		if err != nil {
			t.Fatalf("batch through follower: %v", err)
		}
		for _, j := range jobs {
			if _, found, _ := n1.Store.Job(j.ID); !found {
				t.Errorf("leader lacks job %s of a forwarded batch", j.ID)
			}
		}
	})

	t.Run("refusals travel back with their code", func(t *testing.T) {
		_, err := n2.Client.SubmitJob(ctx, api.JobRequest{WorkflowID: "no-such-workflow"})
		if !client.IsCode(err, "not_found") {
			t.Errorf("forwarded job for a missing workflow: %v, want not_found", err)
		}
		// The internal apply endpoint only works on the leader. The
		// envelope is a valid no-op (type 21, no payload), so that the
		// refusal is about leadership, not about the command.
		noop := make([]byte, 9)
		noop[0] = 21
		resp := send(t, http.MethodPost, n2.URL+"/internal/v1/apply", "application/octet-stream", noop)
		if resp.status != http.StatusServiceUnavailable || resp.apiError(t).Code != "not_leader" {
			t.Errorf("apply on a follower: %d %s", resp.status, resp.body)
		}
	})

	t.Run("consistent read on a follower sees another node's write", func(t *testing.T) {
		wf := newWorkflow(t, n1)
		for i := range 20 {
			job, err := n1.Client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf, UniqueKey: fmt.Sprint("k", i)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := n3.Client.Job(ctx, job.ID, client.Consistent())
			if err != nil {
				t.Fatalf("consistent read of job %d on n3: %v", i, err)
			}
			if got.ID != job.ID {
				t.Fatalf("read %s, want %s", got.ID, job.ID)
			}
		}
	})

	// A plain read may be stale, but a follower confirms a miss with the
	// leader before it answers 404: a job written a moment ago, through
	// it or elsewhere, is never "not found".
	t.Run("a follower never answers 404 for a job just written", func(t *testing.T) {
		wf := newWorkflow(t, n1)
		for i := range 20 {
			via := []*apitest.Node{n1, n3}[i%2]
			job, err := via.Client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n3.Client.Job(ctx, job.ID); err != nil {
				t.Fatalf("read %d of a job written through %s, on n3: %v", i, via.Name, err)
			}
			if _, err := n2.Client.JobLogs(ctx, job.ID, 0, 10); err != nil {
				t.Fatalf("logs %d of a job written through %s, on n2: %v", i, via.Name, err)
			}
		}
		if _, err := n3.Client.Job(ctx, "no-such-job"); !client.IsCode(err, "not_found") {
			t.Errorf("a job that does not exist: %v, want not_found", err)
		}
	})
}

// TestMissWithoutLeaderIsUnavailable: a node that cannot ask a leader
// does not claim a job is missing; it says it cannot tell.
func TestMissWithoutLeaderIsUnavailable(t *testing.T) {
	t.Parallel()
	lonely := apitest.Start(t, apitest.Config{Name: "lonely"}) // never bootstrapped: no leader
	start := time.Now()
	resp := get(t, lonely.URL+"/api/v1/jobs/some-job")
	if resp.status != http.StatusServiceUnavailable || resp.apiError(t).Code != "no_leader" {
		t.Fatalf("miss without a leader: %d %s", resp.status, resp.body)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the answer took %v", waited)
	}
}
