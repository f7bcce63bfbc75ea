package reporter

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/spool"
)

func codecPoints(t testing.TB, c *apptuit.Client) []apptuit.PreparedPoint {
	t.Helper()
	mk := func(name string, tags map[string]string) *apptuit.PreparedSeries {
		ps, err := c.PrepareSeries(name, tags)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	a := mk("a.count", map[string]string{"host": "web-1", "service": "orders"})
	b := mk("日本", map[string]string{"k": "v with space", "ü": "ß"})
	return []apptuit.PreparedPoint{
		{Series: a, UnixMilli: 1700000000000, Value: 1},
		{Series: b, UnixMilli: 1700000000123, Value: -5e-324},
		{Series: a, UnixMilli: 1700000001000, Value: math.MaxFloat64},
		{Series: b, UnixMilli: 1, Value: 0},
	}
}

func codecClient(t testing.TB) *apptuit.Client {
	c, err := apptuit.New(apptuit.WithToken("t"), apptuit.WithEndpoint("http://127.0.0.1:1"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchRoundTrip(t *testing.T) {
	c := codecClient(t)
	in := codecPoints(t, c)
	var enc seriesEncoder
	b := enc.appendBatch(nil, in)
	entries, pts, err := decodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	// Each series once, in order of first use.
	if len(entries) != 2 || entries[0].metric != "a.count" || entries[1].metric != "日本" ||
		!reflect.DeepEqual(entries[1].tags, map[string]string{"k": "v with space", "ü": "ß"}) {
		t.Fatalf("series table %+v", entries)
	}
	if len(pts) != len(in) {
		t.Fatalf("%d points, want %d", len(pts), len(in))
	}
	for i, p := range pts {
		w := in[i]
		if entries[p.series].metric != w.Series.Metric() || p.unixMilli != w.UnixMilli || math.Float64bits(p.value) != math.Float64bits(w.Value) {
			t.Errorf("point %d: %+v, want %v %d %v", i, p, w.Series, w.UnixMilli, w.Value)
		}
	}
	// The store prepares the series again with its client, once each.
	s := &spoolStore{r: &Reporter{client: c}}
	got, err := s.decode(recordOf(b, len(in)))
	if err != nil || len(got) != len(in) || got[0].Series != got[2].Series || got[0].Series.String() != in[0].Series.String() {
		t.Fatalf("decode: %v, %+v", err, got)
	}
	// Truncations are errors, never panics.
	for n := 0; n < len(b); n++ {
		if _, _, err := decodeBatch(b[:n]); !errors.Is(err, errBatchCorrupt) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
}

func BenchmarkBatchCodec(b *testing.B) {
	c := codecClient(b)
	var pts []apptuit.PreparedPoint
	for m := 0; m < 100; m++ {
		ps, _ := c.PrepareSeries("orders.processing.time", map[string]string{"host": "web-1", "service": "orders", "m": string(rune('a' + m%26)), "n": string(rune('a' + m/26))})
		for f := 0; f < 11; f++ {
			fs, _ := ps.WithMetric("orders.processing.time." + string(rune('a'+f)))
			pts = append(pts, apptuit.PreparedPoint{Series: fs, UnixMilli: 1700000000000, Value: float64(m*f) * 1.5})
		}
	}
	s := &spoolStore{r: &Reporter{client: c}}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = s.enc.appendBatch(buf[:0], pts)
		if _, err := s.decode(recordOf(buf, len(pts))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf))/float64(len(pts)), "bytes/point")
}

// FuzzDecodeBatch: no input makes decodeBatch panic or allocate without
// bound, and what decodes has every point's series in the table.
func FuzzDecodeBatch(f *testing.F) {
	c := codecClient(f)
	var enc seriesEncoder
	f.Add(enc.appendBatch(nil, codecPoints(f, c)))
	f.Add(enc.appendBatch(nil, codecPoints(f, c)[:1]))
	f.Add([]byte{2, 0, 0})
	f.Add([]byte{2, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, pts, err := decodeBatch(b)
		if err != nil {
			return
		}
		if len(pts)+len(entries) > len(b) {
			t.Fatalf("%d series, %d points from %d bytes", len(entries), len(pts), len(b))
		}
		for _, p := range pts {
			if p.series < 0 || p.series >= len(entries) {
				t.Fatalf("point of series %d of %d", p.series, len(entries))
			}
		}
	})
}

// recordOf is a spool record holding b, as the spool returns it.
func recordOf(b []byte, points int) spool.Record { return spool.Record{Data: b, Points: points} }
