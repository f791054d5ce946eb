package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/executor"
)

// runOptions are the flags of `casare run`.
type runOptions struct {
	vars    []string
	output  string
	debug   bool
	breaks  []string
	watches []string
}

func newRunCmd() *cobra.Command {
	var opts runOptions
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a workflow on this machine, without a cluster",
		Long: "Run the workflow in FILE here and now, showing each node's progress on\n" +
			"standard error. Variables are given as --var key=value (a string) or\n" +
			"--var key:=JSON (a number, boolean, list or object). Subworkflow paths are\n" +
			"resolved against FILE's directory; other relative paths against the\n" +
			"working directory.\n\n" +
			"With --debug the run stops before nodes and reads debugger commands from\n" +
			"standard input (type help at the prompt).\n\n" +
			"The exit status is 0 when the workflow succeeds, 1 when it fails and 130\n" +
			"when it is interrupted.",
		Example: "  casare run invoice.json --var customer=acme --var limit:=100\n" +
			"  casare run invoice.json --output json\n" +
			"  casare run invoice.json --debug --break fetch --watch 'len(items)'",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return opts.run(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.vars, "var", nil, "variable key=value (string) or key:=JSON; repeatable")
	f.StringVarP(&opts.output, "output", "o", "text", "result format: text or json")
	f.BoolVar(&opts.debug, "debug", false, "run under the interactive debugger")
	f.StringArrayVar(&opts.breaks, "break", nil, "with --debug: stop before this node (a subworkflow's nodes as CALL/NODE); repeatable")
	f.StringArrayVar(&opts.watches, "watch", nil, "with --debug: expression to show at every stop; repeatable")
	return cmd
}

func (o *runOptions) run(cmd *cobra.Command, path string) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("--output %q: want text or json", o.output)
	}
	if !o.debug && (len(o.breaks) > 0 || len(o.watches) > 0) {
		return errors.New("--break and --watch need --debug")
	}
	w, err := loadWorkflow(path)
	if err != nil {
		return err
	}
	vars, err := parseRunVars(o.vars)
	if err != nil {
		return err
	}
	engine := executor.NewEngine(executor.EngineOptions{
		Logger:  slog.Default(),
		BaseDir: filepath.Dir(path),
	})
	stderr := cmd.ErrOrStderr()
	progress := newProgress(stderr, isTerminal(stderr) && !o.debug)
	opts := executor.RunOptions{Vars: vars, OnEvent: progress.event}
	if o.debug {
		d, err := newDebugger(w, cmd.InOrStdin(), cmd.OutOrStdout(), o.breaks, o.watches)
		if err != nil {
			return err
		}
		defer d.close()
		opts.BeforeNode = d.beforeNode
	}

	started := time.Now()
	res := engine.Run(cmd.Context(), w, opts)
	progress.finish()

	out := cmd.OutOrStdout()
	if o.output == "json" {
		if err := writeRunJSON(out, res); err != nil {
			return err
		}
	} else {
		writeRunText(out, res, time.Since(started))
	}
	switch res.State {
	case executor.StateSucceeded:
		return nil
	case executor.StateCancelled:
		return exitError{code: 130}
	default:
		return exitError{code: 1}
	}
}

// loadWorkflow reads, parses and validates a workflow file. Validation
// problems come back one per line.
func loadWorkflow(path string) (*executor.Workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := executor.ParseAndValidate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// parseRunVars turns --var flags into variables: key=value gives a string,
// key:=JSON a typed value (the same syntax as submit's --param).
func parseRunVars(pairs []string) (map[string]any, error) {
	vars := make(map[string]any, len(pairs))
	for _, pair := range pairs {
		if key, raw, ok := strings.Cut(pair, ":="); ok && key != "" && !strings.Contains(key, "=") {
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return nil, fmt.Errorf("--var %s: %q after := is not valid JSON", key, raw)
			}
			vars[key] = v
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--var %q: want key=value or key:=JSON", pair)
		}
		vars[key] = value
	}
	return vars, nil
}

// runJSON is the --output json document.
type runJSON struct {
	State       string         `json:"state"`
	Variables   map[string]any `json:"variables"`
	Error       *string        `json:"error"`
	FailureKind string         `json:"failure_kind,omitempty"`
	FailedNode  string         `json:"failed_node,omitempty"`
}

func writeRunJSON(w io.Writer, res executor.Result) error {
	doc := runJSON{State: res.State, Variables: res.Variables, FailureKind: res.FailureKind, FailedNode: res.FailedNode}
	if res.Error != "" {
		doc.Error = &res.Error
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeRunText prints the outcome and the final variables.
func writeRunText(w io.Writer, res executor.Result, took time.Duration) {
	switch res.State {
	case executor.StateSucceeded:
		fmt.Fprintf(w, "succeeded in %s (%d steps)\n", took.Round(time.Millisecond), res.Checkpoint.Steps)
	case executor.StateFailed:
		fmt.Fprintf(w, "failed (%s failure) in %s: %s\n", res.FailureKind, took.Round(time.Millisecond), escapeText(res.Error))
	default:
		fmt.Fprintf(w, "%s after %s: %s\n", res.State, took.Round(time.Millisecond), escapeText(res.Error))
	}
	if len(res.Variables) == 0 {
		return
	}
	fmt.Fprintln(w, "variables:")
	for _, name := range slices.Sorted(maps.Keys(res.Variables)) {
		fmt.Fprintf(w, "  %s = %s\n", escapeCell(name), escapeCell(brief(res.Variables[name], 200)))
	}
}

// brief renders a value as JSON cut to at most limit bytes.
func brief(v any, limit int) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(data) > limit {
		return string(data[:limit]) + "…"
	}
	return string(data)
}

// isTerminal reports whether w is a terminal; golang.org/x/term is not in
// the module graph, and a character device is what a terminal looks like.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progress shows a run's events. On a terminal it keeps a status line with
// the running node at the bottom and prints a line the first time each node
// finishes, so a loop of a million iterations does not scroll a million
// lines; elsewhere it prints one plain line per event.
type progress struct {
	w        io.Writer
	live     bool
	started  time.Time
	steps    int
	seen     map[string]bool
	current  string
	drawn    bool // the status line is on screen
	lastDraw time.Time
}

func newProgress(w io.Writer, live bool) *progress {
	return &progress{w: w, live: live, started: time.Now(), seen: make(map[string]bool)}
}

// event runs on the engine's goroutine, so progress needs no lock.
func (p *progress) event(ev executor.Event) {
	node := ev.NodeID + " (" + ev.NodeType + ")"
	switch ev.Kind {
	case executor.EventNodeStarted:
		p.current = node
		p.drawStatus(false)
	case executor.EventNodeFinished:
		p.steps++
		if !p.live {
			p.line("ok    %s %s", node, ev.Duration.Round(time.Microsecond))
		} else if !p.seen[ev.NodeID] {
			p.line("✓ %s %s", node, ev.Duration.Round(time.Microsecond))
		}
		p.seen[ev.NodeID] = true
		p.drawStatus(false)
	case executor.EventNodeFailed:
		p.steps++
		p.line(p.pick("FAIL  %s: %s", "✗ %s: %s"), node, ev.Error)
	case executor.EventNodeRetrying:
		p.line(p.pick("RETRY %s: attempt %d failed: %s; next in %s", "↻ %s: attempt %d failed: %s; next in %s"), node, ev.Attempt, ev.Error, ev.Duration)
	case executor.EventLog:
		p.line(p.pick("LOG   %s %s: %s", "  %s %s: %s"), ev.Level, ev.NodeID, ev.Message)
	}
}

func (p *progress) pick(plain, live string) string {
	if p.live {
		return live
	}
	return plain
}

// line prints a permanent line above the status line.
func (p *progress) line(format string, args ...any) {
	p.clearStatus()
	fmt.Fprintln(p.w, escapeCell(fmt.Sprintf(format, args...)))
	p.drawStatus(true)
}

// drawStatus redraws the status line, at most 20 times a second unless
// forced, so fast nodes do not spend their time repainting a terminal.
func (p *progress) drawStatus(force bool) {
	if !p.live || p.current == "" {
		return
	}
	now := time.Now()
	if !force && p.drawn && now.Sub(p.lastDraw) < 50*time.Millisecond {
		return
	}
	p.lastDraw = now
	p.drawn = true
	fmt.Fprintf(p.w, "\r\033[K… %s · %d steps · %s", escapeCell(p.current), p.steps, now.Sub(p.started).Round(100*time.Millisecond))
}

func (p *progress) clearStatus() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// finish removes the status line.
func (p *progress) finish() { p.clearStatus() }
