package store

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// benchBatch returns the points of a reporter's put body: 50,000 points of
// 100 series of 3 tags, 500 each, in body order (as the put parser's
// benchmark body).
func benchBatch(*testing.B) *opentsdb.Batch {
	var bt opentsdb.Batch
	for p := 0; p < 500; p++ {
		for s := 0; s < 100; s++ {
			key := opentsdb.SeriesKeyOf("http.server.duration", map[string]string{"host": fmt.Sprintf("web%d", s), "service": "orders", "dc": "eu-west-1"})
			bt.Add([]byte(key), int64(1700000000+p*10)*1000, float64(p*s%977)/7)
		}
	}
	return &bt
}

// timeBatch returns 50,000 points of 100 series, 500 per series at 10 s
// from start (seconds).
func timeBatch(start int64) *opentsdb.Batch {
	var bt opentsdb.Batch
	for p := int64(0); p < 500; p++ {
		for s := 0; s < 100; s++ {
			key := opentsdb.SeriesKeyOf("http.server.duration", map[string]string{"host": "web" + string(rune('a'+s%26)) + string(rune('a'+s/26))})
			bt.Add([]byte(key), (start+p*10)*1000, float64(p*int64(s)%977)/7)
		}
	}
	return &bt
}

// BenchmarkStoreCommit stores 50,000-point batches (100 series, each
// batch later than the last, as a reporter sends them) into a store that
// keeps the newest 1M points: append, evict.
func BenchmarkStoreCommit(b *testing.B) {
	st := New(0, 1_000_000, time.Now)
	b.ReportAllocs()
	b.ReportMetric(50000, "points/op")
	start := int64(1700000000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bt := timeBatch(start)
		start += 5000
		b.StartTimer()
		if _, err := st.Commit(bt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreCommitOutOfOrder stores the same 50,000 points again and
// again: every batch lands among the stored points (sort and merge), the
// worst case.
func BenchmarkStoreCommitOutOfOrder(b *testing.B) {
	bt := benchBatch(b)
	st := New(0, 1_000_000, time.Now)
	b.ReportAllocs()
	b.ReportMetric(float64(bt.Len()), "points/op")
	for b.Loop() {
		if _, err := st.Commit(bt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreSamples reads every sample of 100 series of 10,000 points
// through the read API.
func BenchmarkStoreSamples(b *testing.B) {
	bt := benchBatch(b)
	st := New(0, 0, time.Now)
	for i := 0; i < 20; i++ {
		st.Commit(bt)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		st.Read(func(r Reader) {
			r.EachSeries("", nil, func(v View) bool {
				v.Samples(math.MinInt64, math.MaxInt64, func(int64, float64) bool { n++; return true })
				return true
			})
		})
		if n != 50000 { // 20 commits of the same timestamps: one sample per ms
			b.Fatalf("%d samples", n)
		}
	}
}
