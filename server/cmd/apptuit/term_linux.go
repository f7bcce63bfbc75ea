package main

import (
	"os"
	"syscall"
	"unsafe"
)

// isTerminal reports whether f is an *os.File open on a terminal: one that
// answers the TCGETS ioctl, as isatty(3) asks. /dev/null and other
// character devices are not terminals.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, file.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
