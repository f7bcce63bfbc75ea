package bench

// Send benchmarks: the standard library's gzip against
// github.com/klauspost/compress/gzip plugged in with apptuit.WithCompressor,
// both at level 1 (BestSpeed, the client's default), on the 1,000,000
// points of the root package's BenchmarkSendTimeSeries, in one run. All
// loops are b.Loop. See RESULTS.md.

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/putsink"
	kgzip "github.com/klauspost/compress/gzip"
)

func TestPutSinkProcess(t *testing.T) { putsink.Child(t) }

// compressors are the two gzip implementations, as the client uses them.
var compressors = []struct {
	name string
	new  func(io.Writer) (apptuit.Compressor, error)
}{
	{"stdlib", func(w io.Writer) (apptuit.Compressor, error) { return stdgzip.NewWriterLevel(w, stdgzip.BestSpeed) }},
	{"klauspost", func(w io.Writer) (apptuit.Compressor, error) { return kgzip.NewWriterLevel(w, kgzip.BestSpeed) }},
}

// sendSeries is the root package's benchmark input: 1,000 series of 1,000
// points, sent in 20 batches of 50,000.
func sendSeries(tb testing.TB) []*apptuit.TimeSeries {
	tb.Helper()
	series := make([]*apptuit.TimeSeries, 1000)
	for i := range series {
		s, err := apptuit.NewTimeSeries("proc.cpu.percent", map[string]string{"host": "web-" + strconv.Itoa(i), "dc": "eu-west-1", "core": strconv.Itoa(i % 8)})
		if err != nil {
			tb.Fatal(err)
		}
		for j := range 1000 {
			s.AddUnix(1700000000+int64(j)*10, float64(i*j%977)*0.5)
		}
		series[i] = s
	}
	return series
}

// sentBodies returns the uncompressed documents the client sends for
// series, captured from an uncompressed send.
func sentBodies(tb testing.TB, series []*apptuit.TimeSeries) [][]byte {
	tb.Helper()
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(),
		apptuit.WithCompression(apptuit.NoCompression), apptuit.WithConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.SendTimeSeries(context.Background(), series); err != nil {
		tb.Fatal(err)
	}
	return bodies
}

func totalLen(bodies [][]byte) int64 {
	n := 0
	for _, b := range bodies {
		n += len(b)
	}
	return int64(n)
}

// compressAll compresses each body through zw in 64 KiB writes into out,
// emptied every 32 KiB: the client's sizes.
func compressAll(zw apptuit.Compressor, out *bytes.Buffer, bodies [][]byte) {
	for _, raw := range bodies {
		out.Reset()
		zw.Reset(out)
		for off := 0; off < len(raw); off += 64 << 10 {
			zw.Write(raw[off:min(off+64<<10, len(raw))])
			if out.Len() >= 32<<10 {
				out.Reset()
			}
		}
		zw.Close()
	}
}

// BenchmarkCompressOnly compresses the 20 documents with each gzip on one
// goroutine: the single-core ceiling of each.
func BenchmarkCompressOnly(b *testing.B) {
	bodies := sentBodies(b, sendSeries(b))
	for _, comp := range compressors {
		b.Run(comp.name, func(b *testing.B) {
			zw, _ := comp.new(nil)
			var out bytes.Buffer
			b.SetBytes(totalLen(bodies))
			b.ReportAllocs()
			for b.Loop() {
				compressAll(zw, &out, bodies)
			}
			b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
		})
	}
}

func sendClient(tb testing.TB, url string, comp func(io.Writer) (apptuit.Compressor, error), conc int) *apptuit.Client {
	tb.Helper()
	c, err := apptuit.New(apptuit.WithEndpoint(url), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(),
		apptuit.WithConcurrency(conc), apptuit.WithCompressor("gzip", comp))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkSendTimeSeries sends the 1,000,000 points to putsink (a child
// process that gunzips every body) with each gzip, one and two batches in
// flight.
func BenchmarkSendTimeSeries(b *testing.B) {
	series := sendSeries(b)
	sink := putsink.Start(b)
	for _, conc := range []int{1, 2} {
		for _, comp := range compressors {
			b.Run(comp.name+"/concurrency="+strconv.Itoa(conc), func(b *testing.B) {
				c := sendClient(b, sink.URL, comp.new, conc)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := c.SendTimeSeries(ctx, series); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// TestPairedCompressor measures, alternating the two in pairs, the time of
// klauspost/compress's gzip over the standard library's, compressing only
// and sending with one and two batches in flight, and fails unless the
// plugged compressor makes the send faster. Run with -paired.
func TestPairedCompressor(t *testing.T) {
	if !*paired {
		t.Skip("run with -paired")
	}
	series := sendSeries(t)
	bodies := sentBodies(t, series)
	sink := putsink.Start(t)
	ctx := context.Background()
	var out bytes.Buffer
	std, _ := compressors[0].new(nil)
	kp, _ := compressors[1].new(nil)
	cases := []struct {
		name      string
		kp, std   func()
		mustBeatS bool
	}{
		{"compress only", func() { compressAll(kp, &out, bodies) }, func() { compressAll(std, &out, bodies) }, false},
	}
	for _, conc := range []int{1, 2} {
		ck := sendClient(t, sink.URL, compressors[1].new, conc)
		cs := sendClient(t, sink.URL, compressors[0].new, conc)
		send := func(c *apptuit.Client) func() {
			return func() {
				if err := c.SendTimeSeries(ctx, series); err != nil {
					t.Fatal(err)
				}
			}
		}
		cases = append(cases, struct {
			name      string
			kp, std   func()
			mustBeatS bool
		}{"SendTimeSeries, concurrency " + strconv.Itoa(conc), send(ck), send(cs), true})
	}
	for _, tc := range cases {
		tc.kp()
		tc.std()
		var ratios, tk, ts []float64
		for r := range 15 {
			var dk, ds time.Duration
			if r%2 == 0 {
				dk, ds = timed(tc.kp), timed(tc.std)
			} else {
				ds, dk = timed(tc.std), timed(tc.kp)
			}
			ratios = append(ratios, float64(dk)/float64(ds))
			tk, ts = append(tk, dk.Seconds()), append(ts, ds.Seconds())
		}
		ratio := median(ratios)
		t.Logf("%s: klauspost %.1f ms, stdlib %.1f ms: ratio %.3f (%.2f× as fast; median of 15 pairs)",
			tc.name, 1e3*median(tk), 1e3*median(ts), ratio, 1/ratio)
		if tc.mustBeatS && ratio >= 1 {
			t.Errorf("%s: klauspost/compress is not faster through WithCompressor (ratio %.3f)", tc.name, ratio)
		}
	}
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
