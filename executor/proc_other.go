//go:build !unix

package executor

import "os/exec"

// killProcessGroup keeps os/exec's default, which kills only the command
// itself, on systems without Unix process groups.
func killProcessGroup(*exec.Cmd) {}
