package executor

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

func shellKinds() []*nodeKind {
	return []*nodeKind{{
		NodeType: NodeType{
			Name:     "shell",
			Category: "system",
			Description: "Runs a program. Without args, command is a shell command line (/bin/sh -c); with args, command is the program and args its arguments, passed without a shell. " +
				"Output holds stdout, stderr and exit_code; a non-zero exit status fails the node after the output is stored.",
			Fields: []Field{
				{Name: "command", Type: TypeString, Required: true, Description: "shell command line, or the program when args is set"},
				{Name: "args", Type: TypeStringList, Description: "program arguments; setting them bypasses the shell"},
				{Name: "dir", Type: TypeString, Description: "working directory; default: the engine's working directory"},
				{Name: "env", Type: TypeStringMap, Description: "environment variables added to the robot's environment"},
				{Name: "stdin", Type: TypeString, Description: "text fed to the program's standard input"},
				{Name: "output_var", Type: TypeVariable, Description: "variable that receives {stdout, stderr, exit_code}; stdout and stderr keep their first MiB each"},
			},
			Ports:     []string{""},
			ErrorPort: true,
		},
		effects: true,
		exec:    execShell,
	}}
}

func execShell(ctx context.Context, c call) (string, error) {
	command, err := c.requiredStr("command")
	if err != nil {
		return "", err
	}
	_, hasArgs, err := c.value("args")
	if err != nil {
		return "", err
	}
	args, err := c.strList("args")
	if err != nil {
		return "", err
	}
	dir, err := c.str("dir")
	if err != nil {
		return "", err
	}
	env, err := c.strMap("env")
	if err != nil {
		return "", err
	}
	stdin, err := c.str("stdin")
	if err != nil {
		return "", err
	}

	var cmd *exec.Cmd
	switch {
	case hasArgs:
		cmd = exec.CommandContext(ctx, command, args...)
	case runtime.GOOS == "windows":
		cmd = exec.CommandContext(ctx, "cmd", "/C", command)
	default:
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", command)
	}
	cmd.Dir = c.path(dir)
	if dir == "" {
		cmd.Dir = c.r.engine.workDir
	}
	if err := c.checkRooted("dir", cmp.Or(cmd.Dir, ".")); err != nil {
		return "", err
	}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), sortedEnv(env)...)
	}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	stdout := &cappedBuffer{max: maxShellOutput}
	stderr := &cappedBuffer{max: maxShellOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	killProcessGroup(cmd)
	// Children that keep the output pipes open must not keep the node
	// waiting once the command itself has exited or been killed.
	cmd.WaitDelay = 2 * time.Second

	runErr := cmd.Run()
	exitCode := 0
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr) && ctx.Err() == nil:
		exitCode = exitErr.ExitCode()
	default:
		return "", fmt.Errorf("run %s: %w", command, runErr)
	}
	out := map[string]any{"stdout": stdout.String(), "stderr": stderr.String(), "exit_code": exitCode}
	if err := c.setOutput(out); err != nil {
		return "", err
	}
	if exitCode != 0 {
		return "", fmt.Errorf("%s: exit status %d%s", command, exitCode, lastLine(stderr.String()))
	}
	return "", nil
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// lastLine returns ": " and the last non-empty line of s, which is usually
// the error a failing command printed.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n\t ")
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	const limit = 300
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return ": " + s
}

// cappedBuffer keeps the first max bytes written and drops the rest, noting
// that it did.
type cappedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) String() string {
	if b.truncated {
		return b.buf.String() + "\n[output truncated]"
	}
	return b.buf.String()
}
