//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package spool

import (
	"fmt"
	"os"
)

// syncDir fsyncs dir, so that files created, renamed or removed in it are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: sync %s: %w", dir, err)
	}
	return nil
}
