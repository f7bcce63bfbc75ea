//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is an flock(2) lock on dir/lock, which the kernel releases when
// the process dies. The file holds the pid of the holder, for the error
// message of the next one.
type lockFile struct{ f *os.File }

func lockDir(dir string) (*lockFile, error) {
	path := filepath.Join(dir, Name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if pid := holderPID(path); pid != "" {
			holder = " (pid " + pid + ")"
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked%s", ErrLocked, path, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt(pidLine(), 0)
	}
	return &lockFile{f: f}, nil
}

// unlock releases the lock: closing the file does.
func (l *lockFile) unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
