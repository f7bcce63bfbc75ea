// Package dirlock keeps two processes (or two users in one process) from
// writing the same data directory: the reporter's spool and the data
// directory of apptuit serve --data both take it when they open.
package dirlock

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// Name is the lock file's name inside the directory it locks.
const Name = "lock"

// ErrLocked is matched (errors.Is) by the error of Lock when the directory
// is locked already, by this process or another.
var ErrLocked = errors.New("directory is in use by another process")

// Lock is a held lock on a directory.
type Lock struct{ f *lockFile }

// Acquire locks dir (which must exist) by its file Name, writing the pid of
// this process into it for the error message of the next one, or returns
// an error matching ErrLocked that names the file and, when it can, the
// holder's pid. Where flock(2) exists, the kernel releases the lock when
// the process dies; elsewhere the lock is the file's existence (created
// exclusively), and a process that dies without Unlock leaves it behind.
// Its cost is one open and one flock.
func Acquire(dir string) (*Lock, error) {
	f, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. The file stays where flock(2) is used (removing
// it would let a process that opened it before the removal lock a file no
// longer in the directory while a third locks a new one).
func (l *Lock) Unlock() error { return l.f.unlock() }

// pidLine is what a holder writes into the lock file: its pid and a newline.
func pidLine() []byte { return []byte(strconv.Itoa(os.Getpid()) + "\n") }

// holderPID returns the pid written in the lock file at path, or "" when
// there is none to read.
func holderPID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
