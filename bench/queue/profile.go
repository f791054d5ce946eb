//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
)

// profiler writes one CPU profile (and, if asked, one execution trace)
// per figure, so that each figure's costs can be read on their own. The
// nodes, the robots and the load generator share the process, so every
// profile holds all three; the package names tell them apart (api/client
// and main are the load generator). A figure that leaves the CPUs idle
// is bound by waiting, which only the trace shows:
// `go tool trace -pprof=sync|net|syscall|sched FILE`.
type profiler struct {
	cpuDir, traceDir string // "" disables each
	cpu, trace       *os.File
}

// start begins the profiles of one figure.
func (p *profiler) start(name string) error {
	var err error
	if p.cpu, err = create(p.cpuDir, name+".pprof"); err != nil {
		return err
	}
	if p.cpu != nil {
		if err := pprof.StartCPUProfile(p.cpu); err != nil {
			return fmt.Errorf("start CPU profile %s: %w", name, err)
		}
	}
	if p.trace, err = create(p.traceDir, name+".trace"); err != nil {
		return err
	}
	if p.trace != nil {
		if err := trace.Start(p.trace); err != nil {
			return fmt.Errorf("start trace %s: %w", name, err)
		}
	}
	return nil
}

// create opens dir/name for writing, or returns nil if dir is "".
func create(dir, name string) (*os.File, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, name))
}

// stop ends the current profiles, if any.
func (p *profiler) stop() {
	if p.trace != nil {
		trace.Stop()
		p.trace.Close()
		p.trace = nil
	}
	if p.cpu != nil {
		pprof.StopCPUProfile()
		p.cpu.Close()
		p.cpu = nil
	}
}
