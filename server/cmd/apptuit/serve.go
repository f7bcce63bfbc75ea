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

	"github.com/apptuit-go/apptuit/server"
)

var serveCmd = &command{
	name:     "serve",
	summary:  "run the local backend in the foreground",
	synopsis: "apptuit serve [--listen 127.0.0.1:4242] [--token T] [--data DIR] [--retention D] [--max-points N] [--allow-remote]",
	about: `Serve runs the local backend (package server): POST /api/put stores
points with OpenTSDB's checks and messages, GET /api/query answers the
Apptuit query language over them, Prometheus's HTTP API (/api/v1/query,
query_range, labels, label/<name>/values, series, metadata,
status/buildinfo; also under /prometheus) answers PromQL with Prometheus's
own engine, and a web page at / shows the metrics received, charts queries
and lists the requests (with --token, the page asks for the token and keeps
it in the browser tab's sessionStorage; its own files need none). The
same port takes OpenTSDB's telnet-style lines, as OpenTSDB's 4242 does
(told from HTTP by the first byte): "put <metric> <timestamp> <value>
<k>=<v> ...", one per line, as collectd's write_tsdb, tcollector and
TelnetTCP send them, judged as the points of /api/put; a refused line is
answered "put: <reason>" and the next lines still go. With --token a line
connection must first send "auth <token>". It prints the URL it listens on,
then one line per request (time, method, path, points accepted, failed and
evicted, status, latency, the first error; "TELNET put" for the lines a
connection sent together). Ctrl-C (SIGINT) or SIGTERM stops it
cleanly.

Points are kept in memory, at most --max-points of them (10,000,000 by
default, about 240 MB) and none older than --retention (by default, any
age): beyond those the points with the oldest timestamps are evicted, and
counted in the request lines and when it stops. With --data DIR they are
also kept in DIR, in a checksummed append-only log that survives a restart
or a crash (a torn last record is detected and dropped); a put is written
to the log before it is answered and the log is flushed to disk every
--sync-interval. Without --data nothing is written to disk.

It bounds what clients can make it hold: bodies of 32 MiB (256 MiB
decompressed), 8 bodies read at once, lines of 4 KiB, 64 line connections,
the newest --request-log requests logged, and timeouts on slow clients.

It listens on loopback only, unless --allow-remote is given: the server has no
authentication unless --token is set and is not meant to be exposed to a
network.`,
	examples: `  apptuit serve
  apptuit serve --listen 127.0.0.1:0 --token secret    # a free port, clients must send the token
  apptuit serve --data ~/.apptuit-data --retention 7d  # kept across restarts, for a week
  APPTUIT_API_ENDPOINT=http://127.0.0.1:4242 APPTUIT_API_TOKEN=x apptuit send points.txt
  echo 'put sys.cpu.idle 1700000000 57.5 host=web1' >/dev/tcp/127.0.0.1/4242   # a telnet line, from bash`,
	flags: func() *flag.FlagSet { fs, _ := serveFlags(); return fs },
	run:   runServe,
}

type serveOpts struct {
	listen       string
	token        string
	allowRemote  bool
	data         string
	retention    time.Duration
	maxPoints    int
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
	fs.IntVar(&o.maxPoints, "max-points", server.DefaultMaxPoints, "evict the oldest points beyond `N` (0: no bound)")
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
	switch {
	case o.maxPoints < 0:
		return usageError(stderr, "serve", fs, "bad --max-points %d: must not be negative (0: no bound)", o.maxPoints)
	case o.requestLog < 0:
		return usageError(stderr, "serve", fs, "bad --request-log %d: must not be negative", o.requestLog)
	}
	out := &syncWriter{w: stdout}
	opts := []server.Option{
		server.WithRequestLog(func(r server.Request) { out.printf("%s\n", formatRequest(r)) }),
		server.WithRequestLogSize(o.requestLog),
		server.WithRetention(o.retention),
		server.WithMaxPoints(o.maxPoints),
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
	out.printf("%d points in %d series; %d evicted by --retention, %d by --max-points\n",
		st.Points, st.Series, st.EvictedByAge, st.EvictedByCount)
	out.printf("stopped\n")
	return exitOK
}
