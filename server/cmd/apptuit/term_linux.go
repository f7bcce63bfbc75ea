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

// terminalWidth returns the width in columns of the terminal f is open on,
// or 0 when f is not a terminal or does not say.
func terminalWidth(f any) int {
	file, ok := f.(*os.File)
	if !ok {
		return 0
	}
	var ws struct{ Row, Col, X, Y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, file.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws)))
	if errno != 0 {
		return 0
	}
	return int(ws.Col)
}
