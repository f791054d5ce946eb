package executor

import (
	"context"
	"fmt"
)

func loopKinds() []*nodeKind {
	return []*nodeKind{
		{
			NodeType: NodeType{
				Name:     "for_each",
				Category: "control",
				Description: "Runs its body once per item, then leaves by port done. " +
					"The body starts at the body port; where a body path ends, the next iteration begins.",
				Fields: []Field{
					{Name: "items", Type: TypeList, Required: true, Description: `the list, usually "{{ some_list }}"; at most 1000000 items and 4 MiB`},
					{Name: "item_var", Type: TypeVariable, Default: "item", Description: "variable holding the current item"},
					{Name: "index_var", Type: TypeVariable, Default: "index", Description: "variable holding the current 0-based index"},
				},
				Ports:     []string{"body", "done"},
				ErrorPort: true,
			},
			loop:  true,
			exec:  execForEach,
			check: checkLoopVars,
		},
		{
			NodeType: NodeType{
				Name:        "while",
				Category:    "control",
				Description: "Runs its body while a condition holds, then leaves by port done. The condition is checked before each iteration.",
				Fields: []Field{
					{Name: "condition", Type: TypeExpression, Required: true, Description: "expression that yields a boolean"},
					{Name: "max_iterations", Type: TypeInteger, Default: "10000", Description: "the node fails when the condition still holds after this many iterations; guards against endless loops (at most 1000000)"},
					{Name: "index_var", Type: TypeVariable, Description: "variable holding the 0-based iteration, if set; it is set before each check of the condition, so after the loop it holds the number of iterations run"},
				},
				Ports:     []string{"body", "done"},
				ErrorPort: true,
			},
			loop:  true,
			exec:  execWhile,
			check: checkWhile,
		},
	}
}

func checkLoopVars(n *Node) []Problem {
	item, _ := n.Config["item_var"].(string)
	index, _ := n.Config["index_var"].(string)
	if item == "" {
		item = "item"
	}
	if index == "" {
		index = "index"
	}
	if item == index {
		return []Problem{{NodeID: n.ID, Field: "index_var", Message: fmt.Sprintf("item_var and index_var are both %q", item)}}
	}
	return nil
}

// enterLoop finds the loop's frame when the loop is being continued, and
// drops the frames of inner loops that the body left early. It returns nil
// when the loop starts afresh.
func (r *run) enterLoop(node int) *loopFrame {
	for i := len(r.loops) - 1; i >= 0; i-- {
		if r.loops[i].node == node {
			r.loops = r.loops[:i+1]
			return &r.loops[i]
		}
	}
	return nil
}

// exitLoop drops the loop's frame, which is on top after enterLoop.
func (r *run) exitLoop(node int) {
	if n := len(r.loops); n > 0 && r.loops[n-1].node == node {
		r.loops = r.loops[:n-1]
	}
}

func execForEach(_ context.Context, c call) (string, error) {
	self := c.n.index
	frame := c.r.enterLoop(self)
	if frame == nil {
		items, err := c.list("items")
		if err != nil {
			return "", err
		}
		if len(items) > MaxLoopIterations {
			return "", limitError("loop iterations", "items: %d items, more than %d", len(items), MaxLoopIterations)
		}
		// The items travel in every checkpoint of the loop, like a
		// variable.
		if _, err := measure(items, MaxVariableBytes); err != nil {
			return "", limitError("variable size", "items: the list is larger than %d MiB", MaxVariableBytes>>20)
		}
		if len(items) == 0 {
			return "done", nil
		}
		c.r.loops = append(c.r.loops, loopFrame{node: self, index: 0, items: items})
		frame = &c.r.loops[len(c.r.loops)-1]
	} else {
		frame.index++
	}
	if frame.index >= len(frame.items) {
		c.r.exitLoop(self)
		return "done", nil
	}
	if err := c.setLoopVars(frame.items[frame.index], frame.index); err != nil {
		c.r.exitLoop(self)
		return "", err
	}
	return "body", nil
}

func (c call) setLoopVars(item any, index int) error {
	itemVar, err := c.str("item_var")
	if err != nil {
		return err
	}
	indexVar, err := c.str("index_var")
	if err != nil {
		return err
	}
	if itemVar == "" {
		itemVar = "item"
	}
	if indexVar == "" {
		indexVar = "index"
	}
	if err := c.set(itemVar, item); err != nil {
		return err
	}
	c.r.vars[indexVar] = index
	return nil
}

func execWhile(_ context.Context, c call) (string, error) {
	self := c.n.index
	frame := c.r.enterLoop(self)
	index := 0
	if frame != nil {
		index = frame.index + 1
	}
	port, err := c.whileCheck(index)
	if err != nil || port == "done" {
		c.r.exitLoop(self)
		return port, err
	}
	if frame == nil {
		c.r.loops = append(c.r.loops, loopFrame{node: self})
		frame = &c.r.loops[len(c.r.loops)-1]
	}
	frame.index = index
	return "body", nil
}

// whileCheck sets the index variable, then checks the condition and the
// iteration limit before iteration index.
func (c call) whileCheck(index int) (string, error) {
	indexVar, err := c.str("index_var")
	if err != nil {
		return "", err
	}
	if indexVar != "" {
		// Before the condition, which may well read it.
		c.r.vars[indexVar] = index
	}
	ok, err := c.condition("condition")
	if err != nil || !ok {
		return "done", err
	}
	limit, err := c.integer("max_iterations", defaultWhileIterations)
	switch {
	case err != nil:
		return "", err
	case limit > MaxLoopIterations:
		return "", limitError("loop iterations", "max_iterations: %d is above the cap of %d", limit, MaxLoopIterations)
	case index >= limit:
		return "", fmt.Errorf("condition still holds after %d iterations (max_iterations)", limit)
	}
	return "body", nil
}

func checkWhile(n *Node) []Problem {
	if limit, ok := number(n.Config["max_iterations"]); ok && limit > MaxLoopIterations {
		return []Problem{{NodeID: n.ID, Field: "max_iterations", Message: fmt.Sprintf("%.0f is above the cap of %d", limit, MaxLoopIterations)}}
	}
	return nil
}
