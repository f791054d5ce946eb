package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// lockFileName is the file in a data dir that a running node holds an
// exclusive lock on and writes its pid into.
const lockFileName = "casare.pid"

// ErrDataDirInUse says that another casare process runs on the data dir.
var ErrDataDirInUse = errors.New("data dir is in use by another casare process")

// DataDirInUseError names the data dir and the process that holds it.
type DataDirInUseError struct {
	Dir string
	PID int // 0 when the holder has not written it yet
}

func (e *DataDirInUseError) Error() string {
	pid := "pid unknown"
	if e.PID > 0 {
		pid = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("data dir %s is in use by another casare process (%s): a node is already running on it; stop it first or give this one another --data-dir", e.Dir, pid)
}

func (e *DataDirInUseError) Is(target error) bool { return target == ErrDataDirInUse }

// dataDirLock is a node's hold on its data dir. Taken before anything in
// the dir is opened, it turns a second node on the same dir into an
// error at once: without it the second node blocked forever in bbolt's
// own file lock, where no signal reaches it. The lock is the kernel's
// (flock), so it goes with the process however that ends; the file is
// never removed, because a process that opened it just before a removal
// would lock a file nobody else sees.
type dataDirLock struct {
	f *os.File
}

func lockDataDir(dir string) (*dataDirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open data dir lock: %w", err)
	}
	if err := tryLockFile(f); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, errLockHeld) {
			return nil, &DataDirInUseError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("write pid to data dir lock: %w", err)
	}
	return &dataDirLock{f: f}, nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

func readPID(f *os.File) int {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(string(bytes.TrimSpace(data)))
	return pid
}

// release empties the pid file and lets the lock go.
func (l *dataDirLock) release() error {
	if l == nil {
		return nil
	}
	return errors.Join(l.f.Truncate(0), l.f.Close())
}
