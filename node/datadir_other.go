//go:build !unix

package node

import (
	"errors"
	"os"
)

// errLockHeld says another process holds the lock.
var errLockHeld = errors.New("lock held by another process")

// tryLockFile has no flock to take on this platform. The Raft log's own
// bbolt lock, opened with a timeout, still refuses a second node there,
// with a less precise message.
func tryLockFile(*os.File) error { return nil }
