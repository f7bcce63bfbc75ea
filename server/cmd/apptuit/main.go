// Command apptuit sends metrics to and queries Apptuit.AI or an
// OpenTSDB-compatible backend, and runs a local backend that speaks the
// Apptuit API and Prometheus's (package server).
//
// Run "apptuit help" for the subcommands: serve, send, query and demo.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
