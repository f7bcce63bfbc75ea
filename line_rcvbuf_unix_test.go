//go:build linux || darwin

package apptuit

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// listenSmallRcvbuf listens on loopback with a receive buffer of 4 KiB
// (Linux doubles it), set before listen so that connections inherit it and
// the window they advertise stays small.
func listenSmallRcvbuf(t *testing.T) net.Listener {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
