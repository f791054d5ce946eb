// Command casare is the single binary of a Casare cluster: it runs nodes,
// talks to a cluster's REST API and runs workflows locally.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a graceful stop; from then on a second one
	// ends the process at once, so that Ctrl-C is never powerless while a
	// node drains, leaves or starts up.
	context.AfterFunc(ctx, stop)
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var ex exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, escapeText(ex.msg))
		}
		os.Exit(ex.code)
	}
	fmt.Fprintln(os.Stderr, "error:", escapeText(err.Error()))
	os.Exit(1)
}

// exitError ends the program with a specific exit code; commands use it
// when the exit code itself carries meaning (e.g. a failed workflow run).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }
