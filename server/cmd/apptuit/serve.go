package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit/server"
)

var serveCmd = &command{
	name:     "serve",
	summary:  "run the local backend in the foreground",
	synopsis: "apptuit serve [--listen 127.0.0.1:4242] [--token T] [--data DIR] [--retention D] [--max-memory SIZE] [--allow-host NAME]... [--allow-remote] [--query-* ...]",
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

Points are kept in memory, compressed (a few bytes each), within
--max-memory, the server's memory budget (256MiB by default), of which
the points, their series and tags take at most three quarters, and none
older than --retention (by default, any age): beyond those the oldest
points are evicted, and counted in the request lines and when it stops.
The Go runtime's memory limit is set to the budget, and the memory freed
after a burst of puts is given back to the system. With --data DIR they are
also kept in DIR, in a checksummed append-only log that survives a restart
or a crash; a put is written to the log before it is answered and the log
is flushed to disk every --sync-interval. A torn or damaged record costs
only itself: the records after it load, and its bytes are moved aside into
a .corrupt file in DIR (never cut off); the lines printed at the start name
that file, its size and the records and points lost. A DIR written by an
earlier release loads and is converted; one written by a later release is
refused and left as it is. Without --data nothing is written to disk.

It bounds what clients can make it hold: bodies of 32 MiB (256 MiB
decompressed), 8 bodies read at once, lines of 4 KiB, 64 line connections,
the newest --request-log requests logged, and timeouts on slow clients. A query of the Apptuit query language
holds at most --query-max-points points (fetched, computed, and answered
again by an output that repeats another) and answers at most
--query-max-bytes, else 422 naming the flag; --query-timeout and
--query-concurrency bound the queries of both languages (Prometheus's
engine keeps its own bounds on samples).

It is safe to leave running while browsing: web pages of other sites
cannot use it.
  - It answers only requests addressed (Host header) to localhost, a
    loopback address (127.0.0.0/8, [::1]) or a name given with --allow-host,
    so that a page on a domain that resolves to this machine (DNS
    rebinding) cannot read or write it: others get 403 and no data. Other
    names, *.localhost included, need --allow-host.
  - API requests that a browser marks as coming from a page of another
    origin (an Origin header other than the server's own, "null" included,
    or Sec-Fetch-Site cross-site or same-site) get 403: only the server's
    own page and clients that are not browsers use the API.
  - /api/put takes only "Content-Type: application/json" (compressed or
    not), which a form or a no-cors fetch cannot send (415 otherwise).
Clients that are not browsers are not affected: apptuit send, the Go and
Python clients, promtool, Grafana's backend, and curl (whose -d sends a
form type: add -H 'Content-Type: application/json' for a put). Prometheus's
API still takes form-encoded POST queries, from clients that send no
foreign Origin.

It listens on loopback only, unless --allow-remote is given: the server has no
authentication unless --token is set and is not meant to be exposed to a
network. With --allow-remote the host of --listen is allowed as if given to
--allow-host; for 0.0.0.0, :: or an empty host that is every IP address,
but names (such as the machine's) still need --allow-host.`,
	examples: `  apptuit serve
  apptuit serve --listen 127.0.0.1:0 --token secret    # a free port, clients must send the token
  apptuit serve --data ~/.apptuit-data --retention 7d  # kept across restarts, for a week
  apptuit serve --max-memory 1GiB                      # more points before the oldest go
  apptuit serve --listen 0.0.0.0:4242 --allow-remote --token secret --allow-host devbox.lan  # reachable from the LAN as http://devbox.lan:4242
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
	maxMemory    int64
	syncInterval time.Duration
	requestLog   int
	allowHosts   hostsFlag
	query        server.QueryLimits
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
	o.allowHosts.name = "allow-host"
	fs.Var(&o.allowHosts, "allow-host", "also answer requests addressed to `NAME` (a host name or an IP address, no port), repeatable")
	intVar(fs, &o.query.MaxPoints, "query-max-points", server.DefaultQueryMaxPoints, 1, 0, "a number of points, 1 or more",
		"an Apptuit query may hold at most `N` points (fetched, computed, answered again)")
	intVar(fs, &o.query.MaxBytes, "query-max-bytes", server.DefaultQueryMaxBytes, 1, 0, "a number of bytes, 1 or more",
		"an Apptuit query's answer may be at most `N` bytes")
	durationVar(fs, &o.query.Timeout, "query-timeout", server.DefaultQueryTimeout, "a query (either language) may take at most `D`, including a wait for a slot")
	intVar(fs, &o.query.MaxConcurrent, "query-concurrency", server.DefaultQueryConcurrency, 1, 0, "a number of queries, 1 or more",
		"evaluate at most `N` queries of each language at once")
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

// hostsFlag collects repeated --allow-host flags.
type hostsFlag struct {
	flagValue
	hosts []string
}

func (h *hostsFlag) String() string {
	if h == nil {
		return ""
	}
	return strings.Join(h.hosts, ",")
}

func (h *hostsFlag) Set(s string) error {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err != nil && !hostnameRE.MatchString(s) {
		return h.fail(s, "want a host name or an IP address, without a port, e.g. devbox.lan or 192.168.1.5")
	}
	h.hosts = append(h.hosts, s)
	return nil
}

// hostnameRE matches a DNS name: dot-separated labels of letters, digits,
// '-' and '_'.
var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$`)

// listenHost is the host that --allow-remote allows: that of the --listen
// address, "::" (every IP address) when it is empty.
func listenHost(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if host == "" {
		return "::"
	}
	return host
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
	if usesMaxPoints(args) {
		return usageError(stderr, "serve", fs, "--max-points is gone: the bound is --max-memory, the server's memory budget (e.g. --max-memory 256MiB, the default), of which the points, compressed, and their series and tags take at most three quarters")
	}
	pos, code, done := parseFlags(fs, "serve", args, stdout, stderr)
	if done {
		return code
	}
	if code := o.check(fs, pos, stderr); code != exitOK {
		return code
	}
	out := &syncWriter{w: stdout}
	// Listen first, so that a port in use fails before loading the data;
	// clients that connect while it loads wait in the listen backlog.
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	srv, err := server.New(o.options(out)...)
	if err != nil {
		l.Close()
		fmt.Fprintf(stderr, "apptuit serve: %v\n", err)
		return exitFail
	}
	return o.serve(ctx, l, srv, out, stderr)
}

// usesMaxPoints reports whether args, before any "--", give the flag
// --max-points, which --max-memory replaced.
func usesMaxPoints(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name == "max-points" && strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

// check checks the arguments and the flags; when they are refused, it
// says why on stderr and returns the exit status (exitOK: none refused).
func (o *serveOpts) check(fs *flag.FlagSet, pos []string, stderr io.Writer) int {
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
	return exitOK
}

// options are the server's options for the flags, with its request log
// and its messages printed to out.
func (o *serveOpts) options(out *syncWriter) []server.Option {
	opts := []server.Option{
		server.WithRequestLog(func(r server.Request) { out.printf("%s\n", formatRequest(r)) }),
		server.WithRequestLogSize(o.requestLog),
		server.WithRetention(o.retention),
		server.WithMaxMemory(o.maxMemory),
		server.WithLogger(func(format string, a ...any) { out.printf("%s\n", fmt.Sprintf(format, a...)) }),
		server.WithWebPage(),
		server.WithAllowedHosts(o.allowHosts.hosts...),
		server.WithQueryLimits(o.query),
		server.WithPromQLLimits(server.PromQLLimits{Timeout: o.query.Timeout, MaxConcurrent: o.query.MaxConcurrent}),
	}
	if o.allowRemote {
		opts = append(opts, server.WithAllowedHosts(listenHost(o.listen)))
	}
	if o.token != "" {
		opts = append(opts, server.WithToken(o.token))
	}
	if o.data != "" {
		opts = append(opts, server.WithDataDir(o.data), server.WithSyncInterval(o.syncInterval))
	}
	return opts
}

// serve serves l with srv until ctx ends, the process's memory following
// the budget, and prints what the server held when it stopped; it returns
// the exit status.
func (o *serveOpts) serve(ctx context.Context, l net.Listener, srv *server.Server, out *syncWriter, stderr io.Writer) int {
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
