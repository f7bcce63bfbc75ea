// Package putsink runs, in a child process, an HTTP server that takes
// POST /api/put bodies, decompresses them (gzip or zlib-deflate, by
// Content-Encoding) and discards them, answering 204. Benchmarks and
// allocation tests send to it so that what they measure is the client
// alone: the server's CPU runs in another process (competing for the same
// cores, as a server on the same machine would) and its allocations are not
// counted by testing.AllocsPerRun or -benchmem. It is for this module's
// tests only.
//
// A test package that uses it declares the test the child runs:
//
//	func TestPutSinkProcess(t *testing.T) { putsink.Child(t) }
package putsink

import (
	"bufio"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const envChild = "APPTUIT_PUTSINK_CHILD"

// Stats is what the sink has received since it started.
type Stats struct {
	Requests int64 // POST /api/put answered 204
	Bytes    int64 // decompressed body bytes of those (0 for bodies taken Raw)
	Failed   int64 // bodies that did not decompress (answered 400)
}

// Raw, set on a Sink, makes it read later bodies to their end without
// decompressing them (Stats.Bytes does not count them). A
// benchmark whose client and sink share the machine's cores then measures
// the client, without the sink's decompression competing for a core as a
// remote server's would not; it should check the bodies decompress with
// Raw off first.
func (s *Sink) Raw(tb testing.TB, raw bool) {
	tb.Helper()
	v := "0"
	if raw {
		v = "1"
	}
	resp, err := controlClient().Post(s.URL+"/raw?on="+v, "text/plain", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("putsink: POST /raw: %s", resp.Status)
	}
}

// Sink is a running child sink.
type Sink struct {
	URL string // http://127.0.0.1:port
}

// Start runs the sink in a child process (the test binary, running only
// TestPutSinkProcess) and stops it when tb ends.
func Start(tb testing.TB) *Sink {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPutSinkProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close() // the child exits when its stdin closes
		if err := cmd.Wait(); err != nil {
			tb.Errorf("putsink child: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "putsink ") {
		tb.Fatalf("putsink child did not start: %q, %v", line, err)
	}
	return &Sink{URL: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "putsink "))}
}

// controlClient is the client of the sink's control requests (/stats, /raw),
// apart from the connections under test.
func controlClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

// Stats asks the sink what it has received.
func (s *Sink) Stats(tb testing.TB) Stats {
	tb.Helper()
	resp, err := controlClient().Get(s.URL + "/stats")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		tb.Fatal(err)
	}
	return st
}

// Child is the body of TestPutSinkProcess: outside a child it returns at
// once; in the child it serves on a loopback port, printed as
// "putsink 127.0.0.1:port", until its standard input closes, then exits
// the process.
func Child(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ requests, bytes, failed atomic.Int64 }
	var raw atomic.Bool
	var gzPool, zlPool sync.Pool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/put", func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		var err error
		enc, isRaw := r.Header.Get("Content-Encoding"), raw.Load()
		if isRaw {
			enc = ""
		}
		switch enc {
		case "gzip":
			zr, _ := gzPool.Get().(*gzip.Reader)
			if zr == nil {
				zr, err = gzip.NewReader(r.Body)
			} else {
				err = zr.Reset(r.Body)
			}
			if err == nil {
				defer gzPool.Put(zr)
				body = zr
			}
		case "deflate":
			zr, _ := zlPool.Get().(io.ReadCloser)
			if zr == nil {
				zr, err = zlib.NewReader(r.Body)
			} else {
				err = zr.(zlib.Resetter).Reset(r.Body, nil)
			}
			if err == nil {
				defer zlPool.Put(zr)
				body = zr
			}
		}
		var n int64
		if err == nil {
			n, err = io.Copy(io.Discard, body)
		}
		if err != nil {
			st.failed.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		st.requests.Add(1)
		if !isRaw {
			st.bytes.Add(n)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Stats{st.requests.Load(), st.bytes.Load(), st.failed.Load()})
	})
	mux.HandleFunc("POST /raw", func(w http.ResponseWriter, r *http.Request) {
		raw.Store(r.URL.Query().Get("on") == "1")
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	fmt.Printf("putsink %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "putsink:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
