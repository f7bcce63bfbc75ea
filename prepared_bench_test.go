package apptuit

import (
	"context"
	"testing"
)

// benchPrepared prepares the series of benchSeries and lays their points
// out as PreparedPoints: the same 1,000,000 points.
func benchPrepared(b *testing.B, c *Client) []PreparedPoint {
	b.Helper()
	var pts []PreparedPoint
	for _, s := range benchSeries(b) {
		ps, err := c.PrepareSeries(s.metric, s.tags)
		if err != nil {
			b.Fatal(err)
		}
		for j := range s.ts {
			pts = append(pts, PreparedPoint{Series: ps, UnixMilli: s.ts[j], Value: s.vals[j]})
		}
	}
	return pts
}

// BenchmarkSendPrepared is BenchmarkSendTimeSeries through SendPrepared:
// 1,000,000 prepared points to a loopback server that gunzips them.
func BenchmarkSendPrepared(b *testing.B) {
	srv := gzipSink(b)
	for _, conc := range []int{DefaultConcurrency, 1} {
		b.Run("concurrency="+itoa(conc), func(b *testing.B) {
			c, err := New(WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags(), WithConcurrency(conc))
			if err != nil {
				b.Fatal(err)
			}
			pts := benchPrepared(b, c)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.SendPrepared(ctx, pts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkEncodePrepared encodes 1,000,000 prepared points without
// compressing or sending them (compare BenchmarkEncodeOnly).
func BenchmarkEncodePrepared(b *testing.B) {
	c, _ := New(WithToken("t"), WithIgnoreEnvTags())
	src := preparedSource(benchPrepared(b, c))
	buf := make([]byte, 0, chunkSize+4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for pos := 0; pos < len(src); {
			buf, pos = src.appendFrom(buf[:0], pos, len(src), chunkSize, pos == 0, nil)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(src))/b.Elapsed().Seconds(), "points/s")
}
