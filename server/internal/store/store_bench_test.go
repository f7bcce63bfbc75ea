package store

import (
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// cpuClock measures the CPU time of the process (all its threads: the
// garbage collector's too), which a busy machine inflates far less than
// the wall-clock time of ns/op.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) *cpuClock { b.Helper(); return &cpuClock{cpuNow()} }

// report reports the CPU time per unit (e.g. "point") of n units.
func (c *cpuClock) report(b *testing.B, n int, unit string) {
	b.ReportMetric(float64((cpuNow()-c.start).Nanoseconds())/float64(n), "cpu-ns/"+unit)
}

// benchKeys returns the keys of n series of a reporter's metric (3 tags).
func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for s := range keys {
		keys[s] = []byte(opentsdb.SeriesKeyOf("http.server.duration", map[string]string{"host": fmt.Sprintf("web%d", s), "service": "orders", "dc": "eu-west-1"}))
	}
	return keys
}

// timeBatch returns 50,000 points of 100 series, 500 a series 10 s apart
// from start (seconds), in body order, values with two decimals.
func timeBatch(keys [][]byte, start int64) *opentsdb.Batch {
	var bt opentsdb.Batch
	for p := int64(0); p < 500; p++ {
		for s, key := range keys {
			bt.Add(key, (start+p*10)*1000, float64((p*7919+int64(s)*104729)%10000)/100)
		}
	}
	return &bt
}

// BenchmarkStoreCommit stores 50,000-point batches (100 series, each batch
// later than the last, as a reporter sends them) into a store of 16 MiB,
// which evicts as much as it takes once full: append, evict.
func BenchmarkStoreCommit(b *testing.B) {
	keys := benchKeys(100)
	st := New(0, 16<<20, time.Now)
	b.ReportAllocs()
	start := int64(1700000000)
	points := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		bt := timeBatch(keys, start)
		start += 5000
		b.StartTimer()
		c := cpuNow()
		if _, err := st.Commit(bt); err != nil {
			b.Fatal(err)
		}
		cpu += cpuNow() - c
		points += bt.Len()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(points), "cpu-ns/point")
	s := st.Stats()
	b.ReportMetric(float64(s.Bytes)/float64(s.Points), "bytes/point")
}

// BenchmarkStoreCommitLate stores batches of 50,000 points (100 series)
// that land among the 5,000 stored points of each series, spread over its
// whole range: each of its chunks is decoded, merged and encoded again,
// the worst case of late points. (The store is rebuilt every 10 batches,
// outside the timing.)
func BenchmarkStoreCommitLate(b *testing.B) {
	keys := benchKeys(100)
	var st *Store
	b.ReportAllocs()
	points, i := 0, 0
	var cpu time.Duration
	for b.Loop() {
		if i%10 == 0 {
			b.StopTimer()
			st = New(0, 0, time.Now)
			for k := int64(0); k < 10; k++ {
				if _, err := st.Commit(timeBatch(keys, 1700000000+k*5000)); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		b.StopTimer()
		var bt opentsdb.Batch
		for k := int64(0); k < 500; k++ { // every 100 s of the 50,000 stored, plus a few ms
			for s, key := range keys {
				bt.Add(key, (1700000000+k*100)*1000+int64(i%10+1), float64((k*31+int64(s))%10000)/100)
			}
		}
		b.StartTimer()
		c := cpuNow()
		if _, err := st.Commit(&bt); err != nil {
			b.Fatal(err)
		}
		cpu += cpuNow() - c
		points += bt.Len()
		i++
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(points), "cpu-ns/point")
}

// BenchmarkStoreCommitNewSeries stores batches of 10,000 points of series
// never seen before (a tag of a new value each), through a store of
// 16 MiB: create, evict whole series.
func BenchmarkStoreCommitNewSeries(b *testing.B) {
	st := New(0, 16<<20, time.Now)
	b.ReportAllocs()
	n := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		var bt opentsdb.Batch
		for i := 0; i < 10000; i++ {
			bt.Add([]byte(opentsdb.SeriesKeyOf("requests", map[string]string{"request_id": fmt.Sprintf("req-%09d", n)})), 1700000000000+int64(n), 1)
			n++
		}
		b.StartTimer()
		c := cpuNow()
		if _, err := st.Commit(&bt); err != nil {
			b.Fatal(err)
		}
		cpu += cpuNow() - c
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/point")
	s := st.Stats()
	b.ReportMetric(float64(s.Bytes)/float64(s.Series), "bytes/series")
}

// readStore returns a store of 100 series of 10,000 points each.
func readStore(b *testing.B) *Store {
	keys := benchKeys(100)
	st := New(0, 0, time.Now)
	for i := int64(0); i < 20; i++ {
		if _, err := st.Commit(timeBatch(keys, 1700000000+i*5000)); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkStoreSamples reads every sample of 100 series of 10,000 points
// through the read API, under the read lock (the query language's way).
func BenchmarkStoreSamples(b *testing.B) {
	st := readStore(b)
	b.ReportAllocs()
	n := 0
	cpu := startCPU(b)
	for b.Loop() {
		st.Read(func(r Reader) {
			r.EachSeries("", nil, func(v View) bool {
				v.Samples(math.MinInt64, math.MaxInt64, func(int64, float64) bool { n++; return true })
				return true
			})
		})
	}
	cpu.report(b, n, "sample")
	if n%1_000_000 != 0 {
		b.Fatalf("%d samples", n)
	}
}

// BenchmarkStoreIter takes iterators over an hour of each of 100 series
// under the read lock (PromQL's Select) and reads them after it: the cost
// is the copy of each series' last chunk, then the decoding.
func BenchmarkStoreIter(b *testing.B) {
	st := readStore(b)
	from := int64(1700000000+99990-3600+10) * 1000 // the last hour
	b.ReportAllocs()
	n := 0
	its := make([]*Iter, 0, 100)
	cpu := startCPU(b)
	for b.Loop() {
		its = its[:0]
		st.Read(func(r Reader) {
			r.EachSeries("", nil, func(v View) bool {
				it, _ := v.Iter(from, math.MaxInt64)
				its = append(its, it)
				return true
			})
		})
		for _, it := range its {
			for it.Next() {
				n++
			}
		}
	}
	cpu.report(b, n, "sample")
	if n%36_000 != 0 {
		b.Fatalf("%d samples", n)
	}
}
