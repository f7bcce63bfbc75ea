package spool

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockSameProcess(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	_, err := Open(dir, Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "(pid "+strconv.Itoa(os.Getpid())+")") {
		t.Errorf("error does not name the holder: %v", err)
	}
	s.Close()
	s2 := open(t, dir, Options{})
	s2.Close()
}

// TestHelperHoldLock is not a test: run by TestLockOtherProcess as a child
// that opens the spool, appends a record, says so and waits to be killed.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("SPOOL_TEST_LOCK_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := Open(dir, Options{MaxBytes: 1 << 20})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	if _, err := s.Append([]byte("from the child"), 1); err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
	os.Exit(2)
}

// TestLockOtherProcess: while another process holds the spool, Open fails
// with ErrLocked naming its pid; once it is killed (SIGKILL: no Close),
// Open succeeds and finds its record.
func TestLockOtherProcess(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
		t.Skip("flock-based locking only")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "SPOOL_TEST_LOCK_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = Open(dir, Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while the child holds the lock: %v", err)
	}
	if want := "(pid " + strconv.Itoa(cmd.Process.Pid) + ")"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	cmd.Process.Kill()
	cmd.Wait()
	s := open(t, dir, Options{})
	recs := readAll(t, s)
	if len(recs) != 1 || string(recs[0].Data) != "from the child" {
		t.Fatalf("records after the child died: %+v", recs)
	}
}
