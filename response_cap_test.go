package apptuit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// streamServer answers every request with status 200 and a body of size
// bytes written in 64 KiB pieces from one buffer (no Content-Length, so
// chunked), so that the server costs next to no memory itself. The body
// starts as a query response and goes on with points.
func streamServer(t *testing.T, size int64) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	piece := bytes.Repeat([]byte("[1700000000,1.5],"), 64<<10/17)
	head := []byte(`{"outputs":[{"id":"m","result":[{"metric":"m","tags":{"a":"b"},"dps":[`)
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		n, _ := w.Write(head)
		left := size - int64(n)
		for left > 0 {
			p := piece[:min(int64(len(piece)), left)]
			n, err := w.Write(p)
			written.Add(int64(n))
			if err != nil {
				return // the client went away
			}
			left -= int64(n)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &written
}

// heapGrowth runs f and returns what it cost in heap: the bytes allocated
// while it ran (runtime/metrics /gc/heap/allocs:bytes), an upper bound of
// how much the live heap can have grown, and the largest growth of the live
// heap (/memory/classes/heap/objects:bytes) seen by sampling every 200 µs.
// It counts every goroutine of the process, the test server's included.
func heapGrowth(f func()) (allocated, sampledPeak int64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	allocs0, live0 := s[0].Value.Uint64(), s[1].Value.Uint64()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ss := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(ss)
			if g := int64(ss[0].Value.Uint64()) - int64(live0); g > peak.Load() {
				peak.Store(g)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - allocs0), peak.Load()
}

// A response larger than the cap costs at most 1.25 times the cap in heap
// before it fails: the body is read in chunks up to the cap, never into a
// buffer that doubles past it. (Before, a 2 GiB response peaked at 574 MiB
// against the 256 MiB cap.)
func TestQueryOverCapPeakHeap(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	cases := []struct {
		cap, body int64
	}{
		{16 << 20, 200 << 20},
		{DefaultMaxResponse, 2 << 30},
	}
	for _, tc := range cases {
		for _, op := range []string{"Query", "QueryRange"} {
			name := fmt.Sprintf("%s/cap %d MiB, body %d MiB", op, tc.cap>>20, tc.body>>20)
			t.Run(name, func(t *testing.T) {
				if tc.cap == DefaultMaxResponse && testing.Short() {
					t.Skip("reads 256 MiB; not in -short")
				}
				srv, written := streamServer(t, tc.body)
				opts := []Option{WithEndpoint(srv.URL), WithToken("t"), WithRetries(0)}
				if tc.cap != DefaultMaxResponse {
					opts = append(opts, WithMaxResponseBytes(tc.cap))
				}
				c := mustNew(t, opts...)
				var err error
				allocated, peak := heapGrowth(func() {
					if op == "Query" {
						_, err = c.Query(context.Background(), "fetch('m')", time.Unix(1700000000, 0), time.Time{})
					} else {
						_, err = c.QueryRange(context.Background(), "m", time.Unix(1700000000, 0), time.Unix(1700003600, 0), time.Minute)
					}
				})
				if !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrResponseTooLarge", err)
				}
				lower := map[string]string{"Query": "query", "QueryRange": "promql"}[op]
				want := "apptuit: " + lower + ": the response is larger than the limit of " + strconv.FormatInt(tc.cap, 10) + " bytes (WithMaxResponseBytes)"
				if err.Error() != want {
					t.Errorf("Error() = %q, want %q", err, want)
				}
				limit := tc.cap + tc.cap/4
				t.Logf("cap %d MiB: %.1f MiB allocated while reading, live heap peak sampled %+.1f MiB (%.2f× the cap); server wrote %d MiB",
					tc.cap>>20, float64(allocated)/(1<<20), float64(peak)/(1<<20), float64(allocated)/float64(tc.cap), written.Load()>>20)
				if allocated > limit {
					t.Errorf("%d bytes allocated reading an over-cap response, want at most 1.25× the cap (%d)", allocated, limit)
				}
				if written.Load() >= tc.body-1<<20 {
					t.Errorf("the server wrote %d bytes: the client read on past the cap", written.Load())
				}
			})
		}
	}
}

// A Content-Length over the cap fails at once: nothing of the body is read.
func TestQueryContentLengthOverCap(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	var wrote atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		w.WriteHeader(200)
		n, _ := w.Write([]byte(`{"outputs":[`))
		wrote.Add(int64(n))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes: the client must not wait for it
	}))
	defer srv.Close()
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(0), WithMaxResponseBytes(1<<20))
	for _, op := range []string{"query", "promql"} {
		start := time.Now()
		var err error
		if op == "query" {
			_, err = c.Query(context.Background(), "q", time.Unix(1, 0), time.Time{})
		} else {
			_, err = c.QueryRange(context.Background(), "q", time.Unix(1, 0), time.Unix(2, 0), time.Second)
		}
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("%s: err = %v", op, err)
		}
		want := "apptuit: " + op + ": the response is 1073741824 bytes (Content-Length), more than the limit of 1048576 (WithMaxResponseBytes); nothing was read"
		if err.Error() != want || IsRetryable(err) {
			t.Errorf("%s: Error() = %q (retryable %v), want %q", op, err, IsRetryable(err), want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", op, d)
		}
	}
}

// readChunked: bodies below, at and above the cap, read in pieces of any size.
func TestReadChunked(t *testing.T) {
	body := strings.Repeat("0123456789", 1<<20/10+7) // 1 MiB and a bit: several chunks
	for _, tc := range []struct {
		len, limit int64
		tooLarge   bool
	}{
		{0, 10, false},
		{5, 10, false},
		{10, 10, false},
		{11, 10, true},
		{int64(len(body)), int64(len(body)), false},
		{int64(len(body)), int64(len(body)) - 1, true},
		{int64(len(body)), 1 << 30, false},
		{int64(len(body)), firstChunk, true},
	} {
		src := body[:tc.len]
		r := &cappedBody{rc: io.NopCloser(iotestHalfReader{strings.NewReader(src)}), left: tc.limit, limit: tc.limit, cancel: func() {}}
		got, err := readChunked(r, tc.limit)
		switch {
		case tc.tooLarge:
			var se *sizeError
			if !errors.As(err, &se) || got != nil {
				t.Errorf("%d bytes, limit %d: %d bytes, %v; want a sizeError", tc.len, tc.limit, len(got), err)
			}
		case err != nil || string(got) != src:
			t.Errorf("%d bytes, limit %d: %d bytes, %v", tc.len, tc.limit, len(got), err)
		}
	}
}

// iotestHalfReader reads at most half of what is asked, like a slow network.
type iotestHalfReader struct{ r io.Reader }

func (h iotestHalfReader) Read(p []byte) (int, error) { return h.r.Read(p[:(len(p)+1)/2]) }
