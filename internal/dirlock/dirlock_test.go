package dirlock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestAcquire(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if want := "directory is in use by another process: " + filepath.Join(dir, Name) + " is locked (pid " + strconv.Itoa(os.Getpid()) + ")"; err.Error() != want {
		t.Errorf("second Acquire: %q, want %q", err, want)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Unlock: %v", err)
	}
	l2.Unlock()
	if _, err := Acquire(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("Acquire of a missing directory: %v, want an error that is not ErrLocked", err)
	}
}
