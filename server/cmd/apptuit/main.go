// Command apptuit sends metrics to and queries Apptuit.AI or an
// OpenTSDB-compatible backend, and runs a local backend that speaks the
// Apptuit API and Prometheus's (package server).
//
// Run "apptuit help" for the subcommands: serve, send, query and demo.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		// A second signal gets the default action: the process ends even
		// if something does not heed ctx.
		signal.Stop(sigs)
		cancel(signalError{sig})
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}

// signalError is the cause of the command's context when a signal asked it
// to stop.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "stopped by " + e.sig.String() }

// interrupted reports whether ctx was ended by a signal, and the exit
// status that says so, as a shell reports a process killed by it: 128 plus
// the signal's number (130 for SIGINT, 143 for SIGTERM).
func interrupted(ctx context.Context) (code int, ok bool) {
	var se signalError
	if !errors.As(context.Cause(ctx), &se) {
		return 0, false
	}
	if s, isSys := se.sig.(syscall.Signal); isSys {
		return 128 + int(s), true
	}
	return 128 + int(syscall.SIGINT), true
}
