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

// tableOf collects the series table entries decodeBatch hands over, parsed,
// giving each a series of its own (prepared with c) that records which.
type tableOf struct {
	c       *apptuit.Client
	metrics []string
	tags    []map[string]string
	index   map[*apptuit.PreparedSeries]int
}

func (tb *tableOf) series(entry []byte) *apptuit.PreparedSeries {
	m, tags, err := parseSeries(entry)
	if err != nil {
		panic(err)
	}
	ps, err := tb.c.PrepareSeries("entry.x", map[string]string{"i": string(rune('a' + len(tb.metrics)))})
	if err != nil {
		panic(err)
	}
	if tb.index == nil {
		tb.index = map[*apptuit.PreparedSeries]int{}
	}
	tb.index[ps] = len(tb.metrics)
	tb.metrics, tb.tags = append(tb.metrics, m), append(tb.tags, tags)
	return ps
}

func TestBatchRoundTrip(t *testing.T) {
	c := codecClient(t)
	in := codecPoints(t, c)
	var enc seriesEncoder
	b := enc.appendBatch(nil, in)
	tb := &tableOf{c: c}
	pts, given, err := decodeBatch(nil, b, tb.series)
	if err != nil || given != 0 {
		t.Fatal(given, err)
	}
	// Each series once, in order of first use.
	if len(tb.metrics) != 2 || tb.metrics[0] != "a.count" || tb.metrics[1] != "日本" ||
		!reflect.DeepEqual(tb.tags[0], map[string]string{"host": "web-1", "service": "orders"}) ||
		!reflect.DeepEqual(tb.tags[1], map[string]string{"k": "v with space", "ü": "ß"}) {
		t.Fatalf("series table %v %v", tb.metrics, tb.tags)
	}
	if len(pts) != len(in) {
		t.Fatalf("%d points, want %d", len(pts), len(in))
	}
	for i, p := range pts {
		w := in[i]
		if tb.metrics[tb.index[p.Series]] != w.Series.Metric() || p.UnixMilli != w.UnixMilli || math.Float64bits(p.Value) != math.Float64bits(w.Value) {
			t.Errorf("point %d: %+v, want %v %d %v", i, p, w.Series, w.UnixMilli, w.Value)
		}
	}
	// Points of a series refused are given up, and counted.
	pts, given, err = decodeBatch(pts[:0], b, func(entry []byte) *apptuit.PreparedSeries {
		if m, _, _ := parseSeries(entry); m == "日本" {
			return nil
		}
		return in[0].Series
	})
	if err != nil || given != 2 || len(pts) != 2 || pts[1].UnixMilli != in[2].UnixMilli {
		t.Fatalf("series 2 refused: %d given up, %+v, %v", given, pts, err)
	}
	// The store prepares the series again with its client, once each, and
	// appends to what it is given.
	s := &spoolStore{r: &Reporter{client: c}}
	head := []apptuit.PreparedPoint{in[1]}
	got, err := s.decode(head, recordOf(b, len(in)))
	if err != nil || len(got) != 1+len(in) || got[0] != in[1] || got[1].Series != got[3].Series || got[1].Series.String() != in[0].Series.String() {
		t.Fatalf("decode: %v, %+v", err, got)
	}
	// Truncations are errors, never panics, and leave dst as it was.
	for n := 0; n < len(b); n++ {
		got, _, err := decodeBatch(head, b[:n], tb.series)
		if !errors.Is(err, errBatchCorrupt) || len(got) != 1 {
			t.Fatalf("truncated at %d: %v, %d points", n, err, len(got))
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
		if _, err := s.decode(nil, recordOf(buf, len(pts))); err != nil {
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
	ps, _ := c.PrepareSeries("x", map[string]string{"k": "v"})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries := 0
		pts, given, err := decodeBatch(nil, b, func(entry []byte) *apptuit.PreparedSeries {
			entries++
			if _, _, err := parseSeries(entry); err != nil {
				t.Fatalf("entry %q handed over does not parse: %v", entry, err)
			}
			if entries%2 == 0 {
				return nil
			}
			return ps
		})
		if err != nil {
			if len(pts) != 0 {
				t.Fatalf("%d points appended on an error", len(pts))
			}
			return
		}
		if len(pts)+given+entries > len(b) {
			t.Fatalf("%d series, %d points (%d given up) from %d bytes", entries, len(pts), given, len(b))
		}
	})
}

// recordOf is a spool record holding b, as the spool returns it.
func recordOf(b []byte, points int) spool.Record { return spool.Record{Data: b, Points: points} }
