//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// lockFile is the existence of dir/lock, created with O_EXCL: without
// flock(2), a process that dies without Close leaves it behind, and the
// next Open fails until it is removed by hand.
type lockFile struct{ path string }

func lockDir(dir string) (*lockFile, error) {
	path := filepath.Join(dir, Name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		holder := ""
		if pid := holderPID(path); pid != "" {
			holder = " by pid " + pid
		}
		return nil, fmt.Errorf("%w: %s exists (created%s); remove it if no process uses the directory", ErrLocked, path, holder)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Write(pidLine())
	f.Close()
	return &lockFile{path: path}, nil
}

func (l *lockFile) unlock() error {
	if err := os.Remove(l.path); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
