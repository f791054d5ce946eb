package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
)

type submitOptions struct {
	mode     string
	priority int
	params   []string
	name     string
}

func newSubmitCmd() *cobra.Command {
	var flags *clientFlags
	var opts submitOptions
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Store a workflow file in the cluster and queue a job for it",
		Long: "Store the workflow in FILE (a new version if its graph changed) and queue a\n" +
			"job for it, in one Raft entry. Parameters are given as --param key=value\n" +
			"(a string) or --param key:=JSON (a number, boolean, list or object).",
		Example: "  casare submit invoice.json --mode lan --priority 7 --param customer=acme --param retries:=3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			req, err := opts.request(args[0], cmd.Flags().Changed("priority"))
			if err != nil {
				return err
			}
			created, err := newClient(flags.server).CreateWorkflow(cmd.Context(), req)
			if err != nil {
				return callError("submit "+args[0], flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), created)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "Workflow:", fmt.Sprintf("%s (%s)", created.WorkflowID, req.WorkflowName))
			row(tw, "Version:", created.Version)
			row(tw, "Job:", created.JobID)
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.mode, "mode", "any", "which robots may run the job: lan, internet or any")
	f.IntVar(&opts.priority, "priority", 5, "job priority, 0 (lowest) to 9 (highest)")
	f.StringArrayVar(&opts.params, "param", nil, "job parameter key=value (string) or key:=JSON; repeatable")
	f.StringVar(&opts.name, "name", "", "workflow name (default: the file's name field, else the file name)")
	return cmd
}

// request reads the workflow file and builds the create request.
func (o submitOptions) request(file string, prioritySet bool) (api.CreateWorkflowRequest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return api.CreateWorkflowRequest{}, fmt.Errorf("read workflow: %w", err)
	}
	var head struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return api.CreateWorkflowRequest{}, fmt.Errorf("%s is not a workflow JSON object: %w", file, describeJSONError(err))
	}
	params, err := parseParams(o.params)
	if err != nil {
		return api.CreateWorkflowRequest{}, err
	}
	base := filepath.Base(file)
	req := api.CreateWorkflowRequest{
		WorkflowName:  cmp.Or(o.name, head.Name, strings.TrimSuffix(base, filepath.Ext(base))),
		WorkflowJSON:  data,
		TriggerType:   "manual",
		ExecutionMode: o.mode,
		Params:        params,
	}
	if prioritySet {
		req.Priority = &o.priority
	}
	return req, nil
}

func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("invalid JSON at byte %d: %w", syntax.Offset, err)
	}
	return err
}

// parseParams turns key=value and key:=JSON pairs into a JSON object.
func parseParams(pairs []string) (json.RawMessage, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	params := make(map[string]json.RawMessage, len(pairs))
	for _, pair := range pairs {
		if key, raw, ok := strings.Cut(pair, ":="); ok && key != "" && !strings.Contains(key, "=") {
			if !json.Valid([]byte(raw)) {
				return nil, fmt.Errorf("--param %s: %q after := is not valid JSON", pair, raw)
			}
			params[key] = json.RawMessage(raw)
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--param %q: want key=value or key:=JSON", pair)
		}
		encoded, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("--param %s: %w", key, err)
		}
		params[key] = encoded
	}
	return json.Marshal(params)
}
