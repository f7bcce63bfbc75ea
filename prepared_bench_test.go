package apptuit

import (
	"context"
	"strconv"
	"testing"

	"github.com/apptuit-go/apptuit/internal/putsink"
)

// benchPrepared prepares the series of benchSeries and lays their points
// out as PreparedPoints: the same 1,000,000 points.
func benchPrepared(b *testing.B, c *Client) []PreparedPoint {
	b.Helper()
	var pts []PreparedPoint
	for _, s := range benchSeries(b, benchNSeries, benchNPoints) {
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
// 1,000,000 prepared points to putsink (a child process that gunzips them).
func BenchmarkSendPrepared(b *testing.B) {
	sink := putsink.Start(b)
	for _, conc := range []int{DefaultConcurrency, 1} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			c, err := New(WithEndpoint(sink.URL), WithToken("t"), WithIgnoreEnvTags(), WithConcurrency(conc))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.hc.CloseIdleConnections)
			pts := benchPrepared(b, c)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.SendPrepared(ctx, pts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkEncodePrepared encodes 1,000,000 prepared points without
// compressing or sending them (compare BenchmarkEncodeOnly).
func BenchmarkEncodePrepared(b *testing.B) {
	c, _ := New(WithToken("t"), WithIgnoreEnvTags())
	var src pointSet = preparedPoints(benchPrepared(b, c)) // converted once, as SendPrepared does
	buf := make([]byte, 0, chunkSize+4096)
	var scr scratch
	b.ReportAllocs()
	for b.Loop() {
		for pos := 0; pos < src.len(); {
			buf, pos = appendJSON(buf[:0], src, pos, src.len(), chunkSize, pos == 0, &scr, c.cfg.precision)
		}
	}
	b.ReportMetric(float64(b.N)*float64(src.len())/b.Elapsed().Seconds(), "points/s")
}
