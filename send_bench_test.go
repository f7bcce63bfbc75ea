package apptuit

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// benchSeries builds 1,000 series of 1,000 points: 1,000,000 points.
func benchSeries(b *testing.B) []*TimeSeries {
	b.Helper()
	series := make([]*TimeSeries, 1000)
	for i := range series {
		s, err := NewTimeSeries("proc.cpu.percent", map[string]string{"host": "web-" + itoa(i), "dc": "eu-west-1", "core": itoa(i % 8)})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 1000; j++ {
			s.AddUnix(1700000000+int64(j)*10, float64(i*j%977)*0.5)
		}
		series[i] = s
	}
	return series
}

func itoa(i int) string {
	return string(appendPyFloat(nil, float64(i))[:len(appendPyFloat(nil, float64(i)))-2])
}

// benchSource is what SendTimeSeries builds from series: the source the
// encoder reads, and its number of points.
func benchSource(c *Client, series []*TimeSeries) (*seriesSource, int) {
	src := &seriesSource{}
	total := 0
	for _, s := range series {
		kvs, _ := c.mergeTags(nil, s.tags)
		src.starts = append(src.starts, total)
		src.series = append(src.series, s)
		src.prefixes = append(src.prefixes, seriesPrefix(s.metric, kvs))
		total += s.Len()
	}
	src.starts = append(src.starts, total)
	return src, total
}

// gzipSink is an httptest server that decompresses and discards bodies.
func gzipSink(b *testing.B) *httptest.Server {
	var pool sync.Pool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, _ := pool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		io.Copy(io.Discard, zr)
		pool.Put(zr)
		w.WriteHeader(204)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkSendTimeSeries sends 1,000,000 points (20 batches of 50,000) to a
// loopback server that decompresses and discards them: the whole client
// path, end to end, with the default two batches in flight and with one.
func BenchmarkSendTimeSeries(b *testing.B) {
	series := benchSeries(b)
	srv := gzipSink(b)
	for _, conc := range []int{DefaultConcurrency, 1} {
		b.Run("concurrency="+itoa(conc), func(b *testing.B) {
			c, err := New(WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags(), WithConcurrency(conc))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.SendTimeSeries(ctx, series); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() { c.SendTimeSeries(ctx, series) }))/20, "allocs/batch")
		})
	}
}

// BenchmarkCompressOnly compresses the same 1,000,000 points, already
// encoded, with the same compressor and level: the ceiling for
// BenchmarkSendTimeSeries.
func BenchmarkCompressOnly(b *testing.B) {
	series := benchSeries(b)
	c, err := New(WithToken("t"), WithIgnoreEnvTags())
	if err != nil {
		b.Fatal(err)
	}
	// Encode once with the client's own encoder, uncompressed.
	src, total := benchSource(c, series)
	var batches [][]byte
	for from := 0; from < total; from += DefaultBatchSize {
		raw, _ := src.appendFrom([]byte{'['}, from, min(from+DefaultBatchSize, total), 1<<30, true, nil)
		batches = append(batches, append(raw, ']'))
	}
	zw, _ := gzip.NewWriterLevel(io.Discard, c.cfg.level)
	var out bytes.Buffer
	b.SetBytes(int64(len(batches[0]) * len(batches)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, raw := range batches {
			out.Reset()
			zw.Reset(&out)
			for off := 0; off < len(raw); off += chunkSize {
				zw.Write(raw[off:min(off+chunkSize, len(raw))])
			}
			zw.Close()
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkEncodeOnly encodes 1,000,000 points without compressing or
// sending them.
func BenchmarkEncodeOnly(b *testing.B) {
	series := benchSeries(b)
	c, _ := New(WithToken("t"), WithIgnoreEnvTags())
	src, total := benchSource(c, series)
	buf := make([]byte, 0, chunkSize+4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for pos := 0; pos < total; {
			buf, pos = src.appendFrom(buf[:0], pos, total, chunkSize, pos == 0, nil)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkSend is Send with 10,000 DataPoints a call.
func BenchmarkSend(b *testing.B) {
	srv := gzipSink(b)
	c, _ := New(WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags())
	pts := make([]DataPoint, 10000)
	tags := map[string]string{"host": "web-1", "dc": "eu-west-1"}
	for i := range pts {
		pts[i] = DataPoint{Metric: "proc.cpu.percent", Tags: tags, Timestamp: t0, Value: float64(i)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Send(ctx, pts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1e4/b.Elapsed().Seconds(), "points/s")
}
