package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/casare/casare/executor"
)

// Help of the flags that limit what a robot runs, shared by the LAN
// robot (node start|join) and the internet robot (robot connect).
const (
	denyNodeTypesHelp  = "node types this robot refuses to run, comma separated (e.g. shell,file_write); a job that needs one fails as a business failure naming the rule"
	allowNodeTypesHelp = "the only node types this robot runs, comma separated (start and end are always allowed); a job that needs another fails as a business failure naming the rule"
	fileRootHelp       = "directory that file nodes (file_read, file_write, browser_screenshot, subworkflow files, shell's dir) cannot leave, by .. or symbolic links; it does not confine shell commands themselves (deny shell for that)"
)

// addRobotPolicyFlags registers --deny-node-types, --allow-node-types and
// --file-root on f (node settings read them by name).
func addRobotPolicyFlags(f *pflag.FlagSet) {
	f.StringSlice("deny-node-types", nil, denyNodeTypesHelp)
	f.StringSlice("allow-node-types", nil, allowNodeTypesHelp)
	f.String("file-root", "", fileRootHelp)
}

// robotPolicy is what robot connect's flags say the robot may run.
type robotPolicy struct {
	deny, allow []string
	fileRoot    string
}

func (p *robotPolicy) register(f *pflag.FlagSet) {
	f.StringSliceVar(&p.deny, "deny-node-types", nil, denyNodeTypesHelp)
	f.StringSliceVar(&p.allow, "allow-node-types", nil, allowNodeTypesHelp)
	f.StringVar(&p.fileRoot, "file-root", "", fileRootHelp)
}

// engineOptions checks the policy and puts it into opts.
func (p robotPolicy) engineOptions(opts executor.EngineOptions) (executor.EngineOptions, error) {
	opts.NodeTypes = executor.NodePolicy{Allow: p.allow, Deny: p.deny}
	if err := opts.NodeTypes.Check(); err != nil {
		return opts, fmt.Errorf("--deny-node-types/--allow-node-types: %w", err)
	}
	if p.fileRoot != "" {
		root, err := executor.ResolveFileRoot(p.fileRoot)
		if err != nil {
			return opts, fmt.Errorf("--file-root: %w", err)
		}
		opts.FileRoot = root
	}
	return opts, nil
}
