//go:build unix

package node

import (
	"errors"
	"os"
	"syscall"
)

// errLockHeld says another process holds the lock.
var errLockHeld = errors.New("lock held by another process")

// tryLockFile takes an exclusive flock on f without waiting.
func tryLockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLockHeld
		}
		return err
	}
}
