//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// profileProcs takes a CPU profile of every node process of c for d
// (whole seconds, at least one) from their pprof listeners, into
// <-cpuprofile>/<name>-<node>.pprof, the leader's file marked -leader.
// It returns at once; wait blocks until the profiles are written and
// reports the first failure. Beside each, <name>-<node>.allocs.pprof
// holds the allocations of the same window. Without -cpuprofile it does
// nothing.
func (b *bench) profileProcs(ctx context.Context, c *procCluster, name string, d time.Duration) (wait func() error) {
	if b.cfg.cpuprofile == "" {
		return func() error { return nil }
	}
	if err := os.MkdirAll(b.cfg.cpuprofile, 0o755); err != nil {
		return func() error { return err }
	}
	leader := c.leaderName(ctx)
	secs := max(1, int(math.Ceil(d.Seconds())))
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		file := fmt.Sprintf("%s-%s.pprof", name, n.name)
		if n.name == leader {
			file = fmt.Sprintf("%s-%s-leader.pprof", name, n.name)
		}
		wg.Go(func() {
			errs[i] = fetchProfile(ctx, n.pprof, "profile", secs, filepath.Join(b.cfg.cpuprofile, file))
		})
		// The allocations over the same window: under load the nodes'
		// garbage collection is a quarter of their CPU, and this says
		// which code makes the garbage.
		wg.Go(func() {
			allocs := strings.TrimSuffix(file, ".pprof") + ".allocs.pprof"
			if err := fetchProfile(ctx, n.pprof, "allocs", secs, filepath.Join(b.cfg.cpuprofile, allocs)); err != nil {
				b.progress("warning: %v", err)
			}
		})
	}
	// With -trace, the leader's execution trace over one second of the
	// window: where a call waits (the scheduler, a lock, the disk), which
	// a CPU profile of a half-idle process does not show.
	if leader != "" && b.cfg.tracedir != "" {
		wg.Go(func() {
			if err := os.MkdirAll(b.cfg.tracedir, 0o755); err != nil {
				b.progress("warning: %v", err)
				return
			}
			path := filepath.Join(b.cfg.tracedir, fmt.Sprintf("%s-%s-leader.trace", name, leader))
			for _, n := range c.nodes {
				if n.name == leader {
					if err := fetchProfile(ctx, n.pprof, "trace", 1, path); err != nil {
						b.progress("warning: %v", err)
					}
				}
			}
		})
	}
	return func() error {
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// fetchProfile writes the profile kind (profile: CPU; allocs) of the
// process serving pprof at addr over the next secs seconds to path.
func fetchProfile(ctx context.Context, addr, kind string, secs int, path string) error {
	if addr == "" {
		return fmt.Errorf("profile %s: the node serves no pprof", path)
	}
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, secs)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("profile %s: %s: %s", addr, resp.Status, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	return f.Close()
}
