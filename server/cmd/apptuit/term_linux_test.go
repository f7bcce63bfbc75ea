package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/apptuit-go/apptuit/apptuittest"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func TestIsTerminal(t *testing.T) {
	_, pty := openPTY(t)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name string
		f    any
		want bool
	}{
		{"pty", pty, true},
		{"/dev/null", null, false},
		{"pipe", r, false},
		{"file", file, false},
		{"buffer", &bytes.Buffer{}, false},
	} {
		if got := isTerminal(tc.f); got != tc.want {
			t.Errorf("isTerminal(%s) = %v", tc.name, got)
		}
	}
}

// On a terminal, send shows a progress line, redrawn at most every 250 ms,
// and erases it before the summary with the final rate.
func TestSendProgressOnTerminal(t *testing.T) {
	cleanEnv(t)
	master, slave := openPTY(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&out, master); close(read) }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	code := run(ctx, []string{"send", "--endpoint", srv.URL(), "--batch", "20"}, strings.NewReader(lines(4000)), io.Discard, slave)
	elapsed := time.Since(start)
	slave.Close()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		master.Close()
		<-read
	}
	if code != 0 {
		t.Fatalf("exit %d: %q", code, out.String())
	}
	got := out.String()
	redraws := strings.Count(got, "\r\x1b[Ksent ")
	most := int(elapsed/progressEvery) + 2
	t.Logf("%d redraws in %v for 200 batches", redraws, elapsed)
	if redraws < 1 || redraws > most {
		t.Errorf("%d progress redraws in %v for 200 batches, want 1 to %d", redraws, elapsed, most)
	}
	if !regexp.MustCompile(`\r\x1b\[Ksent \d+ points \(0 refused\), \d+ points/s`).MatchString(got) {
		t.Errorf("no progress line in %q", got)
	}
	// The pty turns "\n" into "\r\n".
	if !regexp.MustCompile(`\r\x1b\[Ksent 4000 points in \d+\.\d\d s \(\d+ points/s\)\r\n$`).MatchString(got) {
		t.Errorf("output does not end with the summary after erasing the progress line: %q", got[max(0, len(got)-200):])
	}
}
