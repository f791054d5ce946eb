package consensus

import (
	"sync"
	"sync/atomic"
)

// The leader decodes a follower's forwarded entry to check it
// (handlers.check) and then, as every replica does, to apply it: under
// end-to-end load the second decode of the robots' reports was some 9%
// of the leader's CPU (bench/queue -cpuprofile). predecoded carries the
// command the check decoded to the apply of the same entry on the same
// node. The entry is keyed by its buffer, which Raft hands the leader's
// FSM as it was appended; the command was decoded from the same bytes
// the apply would decode, so the state cannot tell.
type predecoded struct {
	n  atomic.Int32 // entries held: apply skips the lock while none are
	mu sync.Mutex
	m  map[*byte]any
}

// put holds cmd for the entry data until take or drop.
func (p *predecoded) put(data []byte, cmd any) {
	if len(data) == 0 || cmd == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[*byte]any{}
	}
	p.m[&data[0]] = cmd
	p.n.Store(int32(len(p.m)))
}

// take returns and forgets the command held for data, or nil.
func (p *predecoded) take(data []byte) any {
	if len(data) == 0 || p.n.Load() == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := p.m[&data[0]]
	delete(p.m, &data[0])
	p.n.Store(int32(len(p.m)))
	return cmd
}

// drop forgets the command held for data: the entry was applied (and
// took it) or never will be here.
func (p *predecoded) drop(data []byte) { p.take(data) }
