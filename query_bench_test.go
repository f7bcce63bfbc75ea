package apptuit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// qBenchResponse builds an /api/query response with series × points
// points: integer timestamps a minute apart and values with a fraction, as
// Apptuit returns them, plus the metadata fields a real response carries.
func qBenchResponse(series, points int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"outputs":[{"id":"proc.cpu.percent","result":[`)
	for s := range series {
		if s > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metric":"proc.cpu.percent","tags":{"host":"host-`)
		b.WriteString(strconv.Itoa(s))
		b.WriteString(`","dc":"us-east-1","cpu":"total"},"aggregatedTags":[],"dps":[`)
		for p := range points {
			if p > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(1406829600 + 60*p))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(float64((p*7919+s)%100000)/8, 'f', -1, 64))
			if (p*7919+s)%8 == 0 {
				b.WriteString(".0")
			}
			b.WriteByte(']')
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}],"hints":[],"query":{"querytext":"fetch('proc.cpu.percent')","startTime":1406829600},` +
		`"query_stats":{"numSeries":` + strconv.Itoa(series) + `},"timing_diagnostics":[{"tag":"QUERY_EXECUTION_TOTAL_TIME","instanceCount":1,"totalElapsedTimeMillis":152}]}`)
	return b.Bytes()
}

const (
	qBenchSeries = 100
	qBenchPoints = 10000 // per series: 1,000,000 points in all
)

// BenchmarkQueryDecode decodes a 1,000,000-point response (100 series of
// 10,000 points) with the decoder Query uses.
func BenchmarkQueryDecode(b *testing.B) {
	data := qBenchResponse(qBenchSeries, qBenchPoints)
	start := time.Unix(1406829600, 0)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := decodeQueryBytes(data, start, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if n := res.Output(0).Series[qBenchSeries-1].Len(); n != qBenchPoints {
			b.Fatalf("%d points", n)
		}
	}
	b.ReportMetric(float64(qBenchSeries*qBenchPoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkQueryDecodeStdlibJSON is the reference the scanner was measured
// against: encoding/json into [][2]float64, then copied into series.
func BenchmarkQueryDecodeStdlibJSON(b *testing.B) {
	data := qBenchResponse(qBenchSeries, qBenchPoints)
	type result struct {
		Metric string            `json:"metric"`
		Tags   map[string]string `json:"tags"`
		Dps    [][2]float64      `json:"dps"`
	}
	type output struct {
		ID     string   `json:"id"`
		Result []result `json:"result"`
	}
	var startMs int64 = 1406829600000
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var resp struct {
			Outputs []output `json:"outputs"`
		}
		if err := json.Unmarshal(data, &resp); err != nil {
			b.Fatal(err)
		}
		qr := &QueryResult{}
		for _, o := range resp.Outputs {
			out := &Output{ID: o.ID}
			for _, r := range o.Result {
				s := newSeriesUnchecked(r.Metric, r.Tags, len(r.Dps))
				for _, p := range r.Dps {
					if ms := int64(p[0]) * 1000; ms >= startMs {
						s.ts = append(s.ts, ms)
						s.vals = append(s.vals, p[1])
					}
				}
				out.Series = append(out.Series, s)
			}
			qr.outputs = append(qr.outputs, out)
		}
	}
	b.ReportMetric(float64(qBenchSeries*qBenchPoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// frameBenchOutput decodes the 1,000,000-point response of
// BenchmarkQueryDecode: 100 series of 10,000 points, all at the same
// timestamps.
func frameBenchOutput(tb testing.TB) (*Output, []byte) {
	tb.Helper()
	data := qBenchResponse(qBenchSeries, qBenchPoints)
	res, err := decodeQueryBytes(data, time.Unix(1406829600, 0), time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Output(0), data
}

// BenchmarkFrame aligns the 1,000,000 points of BenchmarkQueryDecode into a
// Frame (100 columns × 10,000 rows). The target is at most half the decode
// time (TestPairedFrameDecode).
func BenchmarkFrame(b *testing.B) {
	o, _ := frameBenchOutput(b)
	b.ReportAllocs()
	for b.Loop() {
		if f := o.Frame(); f.Rows() != qBenchPoints {
			b.Fatalf("%d rows", f.Rows())
		}
	}
	b.ReportMetric(float64(qBenchSeries*qBenchPoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkFrameUnaligned is Frame of 10 series of 100,000 points whose
// timestamps interleave (series k at 10·i + k): 1,000,000 rows, where the
// merge does the most work for sorted input.
func BenchmarkFrameUnaligned(b *testing.B) {
	const series, points = 10, 100000
	o := &Output{}
	for k := range series {
		s := newSeriesUnchecked("m", map[string]string{"k": strconv.Itoa(k)}, points)
		for i := range points {
			s.ts = append(s.ts, int64(series*i+k)*1000)
			s.vals = append(s.vals, float64(i))
		}
		o.Series = append(o.Series, s)
	}
	b.ReportAllocs()
	for b.Loop() {
		if f := o.Frame(); f.Rows() != series*points {
			b.Fatalf("%d rows", f.Rows())
		}
	}
	b.ReportMetric(float64(series*points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkFrameReference is the first Frame (sort all timestamps, binary
// search per point) on the input of BenchmarkFrame, for comparison.
func BenchmarkFrameReference(b *testing.B) {
	o, _ := frameBenchOutput(b)
	b.ReportAllocs()
	for b.Loop() {
		frameReference(o)
	}
}
