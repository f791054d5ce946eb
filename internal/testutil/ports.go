package testutil

import (
	"hash/fnv"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Ports for test nodes come from below Linux's ephemeral range
// (32768–60999). A port the kernel handed to a TCP listener on port 0 is
// one it may hand next to any outgoing connection or QUIC client socket
// on the machine, so a node given it could find its gossip or QUIC port
// (UDP, same number) taken, or lose it across a restart. Each test binary
// draws from its own part of the range (by its name), so packages that
// run at the same time rarely try the same port; within a binary no port
// is handed out twice.
const (
	portLow, portHigh = 20000, 32000
	portParts         = 6
)

var ports = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

// FreePorts returns n distinct ports that are free on 127.0.0.1 for both
// TCP and UDP (gossip binds both on one number).
func FreePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports.Lock()
	defer ports.Unlock()
	low, size := portPart()
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries > 10*size {
			tb.Fatalf("no %d free ports on 127.0.0.1 in %d–%d", n, low, low+size-1)
		}
		port := low + rand.IntN(size)
		if ports.used[port] || !portFree(port) {
			continue
		}
		ports.used[port] = true
		out = append(out, port)
	}
	return out
}

// portPart is this test binary's part of the port range.
func portPart() (low, size int) {
	h := fnv.New32a()
	h.Write([]byte(os.Args[0]))
	size = (portHigh - portLow) / portParts
	return portLow + int(h.Sum32()%portParts)*size, size
}

func portFree(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}
