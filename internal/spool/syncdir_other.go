//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package spool

// syncDir does nothing: directories cannot be fsynced here.
func syncDir(string) error { return nil }
