package apptuit

import (
	"bytes"
	"context"
	"math"
	"runtime"
	"strconv"
	"testing"

	"github.com/apptuit-go/apptuit/internal/putsink"
)

// The send benchmarks all loop with b.Loop (setup before the loop is not
// timed), and send to putsink: an HTTP server in a child process that
// decompresses every body and discards it, so that -benchmem counts the
// client's allocations only and the server's CPU competes for the cores as
// a server on the same machine would.

func TestPutSinkProcess(t *testing.T) { putsink.Child(t) }

const (
	benchNSeries = 1000
	benchNPoints = 1000 // per series: 1,000,000 points, 20 batches of 50,000
)

// benchSeries builds n series of m points.
func benchSeries(tb testing.TB, n, m int) []*TimeSeries {
	tb.Helper()
	series := make([]*TimeSeries, n)
	for i := range series {
		s, err := NewTimeSeries("proc.cpu.percent", map[string]string{"host": "web-" + strconv.Itoa(i), "dc": "eu-west-1", "core": strconv.Itoa(i % 8)})
		if err != nil {
			tb.Fatal(err)
		}
		for j := 0; j < m; j++ {
			s.AddUnix(1700000000+int64(j)*10, float64(i*j%977)*0.5)
		}
		series[i] = s
	}
	return series
}

// benchSource is what SendTimeSeries builds from series: the points the
// encoder reads, and their number.
func benchSource(c *Client, series []*TimeSeries) (*seriesSet, int) {
	src, err := c.newSeriesSet(series)
	if err != nil {
		panic(err)
	}
	return src, src.len()
}

// jsonDoc is the JSON document of points [from, to) of src.
func jsonDoc(c *Client, src pointSet, from, to int) []byte {
	var scr scratch
	raw, _ := appendJSON([]byte{'['}, src, from, to, math.MaxInt, true, &scr, c.cfg.precision)
	return append(raw, ']')
}

// benchBodies returns the JSON documents SendTimeSeries sends for series,
// one per batch, uncompressed.
func benchBodies(c *Client, series []*TimeSeries) [][]byte {
	src, total := benchSource(c, series)
	var bodies [][]byte
	for from := 0; from < total; from += c.cfg.batchSize {
		bodies = append(bodies, jsonDoc(c, src, from, min(from+c.cfg.batchSize, total)))
	}
	return bodies
}

func bodiesLen(bodies [][]byte) int64 {
	n := 0
	for _, b := range bodies {
		n += len(b)
	}
	return int64(n)
}

// sendBench sends series with c in a b.Loop and checks that the sink
// received every byte; it reports points/s and allocations per batch.
func sendBench(b *testing.B, c *Client, sink *putsink.Sink, series []*TimeSeries) {
	bodies := benchBodies(c, series)
	points := 0
	for _, s := range series {
		points += s.Len()
	}
	ctx := context.Background()
	before := sink.Stats(b)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.SetBytes(bodiesLen(bodies))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := c.SendTimeSeries(ctx, series); err != nil {
			b.Fatal(err)
		}
		n++
	}
	runtime.ReadMemStats(&m1)
	checkSinkGot(b, before, sink.Stats(b), int64(n)*bodiesLen(bodies))
	b.ReportMetric(float64(n*points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n*len(bodies)), "allocs/batch")
}

// checkSinkGot fails tb unless the sink, between the stats before and
// after, decompressed exactly want bytes with no body failing.
func checkSinkGot(tb testing.TB, before, after putsink.Stats, want int64) {
	tb.Helper()
	if got := after.Bytes - before.Bytes; got != want || after.Failed != before.Failed {
		tb.Fatalf("the sink decompressed %d bytes (%d bodies failed), want %d", got, after.Failed-before.Failed, want)
	}
}

// BenchmarkSendTimeSeries sends 1,000,000 points (20 batches of 50,000) to
// the sink: the whole client path, end to end, with the default two
// batches in flight and with one.
func BenchmarkSendTimeSeries(b *testing.B) {
	series := benchSeries(b, benchNSeries, benchNPoints)
	sink := putsink.Start(b)
	for _, conc := range []int{DefaultConcurrency, 1} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			c, err := New(WithEndpoint(sink.URL), WithToken("t"), WithIgnoreEnvTags(), WithConcurrency(conc))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.hc.CloseIdleConnections)
			sendBench(b, c, sink, series)
		})
	}
}

// compressBodies is the work of BenchmarkCompressOnly: bodies through zw
// in the client's chunk sizes, into a buffer emptied every writeSize bytes
// as the client's is.
func compressBodies(zw Compressor, out *bytes.Buffer, bodies [][]byte) {
	for _, raw := range bodies {
		out.Reset()
		zw.Reset(out)
		for off := 0; off < len(raw); off += chunkSize {
			zw.Write(raw[off:min(off+chunkSize, len(raw))])
			if out.Len() >= writeSize {
				out.Reset()
			}
		}
		zw.Close()
	}
}

// BenchmarkCompressOnly compresses the same 1,000,000 points, already
// encoded by the client's encoder into the same 20 documents, with the
// client's compressor (gzip, level 1, the defaults) on one goroutine: the
// single-core ceiling for BenchmarkSendTimeSeries.
func BenchmarkCompressOnly(b *testing.B) {
	series := benchSeries(b, benchNSeries, benchNPoints)
	c, err := New(WithToken("t"), WithIgnoreEnvTags())
	if err != nil {
		b.Fatal(err)
	}
	bodies := benchBodies(c, series)
	zw, _ := c.newZW(nil)
	var out bytes.Buffer
	b.SetBytes(bodiesLen(bodies))
	b.ReportAllocs()
	for b.Loop() {
		compressBodies(zw, &out, bodies)
	}
	b.ReportMetric(float64(b.N*benchNSeries*benchNPoints)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkEncodeOnly encodes 1,000,000 points without compressing or
// sending them.
func BenchmarkEncodeOnly(b *testing.B) {
	series := benchSeries(b, benchNSeries, benchNPoints)
	c, _ := New(WithToken("t"), WithIgnoreEnvTags())
	src, total := benchSource(c, series)
	buf := make([]byte, 0, chunkSize+4096)
	var scr scratch
	b.ReportAllocs()
	for b.Loop() {
		for pos := 0; pos < total; {
			buf, pos = appendJSON(buf[:0], src, pos, total, chunkSize, pos == 0, &scr, c.cfg.precision)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkSend is Send with 10,000 DataPoints a call, sharing one tags map
// (so one series, encoded once) or each with a map of its own.
func BenchmarkSend(b *testing.B) {
	sink := putsink.Start(b)
	c, _ := New(WithEndpoint(sink.URL), WithToken("t"), WithIgnoreEnvTags())
	b.Cleanup(c.hc.CloseIdleConnections)
	for _, shared := range []bool{true, false} {
		name := "map-per-point"
		if shared {
			name = "shared-map"
		}
		b.Run(name, func(b *testing.B) {
			pts := make([]DataPoint, 10000)
			tags := map[string]string{"host": "web-1", "dc": "eu-west-1"}
			for i := range pts {
				if !shared {
					tags = map[string]string{"host": "web-1", "dc": "eu-west-1"}
				}
				pts[i] = DataPoint{Metric: "proc.cpu.percent", Tags: tags, Timestamp: t0, Value: float64(i)}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(ctx, pts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(pts))/b.Elapsed().Seconds(), "points/s")
		})
	}
}
