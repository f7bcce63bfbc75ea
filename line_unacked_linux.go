package apptuit

import (
	"net"
	"syscall"
	"unsafe"
)

// ackCounter tells how many bytes written on a TCP connection its peer's
// TCP has not acknowledged yet. On Linux it asks SIOCOUTQ: the bytes of
// the send queue from the first one not acknowledged.
type ackCounter struct {
	rc    syscall.RawConn
	n     int32
	errno syscall.Errno
	ask   func(fd uintptr) // made once: asking allocates nothing
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
		_, _, a.errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&a.n)))
	}
	if _, ok := a.unacked(); !ok {
		return nil
	}
	return a
}

// unacked returns the bytes not acknowledged, and false if it could not
// tell (the connection is closed).
func (a *ackCounter) unacked() (int, bool) {
	if err := a.rc.Control(a.ask); err != nil || a.errno != 0 {
		return 0, false
	}
	return int(a.n), true
}
