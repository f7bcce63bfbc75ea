package reporter

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

func codecPoints() []apptuit.DataPoint {
	shared := map[string]string{"host": "web-1", "service": "orders"}
	return []apptuit.DataPoint{
		{Metric: "a.count", Tags: shared, Timestamp: time.UnixMilli(1700000000000), Value: 1},
		{Metric: "a.sum", Tags: shared, Timestamp: time.UnixMilli(1700000000000), Value: math.MaxFloat64},
		{Metric: "b", Tags: map[string]string{"host": "web-1", "service": "orders"}, Timestamp: time.UnixMilli(1700000000123), Value: -5e-324},
		{Metric: "日本", Tags: map[string]string{"k": "v with space", "": "empty key"}, Timestamp: time.UnixMilli(-1), Value: math.Inf(-1)},
		{Metric: "", Tags: nil, Timestamp: time.UnixMilli(0), Value: 0},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	in := codecPoints()
	b := appendBatch(nil, in)
	out, err := decodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d points, want %d", len(out), len(in))
	}
	for i := range in {
		w, g := in[i], out[i]
		if g.Metric != w.Metric || !g.Timestamp.Equal(w.Timestamp) || math.Float64bits(g.Value) != math.Float64bits(w.Value) ||
			len(g.Tags) != len(w.Tags) || (len(w.Tags) > 0 && !reflect.DeepEqual(g.Tags, w.Tags)) {
			t.Errorf("point %d: got %+v, want %+v", i, g, w)
		}
	}
	// Equal tags of consecutive points are written once and share a map.
	if reflect.ValueOf(out[0].Tags).UnsafePointer() != reflect.ValueOf(out[2].Tags).UnsafePointer() {
		t.Error("equal tags of consecutive points not shared")
	}
	// Truncations are errors, never panics.
	for n := 0; n < len(b); n++ {
		if _, err := decodeBatch(b[:n]); !errors.Is(err, errBatchCorrupt) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
}

func BenchmarkBatchCodec(b *testing.B) {
	pts := make([]apptuit.DataPoint, 0, 1100)
	for m := 0; m < 100; m++ {
		tags := map[string]string{"host": "web-1", "service": "orders", "metric": string(rune('a' + m%26))}
		for f := 0; f < 11; f++ {
			pts = append(pts, apptuit.DataPoint{Metric: "orders.processing.time.p99", Tags: tags, Timestamp: time.Unix(1700000000, 0), Value: float64(m*f) * 1.5})
		}
	}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = appendBatch(buf[:0], pts)
		if _, err := decodeBatch(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf))/float64(len(pts)), "bytes/point")
}

// FuzzDecodeBatch: no input makes decodeBatch panic or allocate without
// bound; what decodes re-encodes to the same bytes when the tags of
// consecutive points differ (the encoder never writes "same as before" for
// different tags).
func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, codecPoints()))
	f.Add(appendBatch(nil, codecPoints()[:1]))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		pts, err := decodeBatch(b)
		if err != nil {
			return
		}
		if len(pts) > len(b) {
			t.Fatalf("%d points from %d bytes", len(pts), len(b))
		}
		again, err := decodeBatch(appendBatch(nil, pts))
		if err != nil || len(again) != len(pts) {
			t.Fatalf("re-encoding: %v, %d points, want %d", err, len(again), len(pts))
		}
	})
}
