//go:build !linux

package main

import (
	"os"
	"strconv"
)

// isTerminal reports whether f is an *os.File open on a character device
// other than the null device: a terminal, as far as the standard library
// can tell without the platform's ioctl.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// terminalWidth returns the width in columns of the terminal f is open on,
// as far as the standard library can tell: $COLUMNS, when f is a
// terminal; else 0.
func terminalWidth(f any) int {
	if !isTerminal(f) {
		return 0
	}
	n, _ := strconv.Atoi(os.Getenv("COLUMNS"))
	return max(n, 0)
}
