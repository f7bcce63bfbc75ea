package apptuit

import (
	"net"
	"syscall"
)

// ackCounter tells how many bytes written on a TCP connection its peer's
// TCP has not acknowledged yet. On macOS it asks SO_NWRITE: the bytes in
// the send buffer, which keeps them until they are acknowledged.
type ackCounter struct {
	rc  syscall.RawConn
	n   int
	err error
	ask func(fd uintptr) // made once: asking allocates nothing
}

// newAckCounter returns conn's counter, or nil when it cannot tell.
func newAckCounter(conn net.Conn) *ackCounter {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	a := &ackCounter{rc: rc}
	a.ask = func(fd uintptr) {
		a.n, a.err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_NWRITE)
	}
	if _, ok := a.unacked(); !ok {
		return nil
	}
	return a
}

// unacked returns the bytes not acknowledged, and false if it could not
// tell (the connection is closed).
func (a *ackCounter) unacked() (int, bool) {
	if err := a.rc.Control(a.ask); err != nil || a.err != nil {
		return 0, false
	}
	return a.n, true
}
