//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// noopWorkflow is the smallest workflow the validator accepts: the robot
// runs it in microseconds, so throughput is the queue's, not the job's.
const noopWorkflow = `{"name":"bench-noop","nodes":[{"id":"start","type":"start"},{"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"end"}]}`

// Load shapes of the submit figures.
const (
	singleClients = 64
	batchClients  = 8
	batchSize     = 100
)

// createWorkflow stores a workflow without queueing a job for it.
func createWorkflow(ctx context.Context, c *client.Client, name, graph string) (string, error) {
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: name, WorkflowJSON: json.RawMessage(graph), TriggerType: "none", ExecutionMode: "lan",
	})
	if err != nil {
		return "", fmt.Errorf("create workflow %s: %w", name, err)
	}
	return res.WorkflowID, nil
}

// client picks the node a worker talks to: round-robin over all nodes,
// as clients of a real cluster would (followers forward writes to the
// leader), or the leader only with -via leader.
func (b *bench) client(c *cluster, worker int) *client.Client {
	if b.cfg.via == "leader" {
		return c.leaderClient()
	}
	return c.clients[worker%len(c.clients)]
}

// submitFigures measures how fast the API queues jobs, with no robot
// claiming them: one job per POST /api/v1/jobs from 64 clients, and
// batches of 100 per POST /api/v1/jobs/batch from 8 clients.
func (b *bench) submitFigures(ctx context.Context, c *cluster, size int, wfID string, raft64 float64) error {
	via := "all nodes"
	if b.cfg.via == "leader" || size == 1 {
		via = "leader"
	}
	one := api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"}
	appliedIndex := c.leader().Store().AppliedIndex
	var single loadResult
	err := b.figure(size, "submit-single", func() error {
		single = runLoad(ctx, singleClients, b.d.warm, b.d.submit, appliedIndex, func(ctx context.Context, w int) (int, error) {
			_, err := b.client(c, w).SubmitJob(ctx, one)
			return 1, err
		})
		return nil
	})
	if err != nil {
		return err
	}
	b.add(row{
		nodes: size, figure: fmt.Sprintf("submit, POST /jobs, %d clients via %s", singleClients, via),
		value: single.rate(), unit: "jobs/s", ratio: single.rate() / raft64, target: atLeast(8000), cpu: single.cpuPerItem(),
		note: entriesNote(single) + latencyNote(single),
	})

	batch := make([]api.JobRequest, batchSize)
	for i := range batch {
		batch[i] = one
	}
	var batched loadResult
	err = b.figure(size, "submit-batch", func() error {
		batched = runLoad(ctx, batchClients, b.d.warm, b.d.submit, appliedIndex, func(ctx context.Context, w int) (int, error) {
			jobs, err := b.client(c, w).SubmitJobs(ctx, batch)
			return len(jobs), err
		})
		return nil
	})
	if err != nil {
		return err
	}
	b.add(row{
		nodes: size, figure: fmt.Sprintf("submit, POST /jobs/batch ×%d, %d clients via %s", batchSize, batchClients, via),
		value: batched.rate(), unit: "jobs/s", ratio: batched.rate() / raft64, target: atLeast(100000), cpu: batched.cpuPerItem(),
		note: entriesNote(batched) + latencyNote(batched),
	})
	return nil
}

// entriesNote says how many jobs shared a Raft entry: a node merges the
// submits that arrive while earlier ones commit.
func entriesNote(r loadResult) string {
	if r.entries == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f jobs per Raft entry; ", float64(r.items)/float64(r.entries))
}
