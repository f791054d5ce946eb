package executor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// NodePolicy limits the node types a robot runs: with Allow set, only
// those types (and start and end, which every workflow needs); otherwise
// every type but those in Deny. A job that needs a type the policy
// forbids fails before its first node runs, as a business failure naming
// the rule: the robot's owner decided, and running it again here cannot
// help.
type NodePolicy struct {
	Allow []string
	Deny  []string
}

// ErrNodeTypeDenied marks a run refused by the robot's NodePolicy.
var ErrNodeTypeDenied = errors.New("node type not allowed on this robot")

// alwaysAllowed are the types an allow list need not name: no workflow
// runs without them, and they do nothing on the robot.
var alwaysAllowed = []string{"start", "end"}

// Check reports an unknown node type name, or both lists set.
func (p NodePolicy) Check() error {
	if len(p.Allow) > 0 && len(p.Deny) > 0 {
		return errors.New("give either an allow list or a deny list of node types, not both")
	}
	for _, name := range slices.Concat(p.Allow, p.Deny) {
		if _, ok := kinds[name]; !ok {
			return fmt.Errorf("unknown node type %q (see 'casare nodes')", name)
		}
	}
	return nil
}

// permits returns nil if the policy lets a node of type name run, or a
// business failure naming the rule.
func (p NodePolicy) permits(name string) error {
	var rule string
	switch {
	case slices.Contains(p.Deny, name):
		rule = "its deny-node-types list names " + name
	case len(p.Allow) > 0 && !slices.Contains(p.Allow, name) && !slices.Contains(alwaysAllowed, name):
		rule = "its allow-node-types list is " + strings.Join(p.Allow, ",")
	default:
		return nil
	}
	return &kindError{kind: FailureBusiness, err: fmt.Errorf("%w (%s): %s", ErrNodeTypeDenied, name, rule)}
}

// permitsPlan checks every node of p, and of its inline subworkflows,
// before the run starts, so a forbidden job has no side effects here.
// Subworkflows loaded from files are checked as they run.
func (e *Engine) permitsPlan(p *plan, prefix string) error {
	for i := range p.nodes {
		n := &p.nodes[i]
		if err := e.policy.permits(n.kind.Name); err != nil {
			return fmt.Errorf("node %s%s: %w", prefix, n.id, err)
		}
		if n.inline != nil {
			if err := e.permitsPlan(n.inline, prefix+n.id+"/"); err != nil {
				return err
			}
		}
	}
	return nil
}
