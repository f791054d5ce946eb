//go:build unix

package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is a reading of the machine's and this process's CPU time in
// clock ticks. The benchmark shares its machine with whatever else runs
// there; comparing the two tells how much of the CPU others took while a
// figure was measured, which is printed beside it.
type cpuSample struct {
	total, idle, kernel, self uint64
	ok                        bool
}

func sampleCPU() cpuSample {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, f := range fields[1:] {
		n, _ := strconv.ParseUint(f, 10, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		s.total += n
		switch i {
		case 2, 5, 6: // system, irq, softirq
			s.kernel += n
		case 3, 4: // idle, iowait
			s.idle += n
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return cpuSample{}
	}
	// The command name may hold spaces; the fields after it do not.
	_, rest, ok := strings.Cut(string(self), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return cpuSample{}
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	s.self, s.ok = utime+stime, true
	return s
}

// othersShare returns the share of all CPUs (0–1) that other processes
// used between two samples, or -1 if unknown.
func othersShare(a, b cpuSample) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	busy := float64((b.total - b.idle) - (a.total - a.idle))
	self := float64(b.self - a.self)
	// /proc/stat counts all CPUs; /proc/self/stat counts this process
	// on all of them, in the same ticks.
	return max(0, busy-self) / float64(b.total-a.total)
}

// machineShares returns the shares of all CPUs (0–1) that were busy
// (steal included: the hypervisor's, lost to this machine), and busy in
// the kernel, between two samples.
func machineShares(a, b cpuSample) (busy, kernel float64, ok bool) {
	if !a.ok || !b.ok || b.total <= a.total {
		return 0, 0, false
	}
	total := float64(b.total - a.total)
	return float64((b.total-b.idle)-(a.total-a.idle)) / total, float64(b.kernel-a.kernel) / total, true
}

// loadAverage returns the 1-minute load average, or "?".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0] + " on " + strconv.Itoa(runtime.NumCPU()) + " CPUs"
}

// processCPU returns the user and system CPU time this process has used.
// Per job it is a steadier measure of cost than throughput, which moves
// with the disk and with other processes on the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
