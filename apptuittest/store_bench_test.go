package apptuittest

import (
	"bytes"
	"math"
	"testing"
	"time"
)

// benchBatch parses benchBody(100, 500) into a batch: 50,000 points of 100
// series.
func benchBatch(b *testing.B) *batch {
	col := &putCollector{}
	if o := newPutParser(bytes.NewReader(benchBody(100, 500)), col.point).parse(); o != parseOK {
		b.Fatal(o)
	}
	return &col.batch
}

// timeBatch returns 50,000 points of 100 series, 500 per series at 10 s
// from start (seconds).
func timeBatch(start int64) *batch {
	var bt batch
	for p := int64(0); p < 500; p++ {
		for s := 0; s < 100; s++ {
			key := seriesKeyOf("http.server.duration", map[string]string{"host": "web" + string(rune('a'+s%26)) + string(rune('a'+s/26))})
			bt.add([]byte(key), (start+p*10)*1000, float64(p*int64(s)%977)/7)
		}
	}
	return &bt
}

// BenchmarkStoreCommit stores 50,000-point batches (100 series, each
// batch later than the last, as a reporter sends them) into a store that
// keeps the newest 1M points: append, evict.
func BenchmarkStoreCommit(b *testing.B) {
	st := newStore(0, 1_000_000, time.Now)
	b.ReportAllocs()
	b.ReportMetric(50000, "points/op")
	start := int64(1700000000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bt := timeBatch(start)
		start += 5000
		b.StartTimer()
		if _, err := st.commit(bt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreCommitOutOfOrder stores the same 50,000 points again and
// again: every batch lands among the stored points (sort and merge), the
// worst case.
func BenchmarkStoreCommitOutOfOrder(b *testing.B) {
	bt := benchBatch(b)
	st := newStore(0, 1_000_000, time.Now)
	b.ReportAllocs()
	b.ReportMetric(float64(bt.n), "points/op")
	for b.Loop() {
		if _, err := st.commit(bt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreSamples reads every sample of 100 series of 10,000 points
// through the read API.
func BenchmarkStoreSamples(b *testing.B) {
	bt := benchBatch(b)
	st := newStore(0, 0, time.Now)
	for i := 0; i < 20; i++ {
		st.commit(bt)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		st.read(func(r storeReader) {
			r.eachSeries("", nil, func(v seriesView) bool {
				v.samples(math.MinInt64, math.MaxInt64, func(int64, float64) bool { n++; return true })
				return true
			})
		})
		if n != 50000 { // 20 commits of the same timestamps: one sample per ms
			b.Fatalf("%d samples", n)
		}
	}
}
