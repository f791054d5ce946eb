package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

func controlKinds() []*nodeKind {
	return []*nodeKind{
		{
			NodeType: NodeType{
				Name:        "start",
				Category:    "control",
				Description: "Where the run begins. A workflow has exactly one.",
				Ports:       []string{""},
			},
			exec: func(context.Context, call) (string, error) { return "", nil },
		},
		{
			NodeType: NodeType{
				Name:        "end",
				Category:    "control",
				Description: "Ends the run, even inside a loop. With status failed the run fails as a business failure, which the job queue does not retry.",
				Fields: []Field{
					{Name: "status", Type: TypeString, Default: "succeeded", Enum: []string{"succeeded", "failed"}, Description: "outcome of the run"},
					{Name: "message", Type: TypeString, Description: "why the run ended; the run's error when status is failed"},
				},
			},
			exec: execEnd,
		},
		{
			NodeType: NodeType{
				Name:        "fail",
				Category:    "control",
				Description: "Fails the run. An error port cannot catch it.",
				Fields: []Field{
					{Name: "message", Type: TypeString, Required: true, Description: "the run's error"},
					{Name: "kind", Type: TypeString, Default: FailureBusiness, Enum: []string{FailureBusiness, FailureApplication}, Description: "business failures are not retried by the job queue; application failures may be"},
				},
			},
			exec: execFail,
		},
		{
			NodeType: NodeType{
				Name:        "if",
				Category:    "control",
				Description: "Branches on a condition: leaves by port true or false. A branch without a connection ends the path.",
				Fields: []Field{
					{Name: "condition", Type: TypeExpression, Required: true, Description: `expression that yields a boolean, e.g. "status == 200 && len(items) > 0"`},
				},
				Ports:     []string{"true", "false"},
				ErrorPort: true,
			},
			exec: func(_ context.Context, c call) (string, error) {
				ok, err := c.condition("condition")
				if err != nil {
					return "", err
				}
				if ok {
					return "true", nil
				}
				return "false", nil
			},
		},
		{
			NodeType: NodeType{
				Name:        "delay",
				Category:    "control",
				Description: "Waits. Cancelling the run cuts the wait short.",
				Fields: []Field{
					{Name: "duration", Type: TypeDuration, Required: true, Description: `how long to wait, e.g. "1.5s" or "2m"; at most 24h`},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			check:   checkDelay,
			exec: func(ctx context.Context, c call) (string, error) {
				d, err := c.duration("duration", 0)
				if err != nil {
					return "", err
				}
				if d > MaxNodeDuration {
					return "", limitError("delay", "duration: %s is above the cap of %s", d, MaxNodeDuration)
				}
				return "", sleep(ctx, d)
			},
		},
		{
			NodeType: NodeType{
				Name:        "log",
				Category:    "control",
				Description: "Writes a line to the run's log.",
				Fields: []Field{
					{Name: "message", Type: TypeString, Required: true, Description: "the text; templates are expanded"},
					{Name: "level", Type: TypeString, Default: "info", Enum: []string{"debug", "info", "warn", "error"}, Description: "severity"},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			exec: execLog,
		},
	}
}

func dataKinds() []*nodeKind {
	return []*nodeKind{
		{
			NodeType: NodeType{
				Name:        "set_variable",
				Category:    "data",
				Description: "Sets a variable. A value that is exactly one {{ expression }} keeps the expression's type.",
				Fields: []Field{
					{Name: "name", Type: TypeVariable, Required: true, Description: "variable to set"},
					{Name: "value", Type: TypeAny, Required: true, Description: "the value: any JSON value, with templates in its strings"},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			exec: func(_ context.Context, c call) (string, error) {
				name, err := c.requiredStr("name")
				if err != nil {
					return "", err
				}
				v, _, err := c.value("value")
				if err != nil {
					return "", err
				}
				return "", c.set(name, v)
			},
		},
		{
			NodeType: NodeType{
				Name:        "json_parse",
				Category:    "data",
				Description: "Parses JSON text into a value.",
				Fields: []Field{
					{Name: "text", Type: TypeString, Required: true, Description: "the JSON text"},
					{Name: "output_var", Type: TypeVariable, Required: true, Description: "variable that receives the parsed value"},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			exec: func(_ context.Context, c call) (string, error) {
				text, err := c.str("text")
				if err != nil {
					return "", err
				}
				if err := checkDecode("text", text); err != nil {
					return "", err
				}
				var v any
				if err := json.Unmarshal([]byte(text), &v); err != nil {
					return "", fmt.Errorf("text: invalid JSON: %w", err)
				}
				return "", c.setOutput(v)
			},
		},
	}
}

func checkDelay(n *Node) []Problem {
	s, _ := n.Config["duration"].(string)
	if d, err := parseDuration(s); err == nil && !hasTemplate(s) {
		return capDuration(nil, n.ID, "duration", d, MaxNodeDuration)
	}
	return nil
}

func execEnd(_ context.Context, c call) (string, error) {
	status, err := c.str("status")
	if err != nil {
		return "", err
	}
	message, err := c.str("message")
	if err != nil {
		return "", err
	}
	switch status {
	case "", "succeeded":
		c.r.ended = &ending{message: message}
		if message != "" {
			c.log(slog.LevelInfo, message)
		}
	case "failed":
		c.r.ended = &ending{failed: true, kind: FailureBusiness, message: message}
	default:
		return "", fmt.Errorf("status: want succeeded or failed, got %q", status)
	}
	return "", nil
}

func execFail(_ context.Context, c call) (string, error) {
	message, err := c.str("message")
	if err != nil {
		return "", err
	}
	kind, err := c.str("kind")
	if err != nil {
		return "", err
	}
	switch kind {
	case "":
		kind = FailureBusiness
	case FailureBusiness, FailureApplication:
	default:
		return "", fmt.Errorf("kind: want %s or %s, got %q", FailureBusiness, FailureApplication, kind)
	}
	if message == "" {
		message = "failed"
	}
	c.r.ended = &ending{failed: true, kind: kind, message: message}
	return "", nil
}

func execLog(_ context.Context, c call) (string, error) {
	message, err := c.str("message")
	if err != nil {
		return "", err
	}
	name, err := c.str("level")
	if err != nil {
		return "", err
	}
	level := slog.LevelInfo
	if name != "" {
		if err := level.UnmarshalText([]byte(name)); err != nil {
			return "", errors.New("level: want debug, info, warn or error")
		}
	}
	c.log(level, message)
	return "", nil
}
