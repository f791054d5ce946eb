package consensus

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// Large entries are written to the log compressed. A merged submit of a
// thousand jobs is some 135 KB of JSON that repeats its keys, workflow
// id and mode in every spec; S2 (klauspost/compress, Snappy's format
// extended) brings it to a fifth in about 30 µs and back in about 20.
// Every byte of an entry is paid for several times on every node:
// raft-boltdb encodes each entry into a buffer it grows from empty, bbolt
// allocates the pages it writes, the transport reads the entry into a
// fresh slice, and TLS seals it on the way. Under end-to-end load those
// three allocations were a quarter of the bytes the nodes allocated
// (bench/queue -cpuprofile, 3 December), and so about a quarter of the
// collector's cycles.
//
// A compressed entry keeps the envelope's header, so that its time reads
// as any other's: cmdCompressed, the leader's clock, then the inner
// command's type and its payload as one S2 block. The leader compresses
// after stamping the time (Store.applyDecoded), and every replica expands
// the entry before anything else reads it (fsm.ApplyBatch), so the
// handlers, the entry counts and the observers see the envelope as it was
// encoded.
//
// A node of an older build cannot apply such an entry: it would skip it,
// as any entry it cannot decode, and its state would part from the
// others'. So the leader compresses only while every server in the Raft
// configuration has told it that it reads them (NodeInfo.LogFormat, sent
// when a server joins or rejoins, as a restarted one does; a server goes
// on rejoining until the registry shows its format, which a leader of an
// older build does not record). During a rolling upgrade the leader
// compresses nothing until the last server runs the new build and a
// leader of the new build has recorded every server's format. What this
// cannot cover: a server of an older build added later, or one rolled
// back to one, replays the log it is sent, which may hold compressed
// entries; add or roll back only to builds that read them.

// LogFormat is the newest log format this build applies: 1 reads
// compressed entries (cmdCompressed).
const LogFormat = 1

// cmdCompressed wraps another command's envelope, compressed.
const cmdCompressed commandType = 78

// compressAtLeast is the payload size from which an entry is
// compressed: below it the saving is a few hundred bytes at most, less
// than what the log and the transport spend on an entry anyway.
const compressAtLeast = 4 << 10

// maxExpandedEntry bounds what one compressed entry may expand to. The
// leader refuses internal requests far smaller (maxGroupBytes bounds a
// merged entry to 4 MiB), so only a damaged or foreign entry comes near;
// it must not make every replica allocate without bound.
const maxExpandedEntry = 64 << 20

// entryFor returns the entry to append for the stamped envelope buf:
// compressed when it is large and every server reads compressed entries.
func (s *Store) entryFor(buf []byte) []byte {
	if len(buf) < headerLen+compressAtLeast || !s.serversRead(LogFormat) {
		return buf
	}
	return compressEntry(buf)
}

// serversRead reports whether every server in the Raft configuration
// has registered a log format of at least format. It takes no lock: the
// configuration is an atomic read in hashicorp/raft, and the formats are
// what the FSM last published (fsm.noteFormats).
func (s *Store) serversRead(format int) bool {
	cfg, err := s.configuration()
	formats := s.fsm.formats.Load()
	if err != nil || formats == nil {
		return false
	}
	for _, srv := range cfg.Servers {
		if (*formats)[string(srv.ID)] < format {
			return false
		}
	}
	return true
}

// compressEntry returns the entry to append for the stamped envelope buf:
// buf compressed when that makes it smaller, else buf itself.
func compressEntry(buf []byte) []byte {
	if len(buf) < headerLen+compressAtLeast || commandType(buf[0]) == cmdCompressed {
		return buf
	}
	payload := buf[headerLen:]
	limit := s2.MaxEncodedLen(len(payload))
	if limit < 0 || len(payload) > maxExpandedEntry { // no replica would expand it
		return buf
	}
	out := make([]byte, headerLen+1, headerLen+1+limit)
	out[0] = byte(cmdCompressed)
	copy(out[1:headerLen], buf[1:headerLen])
	out[headerLen] = buf[0]
	block := s2.Encode(out[headerLen+1:cap(out)], payload)
	if len(block) >= len(payload) {
		return buf
	}
	// Given MaxEncodedLen bytes, s2.Encode writes into them; append
	// copies only if it ever does not.
	return append(out, block...)
}

// expandEntry returns the envelope a log entry holds: data itself, or,
// for a compressed entry, the envelope it was compressed from.
func expandEntry(data []byte) ([]byte, error) {
	if len(data) == 0 || commandType(data[0]) != cmdCompressed {
		return data, nil
	}
	if len(data) < headerLen+1 {
		return nil, fmt.Errorf("compressed entry of %d bytes is shorter than its %d-byte header", len(data), headerLen+1)
	}
	inner, block := commandType(data[headerLen]), data[headerLen+1:]
	if inner == cmdCompressed {
		return nil, fmt.Errorf("compressed entry wraps another compressed entry")
	}
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("compressed entry of type %s: %w", inner, err)
	}
	if n > maxExpandedEntry {
		return nil, fmt.Errorf("compressed entry of type %s expands to %d bytes, over the %d allowed", inner, n, maxExpandedEntry)
	}
	out := make([]byte, headerLen+n)
	out[0] = byte(inner)
	copy(out[1:headerLen], data[1:headerLen])
	payload, err := s2.Decode(out[headerLen:], block)
	if err != nil {
		return nil, fmt.Errorf("compressed entry of type %s: %w", inner, err)
	}
	if len(payload) != n {
		return nil, fmt.Errorf("compressed entry of type %s expanded to %d bytes, not the %d it names", inner, len(payload), n)
	}
	if n > 0 && &payload[0] != &out[headerLen] { // s2.Decode decodes into a large enough dst
		copy(out[headerLen:], payload)
	}
	return out, nil
}
