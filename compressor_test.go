package apptuit

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func gzipBest(w io.Writer) (Compressor, error) { return gzip.NewWriterLevel(w, gzip.BestCompression) }

func TestWithCompressorValidation(t *testing.T) {
	zl := func(w io.Writer) (Compressor, error) { return zlib.NewWriter(w), nil }
	tests := []struct {
		name string
		opts []Option
		want string // "" for success
	}{
		{"gzip", []Option{WithCompressor("gzip", gzipBest)}, ""},
		{"deflate", []Option{WithCompressor("deflate", zl)}, ""},
		{"unknown encoding", []Option{WithCompressor("br", gzipBest)},
			`apptuit: WithCompressor: encoding "br" is not "gzip" or "deflate"`},
		{"nil function", []Option{WithCompressor("gzip", nil)}, "apptuit: WithCompressor: newWriter is nil"},
		{"with a level", []Option{WithCompressor("gzip", gzipBest), WithCompressionLevel(5)},
			"apptuit: WithCompressor replaces WithCompression and WithCompressionLevel: give one or the other"},
		{"with a compression, before", []Option{WithCompression(Gzip), WithCompressor("gzip", gzipBest)},
			"apptuit: WithCompressor replaces WithCompression and WithCompressionLevel: give one or the other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(append([]Option{WithToken("t"), WithIgnoreEnvTags()}, tt.opts...)...)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("New: %q\nwant %q", got, tt.want)
			}
		})
	}
}

// New does not try a custom compressor: one that cannot be made fails
// every send, at once and without a retry.
func TestWithCompressorFailsAtFirstUse(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name string
		make func(io.Writer) (Compressor, error)
		want string
	}{
		{"constructor fails", func(io.Writer) (Compressor, error) { return nil, errors.New("no memory") },
			"apptuit: send: compress: new writer: no memory"},
		{"nil writer", func(io.Writer) (Compressor, error) { return nil, nil },
			"apptuit: send: compress: new writer: the function given to WithCompressor returned a nil Compressor"},
	} {
		srv := newRecorder(t)
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(3), WithCompressor("gzip", tc.make))
		err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: t0, Value: 1}})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
		if n := len(srv.requests()); n != 0 {
			t.Errorf("%s: %d requests", tc.name, n)
		}
	}
}

// A custom compressor is used for every body, pooled, with the
// Content-Encoding it was given.
func TestWithCompressorSends(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	srv := newRecorder(t)
	var made atomic.Int64
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(1000), WithConcurrency(2),
		WithCompressor("deflate", func(w io.Writer) (Compressor, error) {
			made.Add(1)
			return zlib.NewWriterLevel(w, zlib.BestCompression)
		}))
	s, _ := NewTimeSeries("m.x", map[string]string{"k": "v"})
	for i := range 10000 {
		s.AddUnix(1700000000+int64(i), float64(i))
	}
	for range 3 {
		if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.requests()
	if len(reqs) != 30 {
		t.Fatalf("%d requests, want 30", len(reqs))
	}
	points := 0
	for _, r := range reqs {
		if enc := r.Header.Get("Content-Encoding"); enc != "deflate" {
			t.Errorf("Content-Encoding %q", enc)
		}
		points += strings.Count(string(r.Body), `"metric":"m.x"`)
	}
	if points != 30000 {
		t.Errorf("%d points received, want 30000", points)
	}
	// One per body in flight; sync.Pool may drop some at a GC, and under
	// the race detector a quarter of what is put in it.
	bound := int64(10)
	if raceEnabled {
		bound = 25
	}
	if n := made.Load(); n > bound {
		t.Errorf("%d compressors made for 30 bodies, 2 at a time: want <= %d", n, bound)
	}
}

// A compressor failing while a body is sent fails the send at once: it is
// not a network error and is not retried.
func TestCompressorFailureNotRetried(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(3))
	c.compressors = sync.Pool{}
	c.parGzip = false // the streamed path, whose compressor is replaced
	c.newZW = func(w io.Writer) (Compressor, error) { return &failingCompressor{w: w, n: 100 << 10}, nil }
	s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
	for i := range 10000 {
		s.AddUnix(1700000000+int64(i), 1)
	}
	err := c.SendTimeSeries(context.Background(), []*TimeSeries{s})
	var ne *NetworkError
	if err == nil || errors.As(err, &ne) || !strings.HasPrefix(err.Error(), "apptuit: send: compress: compressor out of memory") {
		t.Errorf("err = %v (%T)", err, err)
	}
	if n := len(srv.requests()); n > 1 {
		t.Errorf("%d requests: the failure was retried", n)
	}
}
