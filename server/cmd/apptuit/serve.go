package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit/server"
)

var serveCmd = &command{
	name:     "serve",
	summary:  "run the local backend in the foreground",
	synopsis: "apptuit serve [--listen 127.0.0.1:4242] [--token T] [--data DIR] [--retention D] [--max-memory SIZE] [--allow-remote]",
	about: `Serve runs the local backend (package server): POST /api/put stores
points with OpenTSDB's checks and messages, GET /api/query answers the
Apptuit query language over them, Prometheus's HTTP API (/api/v1/query,
query_range, labels, label/<name>/values, series, metadata,
status/buildinfo; also under /prometheus) answers PromQL with Prometheus's
own engine, and a web page at / shows the metrics received, charts queries
and lists the requests (with --token, the page asks for the token and keeps
it in the browser tab's sessionStorage; its own files need none). It prints
the URL it listens on,
then one line per request (time, method, path, points accepted, failed and
evicted, status, latency, the first error). Ctrl-C (SIGINT) or SIGTERM
stops it cleanly.

Points are kept in memory, compressed (a few bytes each), within
--max-memory, the server's memory budget (256MiB by default), of which
the points, their series and tags take at most three quarters, and none
older than --retention (by default, any age): beyond those the oldest
points are evicted, and counted in the request lines and when it stops.
The Go runtime's memory limit is set to the budget, and the memory freed
after a burst of puts is given back to the system. With --data DIR they are
also kept in DIR, in a checksummed append-only log that survives a restart
or a crash (a torn last record is detected and dropped); a put is written
to the log before it is answered and the log is flushed to disk every
--sync-interval. Without --data nothing is written to disk.

It bounds what clients can make it hold: bodies of 32 MiB (256 MiB
decompressed), 8 bodies read at once, the newest --request-log requests
logged, and timeouts on slow clients.

It listens on loopback only, unless --allow-remote is given: the server has no
authentication unless --token is set and is not meant to be exposed to a
network.`,
	examples: `  apptuit serve
  apptuit serve --listen 127.0.0.1:0 --token secret    # a free port, clients must send the token
  apptuit serve --data ~/.apptuit-data --retention 7d  # kept across restarts, for a week
  apptuit serve --max-memory 1GiB                      # more points before the oldest go
  APPTUIT_API_ENDPOINT=http://127.0.0.1:4242 APPTUIT_API_TOKEN=x apptuit send points.txt`,
	flags: func() *flag.FlagSet { fs, _ := serveFlags(); return fs },
	run:   runServe,
}

type serveOpts struct {
	listen       string
	token        string
	allowRemote  bool
	data         string
	retention    time.Duration
	maxMemory    int64
	syncInterval time.Duration
	requestLog   int
}

func serveFlags() (*flag.FlagSet, *serveOpts) {
	o := &serveOpts{}
	fs := newFlagSet("serve")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4242", "`address` to listen on (port 0 picks a free port)")
	fs.StringVar(&o.token, "token", "", "require this bearer `token` on every request (default: accept any)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	fs.StringVar(&o.data, "data", "", "keep the points in `DIR` too, across restarts (default: memory only)")
	durationVar(fs, &o.retention, "retention", 0, "evict points older than `D`, e.g. 36h, 7d, 2w (0: any age)")
	sizeVar(fs, &o.maxMemory, "max-memory", server.DefaultMaxMemory, "the server's memory budget, a `size` such as 1GiB: the oldest points are evicted beyond three quarters of it (0: no bound)")
	durationVar(fs, &o.syncInterval, "sync-interval", server.DefaultSyncInterval, "with --data, fsync the log at most this often, a `duration` (0: every put)")
	fs.IntVar(&o.requestLog, "request-log", server.DefaultRequestLogSize, "keep the newest `N` requests in the request log")
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
func formatRequest(r server.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s accepted=%d failed=%d status=%d %.1fms",
		r.Time.UTC().Format(time.RFC3339), r.Method, r.Path, r.Accepted, r.Failed, r.Status,
		float64(r.Duration.Microseconds())/1000)
	if r.Evicted > 0 {
		fmt.Fprintf(&b, " evicted=%d", r.Evicted)
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
	for _, a := range args {
		if a == "--" {
			break
		}
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name == "max-points" && strings.HasPrefix(a, "-") {
			return usageError(stderr, "serve", fs, "--max-points is gone: the bound is --max-memory, the server's memory budget (e.g. --max-memory 256MiB, the default), of which the points, compressed, and their series and tags take at most three quarters")
		}
	}
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
		fmt.Fprintf(stderr, "apptuit serve: refusing to listen on %q, which is not a loopback address: the server accepts any client without --token and is not meant for a network; pass --allow-remote to do it anyway\n", o.listen)
		return exitUsage
	}
	if o.requestLog < 0 {
		return usageError(stderr, "serve", fs, "bad --request-log %d: must not be negative", o.requestLog)
	}
	out := &syncWriter{w: stdout}
	opts := []server.Option{
		server.WithRequestLog(func(r server.Request) { out.printf("%s\n", formatRequest(r)) }),
		server.WithRequestLogSize(o.requestLog),
		server.WithRetention(o.retention),
		server.WithMaxMemory(o.maxMemory),
		server.WithLogger(func(format string, a ...any) { out.printf("%s\n", fmt.Sprintf(format, a...)) }),
		server.WithWebPage(),
	}
	if o.token != "" {
		opts = append(opts, server.WithToken(o.token))
	}
	if o.data != "" {
		opts = append(opts, server.WithDataDir(o.data), server.WithSyncInterval(o.syncInterval))
	}
	// Listen first, so that a port in use fails before loading the data;
	// clients that connect while it loads wait in the listen backlog.
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	srv, err := server.New(opts...)
	if err != nil {
		l.Close()
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	// The process is the server's: its memory follows the budget (memory.go).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit(o.maxMemory)))
	memCtx, stopGiveBack := context.WithCancel(ctx)
	gaveBack := make(chan struct{})
	go func() { giveBack(memCtx, srv, time.Second); close(gaveBack) }()
	defer func() { stopGiveBack(); <-gaveBack }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	url := "http://" + l.Addr().String()
	auth := "any token accepted"
	if o.token != "" {
		auth = "bearer token required"
	}
	out.printf("listening on %s (%s; Ctrl-C to stop)\n", url, auth)
	out.printf("web page at %s/\n", url)
	select {
	case <-ctx.Done():
	case err := <-served:
		srv.Close()
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
	}
	st := srv.Stats()
	budget := "no budget"
	if o.maxMemory > 0 {
		budget = "of the " + approxSize(o.maxMemory-o.maxMemory/4) + " they may take, 3/4 of --max-memory " + formatSize(o.maxMemory)
	}
	out.printf("%d points in %d series (%s %s); %d evicted by --retention, %d by --max-memory\n",
		st.Points, st.Series, approxSize(st.Bytes), budget, st.EvictedByAge, st.EvictedByMemory)
	out.printf("stopped\n")
	return exitOK
}
