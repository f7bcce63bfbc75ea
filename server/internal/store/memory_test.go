package store

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// liveHeap returns the heap in use after collections, the least of a few.
func liveHeap() uint64 {
	var least uint64
	for i := 0; i < 3; i++ {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if i == 0 || m.HeapAlloc < least {
			least = m.HeapAlloc
		}
	}
	return least
}

// TestLoadAccounting: the bytes the store counts against its budget are
// within 15% of the heap it holds, for the shapes that matter: regular
// series, one-point series, fat tags and series churn at the scale of the
// default budget. (The budget is only as good as this count.) A load test
// (APPTUIT_LOAD=1, see .ci/run): it allocates a few hundred MB and takes a
// minute.
func TestLoadAccounting(t *testing.T) {
	if os.Getenv("APPTUIT_LOAD") == "" {
		t.Skip("a load test: set APPTUIT_LOAD=1 to run it")
	}
	type shape struct {
		name   string
		budget int64
		fill   func(st *Store)
	}
	commit := func(st *Store, b *opentsdb.Batch) {
		if _, err := st.Commit(b); err != nil {
			t.Fatal(err)
		}
	}
	fat := strings.Repeat("x", 2500)
	for _, sh := range []shape{
		{"1,000 series of 1,000 points, two decimals", 0, func(st *Store) {
			for p := 0; p < 1000; p += 100 {
				var b opentsdb.Batch
				for s := 0; s < 1000; s++ {
					key := keyOf("rq.p99", map[string]string{"host": fmt.Sprintf("web-%04d", s), "dc": "eu-west-1"})
					for i := p; i < p+100; i++ {
						b.Add([]byte(key), int64(1700000000+i*10)*1000, float64((i*7919+s*31)%10000)/100)
					}
				}
				commit(st, &b)
			}
		}},
		{"100,000 one-point series", 0, func(st *Store) {
			for p := 0; p < 100_000; p += 10_000 {
				var b opentsdb.Batch
				for s := p; s < p+10_000; s++ {
					b.Add([]byte(keyOf("churn", map[string]string{"id": fmt.Sprint(s)})), 1700000000000, float64(s%100))
				}
				commit(st, &b)
			}
		}},
		{"2,000 series with 25 tags of 2,500 bytes", 0, func(st *Store) {
			for p := 0; p < 2000; p += 100 {
				var b opentsdb.Batch
				for s := p; s < p+100; s++ {
					tags := map[string]string{}
					for k := 0; k < 25; k++ {
						tags[fmt.Sprintf("t%02d", k)] = fmt.Sprint(s) + fat
					}
					b.Add([]byte(keyOf("fat", tags)), 1700000000000+int64(s), 1)
				}
				commit(st, &b)
			}
		}},
		{"churn: 3,000,000 one-point series through a 256 MiB budget", 256 << 20, func(st *Store) {
			for p := 0; p < 3_000_000; p += 50_000 {
				var b opentsdb.Batch
				for s := p; s < p+50_000; s++ {
					b.Add([]byte(keyOf("churn", map[string]string{"session": fmt.Sprintf("s-%09d", s)})), 1700000000000+int64(s), float64(s%1000)/10)
				}
				commit(st, &b)
			}
		}},
	} {
		t.Run(sh.name, func(t *testing.T) {
			before := liveHeap()
			st := New(0, sh.budget, time.Now)
			sh.fill(st)
			held := liveHeap() - before
			s := st.Stats()
			ratio := float64(held) / float64(s.Bytes)
			t.Logf("%d points, %d series: %d bytes counted, %d held (%.3f); %.1f held a point, %.0f a series; %d evicted",
				s.Points, s.Series, s.Bytes, held, ratio, float64(held)/float64(s.Points), float64(held)/float64(s.Series), s.EvictedByMemory)
			if ratio < 0.85 || ratio > 1.15 {
				t.Errorf("the heap holds %.3f times what the store counts", ratio)
			}
			if sh.budget > 0 && (s.Bytes > sh.budget || s.EvictedByMemory == 0) {
				t.Errorf("budget %d: %+v", sh.budget, s)
			}
			runtime.KeepAlive(st)
		})
	}
}
