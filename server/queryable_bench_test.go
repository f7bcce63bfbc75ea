package server

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// selectServer returns a server holding 1,000 series of 10,000 points
// each, 10 s apart from selectT0, values with two decimals.
func selectServer(b *testing.B) *Server {
	b.Helper()
	s, err := New(WithPromQLLimits(PromQLLimits{MaxSamples: 20_000_000}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte(opentsdb.SeriesKeyOf("rq.p99", map[string]string{"host": fmt.Sprintf("web-%04d", i), "dc": "eu-west-1"}))
	}
	for p := 0; p < 10_000; p += 100 {
		var bt opentsdb.Batch
		for k := p; k < p+100; k++ {
			for i, key := range keys {
				bt.Add(key, (selectT0+int64(k)*10)*1000, float64((k*7919+i*104729)%10000)/100)
			}
		}
		if _, err := s.store.Commit(&bt); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

const selectT0 = 1700000000

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSelect selects the 1,000 series over [from, to] (seconds) as
// Prometheus's engine does and reads every sample through the iterators.
func benchSelect(b *testing.B, from, to int64, perOp int) {
	s := selectServer(b)
	m := labels.MustNewMatcher(labels.MatchEqual, metricName, "rq.p99")
	ctx := context.Background()
	b.ReportAllocs()
	runtime.GC() // not to count the collection of the set-up's garbage
	n := 0
	cpu := cpuTime()
	var it chunkenc.Iterator
	for b.Loop() {
		q, err := s.promql.queryable.Querier(from*1000, to*1000)
		if err != nil {
			b.Fatal(err)
		}
		set := q.Select(ctx, false, &storage.SelectHints{Start: from * 1000, End: to * 1000}, m)
		for set.Next() {
			it = set.At().Iterator(it)
			for it.Next() != chunkenc.ValNone {
				n++
			}
		}
		if set.Err() != nil {
			b.Fatal(set.Err())
		}
		q.Close()
	}
	if n%perOp != 0 {
		b.Fatalf("%d samples read, not a multiple of %d", n, perOp)
	}
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(n), "cpu-ns/sample")
}

// BenchmarkSelectAll reads all 10M samples of 1,000 series.
func BenchmarkSelectAll(b *testing.B) {
	benchSelect(b, selectT0, selectT0+100_000, 10_000_000)
}

// BenchmarkSelectLastHour reads the last hour of 1,000 series (360,000
// samples), as a dashboard's range query does.
func BenchmarkSelectLastHour(b *testing.B) {
	end := int64(selectT0 + 99_990)
	benchSelect(b, end-3590, end, 360_000)
}

// BenchmarkSelectInstant reads the last 5 minutes of 1,000 series (30,000
// samples), as an instant query's selector does.
func BenchmarkSelectInstant(b *testing.B) {
	end := int64(selectT0 + 99_990)
	benchSelect(b, end-290, end, 30_000)
}
