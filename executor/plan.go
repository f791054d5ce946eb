package executor

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// maxInlineDepth bounds inline subworkflows nested in each other.
const maxInlineDepth = 16

// plan is a workflow prepared for execution: node ids resolved to indexes,
// config templates compiled and connections grouped per node. Building it is
// also how a workflow is validated, so the engine and Validate cannot
// disagree.
type plan struct {
	name   string
	limits runLimits
	vars   map[string]any
	nodes  []planNode
	byID   map[string]int
	start  int
}

type planNode struct {
	id      string
	index   int // position in plan.nodes
	kind    *nodeKind
	fields  []fieldValue
	edges   []edge // every port except error
	onError int    // target of the error port, or -1
	timeout time.Duration
	retry   retryPolicy
	inline  *plan // the workflow field of a subworkflow node
}

// fieldValue is a config field: v evaluates it, or when v is nil the field
// has no template and lit is its value.
type fieldValue struct {
	name string
	lit  any
	v    value
}

type edge struct {
	port string
	to   int
}

type retryPolicy struct {
	max        int
	backoff    time.Duration
	maxBackoff time.Duration
}

// target returns the node that port leads to, or -1.
func (n *planNode) target(port string) int {
	for _, e := range n.edges {
		if e.port == port {
			return e.to
		}
	}
	return -1
}

func (n *planNode) field(name string) *fieldValue {
	for i := range n.fields {
		if n.fields[i].name == name {
			return &n.fields[i]
		}
	}
	return nil
}

// buildPlan prepares w and reports every problem it finds. The plan is
// usable only when there are no problems.
func buildPlan(w *Workflow, c compiler, depth int) (*plan, []Problem) {
	if w == nil {
		return nil, []Problem{{Field: "workflow", Message: "missing"}}
	}
	p := &plan{name: w.Name, vars: w.Variables, byID: make(map[string]int, len(w.Nodes)), start: -1}
	var problems []Problem
	p.limits, problems = prepareLimits(w.Limits)
	add := func(id, field, format string, args ...any) {
		problems = append(problems, Problem{NodeID: id, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	skipped := false // a node is missing from the plan
	if len(w.Nodes) == 0 {
		add("", "nodes", "a workflow needs at least a start node")
	}
	p.nodes = make([]planNode, 0, len(w.Nodes))
	// One backing array holds every node's fields, which matters for
	// workflows of thousands of nodes.
	configSize := 0
	for i := range w.Nodes {
		configSize += len(w.Nodes[i].Config)
	}
	fields := make([]fieldValue, 0, configSize)
	for i := range w.Nodes {
		n := &w.Nodes[i]
		if n.ID == "" {
			add("", fmt.Sprintf("nodes[%d].id", i), "missing node id")
			skipped = true
			continue
		}
		if _, dup := p.byID[n.ID]; dup {
			add(n.ID, "id", "duplicate node id")
			skipped = true
			continue
		}
		k, ok := kinds[n.Type]
		if !ok {
			// Known but unusable: connections to it are not reported
			// again as dangling.
			p.byID[n.ID] = -1
			skipped = true
			if n.Type == "" {
				add(n.ID, "type", "missing node type")
			} else {
				add(n.ID, "type", "unknown node type %q (see `casare nodes`)", n.Type)
			}
			continue
		}
		pn, nodeProblems := prepareNode(n, k, c, depth, fields[len(fields):len(fields):len(fields)+len(n.Config)])
		fields = fields[:len(fields)+len(pn.fields)]
		problems = append(problems, nodeProblems...)
		pn.index = len(p.nodes)
		p.byID[n.ID] = len(p.nodes)
		p.nodes = append(p.nodes, pn)
		if k.Name == "start" {
			if p.start >= 0 {
				add(n.ID, "type", "several start nodes: %q and %q", p.nodes[p.start].id, n.ID)
			} else {
				p.start = len(p.nodes) - 1
			}
		}
	}
	if p.start < 0 && len(w.Nodes) > 0 {
		add("", "nodes", "no start node")
	}
	connProblems := p.connect(w.Connections)
	problems = append(problems, connProblems...)
	if !skipped && len(connProblems) == 0 {
		problems = append(problems, p.checkGraph()...)
	}
	return p, problems
}

// connect resolves connections into per-node edges.
func (p *plan) connect(conns []Connection) []Problem {
	var problems []Problem
	add := func(id string, i int, field, format string, args ...any) {
		problems = append(problems, Problem{NodeID: id, Field: fmt.Sprintf("connections[%d].%s", i, field), Message: fmt.Sprintf(format, args...)})
	}
	p.reserveEdges(conns)
	for i, conn := range conns {
		from, okFrom := p.byID[conn.From]
		to, okTo := p.byID[conn.To]
		if from < 0 || to < 0 {
			continue // the node itself was reported
		}
		if !okFrom {
			add(conn.From, i, "from", "connection from unknown node %q", conn.From)
		}
		if !okTo {
			add(conn.From, i, "to", "connection to unknown node %q", conn.To)
		}
		if !okFrom || !okTo {
			continue
		}
		n := &p.nodes[from]
		switch {
		case to == p.start:
			add(n.id, i, "to", "nothing may connect to the start node")
		case conn.Port == "error" && !n.kind.ErrorPort:
			add(n.id, i, "port", "%s nodes have no error port", n.kind.Name)
		case conn.Port == "error" && n.onError >= 0:
			add(n.id, i, "port", "several connections leave the error port")
		case conn.Port == "error":
			n.onError = to
		case !slices.Contains(n.kind.Ports, conn.Port):
			add(n.id, i, "port", "%s nodes have no port %q (ports: %s)", n.kind.Name, conn.Port, portList(n.kind.NodeType))
		case n.target(conn.Port) >= 0:
			add(n.id, i, "port", "several connections leave port %q", conn.Port)
		default:
			n.edges = append(n.edges, edge{port: conn.Port, to: to})
		}
	}
	return problems
}

// reserveEdges gives every node room for its edges in one shared array.
func (p *plan) reserveEdges(conns []Connection) {
	counts := make([]int, len(p.nodes))
	total := 0
	for _, conn := range conns {
		if from, ok := p.byID[conn.From]; ok && from >= 0 && conn.Port != "error" {
			counts[from]++
			total++
		}
	}
	all := make([]edge, total)
	for i, n := range counts {
		p.nodes[i].edges, all = all[:0:n], all[n:]
	}
}

// portList renders a node type's ports for messages.
func portList(t NodeType) string {
	if len(t.Ports) == 0 && !t.ErrorPort {
		return "none"
	}
	var names []string
	for _, port := range t.Ports {
		if port == "" {
			port = `"" (the normal exit)`
		}
		names = append(names, port)
	}
	if t.ErrorPort {
		names = append(names, "error")
	}
	return fmt.Sprint(names)
}

// prepareNode compiles one node's config, timeout and retry policy.
func prepareNode(n *Node, k *nodeKind, c compiler, depth int, fields []fieldValue) (planNode, []Problem) {
	pn := planNode{id: n.ID, kind: k, onError: -1, fields: fields}
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{NodeID: n.ID, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var unknown []string
	for name := range n.Config {
		if _, ok := k.Field(name); !ok {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		add(name, "unknown config field for a %s node (see `casare nodes %s`)", k.Name, k.Name)
	}
	for _, f := range k.Fields {
		raw, present := n.Config[f.Name]
		if !present || raw == nil {
			if f.Required {
				add(f.Name, "required field is missing")
			}
			continue
		}
		v, err := prepareField(f, raw, c, depth, &pn)
		if err != nil {
			add(f.Name, "%v", err)
			continue
		}
		pn.fields = append(pn.fields, fieldValue{name: f.Name, lit: raw, v: v})
	}
	if n.Timeout != "" {
		d, err := parseDuration(n.Timeout)
		switch {
		case err != nil:
			add("timeout", "%v", err)
		case d == 0:
			add("timeout", "must be positive; leave it out for no timeout")
		case d > MaxNodeDuration:
			add("timeout", "%s is above the cap of %s", d, MaxNodeDuration)
		default:
			pn.timeout = d
		}
	}
	if n.Retry != nil {
		pn.retry, problems = prepareRetry(n, pn.retry, problems)
	}
	if k.check != nil {
		problems = append(problems, k.check(n)...)
	}
	return pn, problems
}

// prepareField compiles one config field; a nil value means the field is a
// literal.
func prepareField(f Field, raw any, c compiler, depth int, pn *planNode) (value, error) {
	switch f.Type {
	case TypeExpression:
		src, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("want an expression string, got %s", jsonKind(raw))
		}
		return compileCondition(src, c)
	case TypeWorkflow:
		sub, err := prepareInline(raw, c, depth)
		if err != nil {
			return nil, err
		}
		pn.inline = sub
		return nil, nil
	}
	v, err := compileValue(raw, c)
	if err != nil {
		return nil, err
	}
	if v == nil {
		if err := checkLiteral(f, raw); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// prepareInline validates and plans a workflow embedded in a node's config.
func prepareInline(raw any, c compiler, depth int) (*plan, error) {
	if depth >= maxInlineDepth {
		return nil, fmt.Errorf("inline subworkflows nest deeper than %d levels", maxInlineDepth)
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, fmt.Errorf("want a workflow object, got %s", jsonKind(raw))
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	w, err := Parse(data)
	if err != nil {
		return nil, err
	}
	sub, problems := buildPlan(w, c, depth+1)
	if len(problems) > 0 {
		return nil, fmt.Errorf("inline workflow: %w", &ValidationError{Problems: problems})
	}
	return sub, nil
}

func prepareRetry(n *Node, r retryPolicy, problems []Problem) (retryPolicy, []Problem) {
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{NodeID: n.ID, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	r.max = n.Retry.Max
	switch {
	case r.max < 0:
		add("retry.max", "must not be negative")
	case r.max > MaxRetries:
		add("retry.max", "%d is above the cap of %d", r.max, MaxRetries)
	}
	r.backoff = time.Second
	if n.Retry.Backoff != "" {
		d, err := parseDuration(n.Retry.Backoff)
		if err != nil {
			add("retry.backoff", "%v", err)
		}
		problems = capDuration(problems, n.ID, "retry.backoff", d, MaxRetryBackoff)
		r.backoff = d
	}
	r.maxBackoff = 5 * time.Minute
	if n.Retry.MaxBackoff != "" {
		d, err := parseDuration(n.Retry.MaxBackoff)
		if err != nil {
			add("retry.max_backoff", "%v", err)
		}
		problems = capDuration(problems, n.ID, "retry.max_backoff", d, MaxRetryBackoff)
		r.maxBackoff = d
	}
	return r, problems
}

// wait returns the pause before retry number attempt (1-based).
func (r retryPolicy) wait(attempt int) time.Duration {
	d := r.backoff
	for i := 1; i < attempt && d < r.maxBackoff; i++ {
		d *= 2
	}
	return min(d, r.maxBackoff)
}
