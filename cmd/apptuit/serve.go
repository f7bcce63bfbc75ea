package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit/apptuittest"
)

var serveCmd = &command{
	name:     "serve",
	summary:  "run the in-memory fake Apptuit API in the foreground",
	synopsis: "apptuit serve [--listen 127.0.0.1:4242] [--token T] [--allow-remote]",
	about: `Serve runs the in-memory fake of the Apptuit API from package apptuittest:
POST /api/put stores points with OpenTSDB's checks and messages, GET /api/query
answers a subset of the Apptuit query language over them, and a web page at
/ shows the metrics received, charts queries and lists the requests (with
--token, the page asks for the token and keeps it in the browser tab's
sessionStorage; its own files need none). Nothing is written
to disk. It prints the URL it listens on, then one line per request (time,
method, path, points accepted and failed, status, latency). Ctrl-C (SIGINT)
or SIGTERM stops it cleanly.

It listens on loopback only, unless --allow-remote is given: the fake has no
authentication unless --token is set, keeps everything in memory and is not
meant to be exposed to a network.`,
	examples: `  apptuit serve
  apptuit serve --listen 127.0.0.1:0 --token secret    # a free port, clients must send the token
  APPTUIT_API_ENDPOINT=http://127.0.0.1:4242 APPTUIT_API_TOKEN=x apptuit send points.txt`,
	flags: func() *flag.FlagSet { fs, _ := serveFlags(); return fs },
	run:   runServe,
}

type serveOpts struct {
	listen      string
	token       string
	allowRemote bool
}

func serveFlags() (*flag.FlagSet, *serveOpts) {
	o := &serveOpts{}
	fs := newFlagSet("serve")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4242", "`address` to listen on (port 0 picks a free port)")
	fs.StringVar(&o.token, "token", "", "require this bearer `token` on every request (default: accept any)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	return fs, o
}

// isLoopback reports whether the host of addr is a loopback name or address.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback(), nil
}

// syncWriter serializes writes from request goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) printf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, a...)
}

// formatRequest is the log line of one request.
func formatRequest(r apptuittest.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s accepted=%d failed=%d status=%d %.1fms",
		r.Time.UTC().Format(time.RFC3339), r.Method, r.Path, r.Accepted, r.Failed, r.Status,
		float64(r.Duration.Microseconds())/1000)
	if r.Fault != "" {
		fmt.Fprintf(&b, " fault=%s", r.Fault)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, " error=%q", r.Errors[0])
		if len(r.Errors) > 1 {
			fmt.Fprintf(&b, " (and %d more)", max(r.Failed, len(r.Errors))-1)
		}
	}
	return b.String()
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs, o := serveFlags()
	pos, code, done := parseFlags(fs, "serve", args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "serve", fs, "unexpected argument %q", pos[0])
	}
	loop, err := isLoopback(o.listen)
	if err != nil {
		return usageError(stderr, "serve", fs, "bad --listen address %q: %v", o.listen, err)
	}
	if !loop && !o.allowRemote {
		fmt.Fprintf(stderr, "apptuit serve: refusing to listen on %q, which is not a loopback address: the fake server keeps everything in memory, accepts any client without --token and is not meant for a network; pass --allow-remote to do it anyway\n", o.listen)
		return exitUsage
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	out := &syncWriter{w: stdout}
	opts := []apptuittest.Option{
		apptuittest.WithListener(l),
		webOption(),
		apptuittest.WithRequestLog(func(r apptuittest.Request) { out.printf("%s\n", formatRequest(r)) }),
	}
	if o.token != "" {
		opts = append(opts, apptuittest.WithToken(o.token))
	}
	srv := apptuittest.NewServer(opts...)
	auth := "any token accepted"
	if o.token != "" {
		auth = "bearer token required"
	}
	out.printf("listening on %s (%s; Ctrl-C to stop)\n", srv.URL(), auth)
	out.printf("web page at %s/\n", srv.URL())
	<-ctx.Done()
	srv.Close()
	out.printf("stopped\n")
	return exitOK
}
