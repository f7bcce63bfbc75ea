package apptuittest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// bombCase is a compressed body far over the decompressed limit.
type bombCase struct {
	name            string
	prefix, pattern string
}

var bombCases = []bombCase{
	// Not JSON at all: fails at its first byte, read on to judge its size.
	{"zeros", "", "\x00"},
	// JSON whitespace inside an array: the parser keeps reading.
	{"whitespace", "[", " "},
	// A string that never ends: a parser that keeps tokens would keep it.
	{"endless string", `[{"metric":"`, "a"},
	// Valid points until the limit: each is kept (compactly) until the end.
	{"valid points", "[", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"h":"a"}},`},
}

// bombTotal returns a size near want that fits the case's pattern.
func (c bombCase) total(want int64) int64 {
	n := (want - int64(len(c.prefix))) / int64(len(c.pattern))
	return int64(len(c.prefix)) + n*int64(len(c.pattern))
}

// putBombs sends n copies of body at once and checks each gets 413 with
// the decompressed-size message; it returns the peak heap growth.
func putBombs(t *testing.T, srv *Server, body []byte, n int, maxDec int64) uint64 {
	t.Helper()
	want := fmt.Sprintf(`{"error":{"code":413,"message":"Request Entity Too Large: the decompressed body exceeds %d bytes"}}`, maxDec)
	h := startHeapSampler()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", srv.URL()+"/api/put", bytes.NewReader(body))
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 413 || string(b) != want {
				errs <- fmt.Sprintf("%d %s", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	g := h.growth()
	close(errs)
	for e := range errs {
		t.Errorf("bomb answered %s, want 413 %s", e, want)
	}
	if n := len(srv.Points()); n != 0 {
		t.Errorf("a bomb stored %d points", n)
	}
	return g
}

// TestPutBombs sends 64 MiB bombs to a server with a 2 MiB decompressed
// limit (1 MiB under the race detector), one and then 2 at once: each
// answers 413 and the heap grows by at most half the limit plus buffers
// per bomb (reading the body into memory cost twice the limit per bomb
// with io.ReadAll's growth). It is small to keep the package's tests fast;
// TestLoadPutBombs does the same at full size.
func TestPutBombs(t *testing.T) {
	maxDec := int64(2 << 20)
	if raceEnabled {
		maxDec = 1 << 20
	}
	srv := newServer(t, WithMaxDecompressedSize(maxDec))
	for _, c := range bombCases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			body := cachedBomb(c.prefix, c.pattern, c.total(64<<20))
			one := putBombs(t, srv, body, 1, maxDec)
			two := putBombs(t, srv, body, 2, maxDec)
			t.Logf("%s: %.2f MiB compressed → 64 MiB; peak heap growth %.2f MiB alone, %.2f MiB 2 at once", c.name, mib(uint64(len(body))), mib(one), mib(two))
			// Per bomb: half the limit, plus buffers (parser, gzip, HTTP).
			limit := uint64(maxDec)/2 + 512<<10
			if one > limit || two > 2*limit {
				t.Errorf("peak heap growth %.2f MiB alone, %.2f MiB 2 at once; want < %.2f and < %.2f", mib(one), mib(two), mib(limit), mib(2*limit))
			}
		})
	}
}

// TestLoadPutBombs is the acceptance figure: with the default limits
// (32 MiB sent, 256 MiB decompressed), a 10 GiB bomb (10 MiB compressed)
// answers 413 with < 64 MiB peak heap growth, and 8 at once < 300 MiB. The
// valid-points bomb is 1 GiB (3.5 MiB compressed): as large as it is, it
// already passes the decompressed limit.
func TestLoadPutBombs(t *testing.T) {
	loadTests(t)
	srv := newServer(t)
	for _, c := range bombCases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			size := int64(10 << 30)
			if c.name == "valid points" {
				size = 1 << 30
			}
			body := cachedBomb(c.prefix, c.pattern, c.total(size))
			one := putBombs(t, srv, body, 1, DefaultMaxDecompressedSize)
			eight := putBombs(t, srv, body, 8, DefaultMaxDecompressedSize)
			t.Logf("%s: %.1f MiB compressed → %.0f GiB; peak heap growth %.1f MiB alone, %.1f MiB 8 at once",
				c.name, mib(uint64(len(body))), float64(size)/(1<<30), mib(one), mib(eight))
			if one >= 64<<20 || eight >= 300<<20 {
				t.Errorf("peak heap growth %.1f MiB alone, %.1f MiB 8 at once; want < 64 and < 300", mib(one), mib(eight))
			}
		})
	}
}
