package store

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

func keyOf(metric string, tags map[string]string) string { return opentsdb.SeriesKeyOf(metric, tags) }

// storedSeries returns each series' visible points, in time and arrival
// order.
func storedSeries(st *Store) map[string][]sample {
	out := map[string][]sample{}
	st.Read(func(r Reader) {
		for k, s := range st.byKey {
			if v, ok := r.view(s); ok {
				v.all(func(t int64, val float64) bool {
					out[k] = append(out[k], sample{t, val})
					return true
				})
			}
		}
	})
	return out
}

// checkInvariants checks the store's structure: each series' chunks in
// order and decoding to what their descriptors say, skipped points only in
// the first chunk, no empty series, the heap ordered, the indexes
// consistent, the counts of points and bytes right.
func checkInvariants(t *testing.T, st *Store) {
	t.Helper()
	points, bytes := 0, int64(0)
	for m := range st.byMetric {
		bytes += metricOverhead + int64(len(m))
	}
	for k, s := range st.byKey {
		if s.key != k || len(s.chunks) == 0 {
			t.Fatalf("series %q: %d chunks", k, len(s.chunks))
		}
		bytes += seriesOverhead + int64(len(k)) + s.descBytes()
		for i := range s.chunks {
			c := &s.chunks[i]
			bytes += s.bytesOf(c.b)
			if i > 0 && (c.skip != 0 || s.chunks[i-1].maxT > c.minT) {
				t.Fatalf("series %q chunk %d: skip %d, starts at %d before the previous ends at %d", k, i, c.skip, c.minT, s.chunks[i-1].maxT)
			}
			var d decoder
			d.reset(c.b, int(c.n))
			n, prev := 0, int64(math.MinInt64)
			for d.next() {
				if d.t < prev {
					t.Fatalf("series %q chunk %d: %d after %d", k, i, d.t, prev)
				}
				if n == int(c.skip) && d.t != c.minT {
					t.Fatalf("series %q chunk %d: first visible point at %d, minT %d", k, i, d.t, c.minT)
				}
				prev = d.t
				n++
			}
			if n != int(c.n) || prev != c.maxT || c.skip >= c.n {
				t.Fatalf("series %q chunk %d: %d points decoded, last at %d; descriptor %+v", k, i, n, prev, *c)
			}
			points += c.visible()
		}
		if st.byMetric[(View{s: s}).Metric()][s.metricIdx] != s || st.heads[s.heapIdx].s != s || st.heads[s.heapIdx].t != s.chunks[0].minT {
			t.Fatalf("series %q: bad index", k)
		}
	}
	if points != st.points || len(st.heads) != len(st.byKey) || bytes != st.bytes {
		t.Fatalf("%d points counted, %d stored; %d in the heap, %d series; %d bytes counted, %d held", st.points, points, len(st.heads), len(st.byKey), st.bytes, bytes)
	}
	for i := 1; i < len(st.heads); i++ {
		if st.heads[(i-1)/2].t > st.heads[i].t {
			t.Fatalf("heap out of order at %d", i)
		}
	}
}

// modelAfter returns the model's points of each series (sorted by time,
// stable) once the store's evictions are applied: each series' stored
// points must be what the model holds minus some of its oldest (a prefix),
// and dropped counts how many the store evicted.
func modelAfter(t *testing.T, model, stored map[string][]sample) (dropped int) {
	t.Helper()
	for k, want := range model {
		got := stored[k]
		if len(got) > len(want) || !slices.Equal(got, want[len(want)-len(got):]) {
			t.Fatalf("series %q: stored %d points that are not the newest %d of the model's %d\ngot  %v\nwant %v", k, len(got), len(got), len(want), head(got), head(want[len(want)-len(got):]))
		}
		dropped += len(want) - len(got)
		if len(got) == 0 {
			delete(model, k)
		} else {
			model[k] = got
		}
	}
	for k := range stored {
		if _, ok := model[k]; !ok {
			t.Fatalf("series %q stored, not in the model", k)
		}
	}
	return dropped
}

func head(s []sample) []sample { return s[:min(len(s), 8)] }

// TestStoreModel commits random batches (in and out of order, duplicate
// timestamps, decimal and other values, several series) to stores with and
// without bounds, and checks after each commit the structure and that each
// series holds the model's points but for its oldest, evicted, and the
// counts.
func TestStoreModel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxBytes  int64
		retention time.Duration
	}{
		{"unbounded", 0, 0},
		{"max bytes", 12 << 10, 0},
		{"retention", 0, 60 * time.Second},
		{"both", 16 << 10, 90 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			nowMs := int64(1_000_000_000)
			st := New(tc.retention, tc.maxBytes, func() time.Time { return time.UnixMilli(nowMs) })
			model := map[string][]sample{}
			var evicted uint64
			for round := 0; round < 100; round++ {
				var b opentsdb.Batch
				tooOld := 0
				n := rng.IntN(300)
				for i := 0; i < n; i++ {
					key := keyOf("m", map[string]string{"h": fmt.Sprint(rng.IntN(4))})
					if rng.IntN(50) == 0 {
						key = keyOf(fmt.Sprintf("once%d.%d", round, i), nil) // one-point series
					}
					// Whole tenths of seconds, so that timestamps collide.
					ms := nowMs - 100*int64(rng.IntN(10))
					switch rng.IntN(8) {
					case 0:
						ms = nowMs - 1000*int64(rng.IntN(100)) // late, by up to 100 s
					case 1:
						ms = nowMs - 1000 + int64(rng.IntN(3)) // duplicates
					}
					v := float64(rng.IntN(10000)) / 100
					if rng.IntN(10) == 0 {
						v = rng.Float64()
					}
					b.Add([]byte(key), ms, v)
					if ms >= st.cutoff() {
						// The model keeps each series sorted by time, stable:
						// a point goes after those at its timestamp.
						list := model[key]
						j, _ := slices.BinarySearchFunc(list, ms+1, func(s sample, t int64) int { return cmp.Compare(s.t, t) })
						model[key] = slices.Insert(list, j, sample{ms, v})
					} else {
						tooOld++
					}
				}
				before := st.Stats()
				got, err := st.Commit(&b)
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, st)
				stored := storedSeries(st)
				dropped := modelAfter(t, model, stored)
				after := st.Stats()
				if delta := int(after.EvictedByAge + after.EvictedByMemory - before.EvictedByAge - before.EvictedByMemory); got != delta || delta != dropped+tooOld {
					t.Fatalf("round %d: Commit says %d evicted; stats before %+v, after %+v; %d dropped from the model", round, got, before, after, dropped)
				}
				evicted += uint64(got)
				if tc.maxBytes > 0 && after.Bytes > tc.maxBytes {
					t.Fatalf("round %d: %d bytes stored, max %d", round, after.Bytes, tc.maxBytes)
				}
				if tc.maxBytes == 0 && after.EvictedByMemory != 0 {
					t.Fatalf("round %d: evicted by memory without a budget", round)
				}
				for k, list := range stored {
					if tc.retention > 0 && list[0].t < nowMs-tc.retention.Milliseconds() {
						t.Fatalf("round %d: series %q kept a point older than the retention", round, k)
					}
				}
				if after.Accepted != uint64(after.Points)+after.EvictedByAge+after.EvictedByMemory || after.Accepted != before.Accepted+uint64(b.Len()) {
					t.Fatalf("round %d: %+v after %d points", round, after, b.Len())
				}
				checkReads(t, rng, st, model)
				nowMs += 2000
			}
			s := st.Stats()
			t.Logf("%d points in %d series, %d bytes; %d evicted by age, %d by memory", s.Points, s.Series, s.Bytes, s.EvictedByAge, s.EvictedByMemory)
		})
	}
}

// checkReads compares the store's readings of random ranges with the
// model's: Samples (the last arrival of each millisecond), Seconds (the
// last of each second) and an Iter taken out of the lock, with Seek.
func checkReads(t *testing.T, rng *rand.Rand, st *Store, model map[string][]sample) {
	t.Helper()
	for k, list := range model {
		lo := list[rng.IntN(len(list))].t - int64(rng.IntN(3000))
		hi := lo + int64(rng.IntN(200_000))
		var want []sample
		for i, p := range list {
			if p.t >= lo && p.t <= hi && (i+1 == len(list) || list[i+1].t != p.t) {
				want = append(want, p)
			}
		}
		var got, secs []sample
		var it *Iter
		var counted int
		st.Read(func(r Reader) {
			v, _ := r.view(st.byKey[k])
			v.Samples(lo, hi, func(t int64, x float64) bool { got = append(got, sample{t, x}); return true })
			v.Seconds(floorDiv(lo, 1000), floorDiv(hi, 1000), func(t int64, x float64) bool { secs = append(secs, sample{t, x}); return true })
			it, counted = v.Iter(lo, hi)
		})
		if !slices.Equal(got, want) {
			t.Fatalf("series %q [%d, %d]: Samples\n%v\nwant\n%v", k, lo, hi, head(got), head(want))
		}
		inRange := 0
		for _, p := range list {
			if p.t >= lo && p.t <= hi {
				inRange++
			}
		}
		// The count is an estimate from the chunks' spans: some when there
		// are some, no more than all.
		if inRange > 0 && counted == 0 || counted > len(list) {
			t.Fatalf("series %q: Iter counted %d points, %d in range of %d", k, counted, inRange, len(list))
		}
		if lo <= list[0].t && hi >= list[len(list)-1].t && counted != len(list) {
			t.Fatalf("series %q: Iter counted %d points of the %d all in range", k, counted, len(list))
		}
		var wantSecs []sample
		for _, p := range list {
			if p.t < floorDiv(lo, 1000)*1000 || p.t > floorDiv(hi, 1000)*1000+999 {
				continue
			}
			s := sample{floorDiv(p.t, 1000), p.v}
			if n := len(wantSecs); n > 0 && wantSecs[n-1].t == s.t {
				wantSecs[n-1] = s
			} else {
				wantSecs = append(wantSecs, s)
			}
		}
		if !slices.Equal(secs, wantSecs) {
			t.Fatalf("series %q: Seconds\n%v\nwant\n%v", k, head(secs), head(wantSecs))
		}
		// The iterator, with Seeks to random times in between.
		var viaIter []sample
		for i := 0; ; i++ {
			var ok bool
			if i%5 == 4 && len(viaIter) > 0 {
				target := viaIter[len(viaIter)-1].t + int64(rng.IntN(20_000)) - 1000
				ok = it.SeekTo(target)
				j, _ := slices.BinarySearchFunc(want, target, func(s sample, t int64) int { return cmp.Compare(s.t, t) })
				want = append(want[:len(viaIter)], want[max(j, len(viaIter)):]...)
				if ok && len(viaIter) > 0 && it.t < viaIter[len(viaIter)-1].t {
					t.Fatalf("SeekTo(%d) went back to %d", target, it.t)
				}
				if ok {
					at, _ := it.At()
					if at == viaIter[len(viaIter)-1].t {
						continue // the current point was already at or after the target
					}
				}
			} else {
				ok = it.Next()
			}
			if !ok {
				break
			}
			at, x := it.At()
			viaIter = append(viaIter, sample{at, x})
		}
		if !slices.Equal(viaIter, want) {
			t.Fatalf("series %q: Iter with seeks\n%v\nwant\n%v", k, head(viaIter), head(want))
		}
	}
}

// TestLateMerge: points earlier than a series' last are merged where they
// belong, however far back, and read back in order; a late point at a
// stored timestamp reads as the last arrival.
func TestLateMerge(t *testing.T) {
	st := New(0, 0, time.Now)
	key := keyOf("nyc.taxi.rides", nil)
	commit := func(points ...sample) {
		var b opentsdb.Batch
		for _, p := range points {
			b.Add([]byte(key), p.t, p.v)
		}
		if _, err := st.Commit(&b); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, st)
	}
	var want []sample
	for i := int64(0); i < 5000; i++ { // five chunks
		want = append(want, sample{1700000000000 + i*10000, float64(i)})
	}
	commit(want...)
	old := []sample{{1404165600000, 10844}, {1404167400000, 8127}} // 2014, as the seed's
	commit(old[1], old[0])
	want = append(old, want...)
	commit(sample{1700000000000 + 2500*10000 + 5, 0.5}, sample{1700000000000 + 10000, 42})
	want = slices.Insert(want, 2+2501, sample{1700000000000 + 2500*10000 + 5, 0.5})
	want[3] = sample{1700000000000 + 10000, 42} // the later arrival at that millisecond
	var got []sample
	st.Read(func(r Reader) {
		v, _ := r.view(st.byKey[key])
		v.Samples(math.MinInt64, math.MaxInt64, func(t int64, x float64) bool { got = append(got, sample{t, x}); return true })
		if n := v.Len(); n != len(want)+1 {
			t.Errorf("Len %d, want %d (duplicates count)", n, len(want)+1)
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("%d samples read, want %d; first %v", len(got), len(want), head(got))
	}
}

// TestEvictionOrder: over a byte budget the oldest chunks go first,
// whichever series holds them, and the counts say so.
func TestEvictionOrder(t *testing.T) {
	st := New(0, 64<<10, time.Now)
	var total int
	for round := int64(0); round < 200; round++ {
		var b opentsdb.Batch
		for s := 0; s < 10; s++ {
			for i := int64(0); i < 50; i++ {
				b.Add([]byte(keyOf("m", map[string]string{"s": fmt.Sprint(s)})), (round*50+i)*1000, float64((round*50+i)%997)/100)
			}
		}
		total += b.Len()
		if _, err := st.Commit(&b); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, st)
	s := st.Stats()
	if s.Bytes > 64<<10 || s.Series != 10 || s.EvictedByMemory == 0 || uint64(s.Points)+s.EvictedByMemory != uint64(total) {
		t.Fatalf("Stats %+v after %d points", s, total)
	}
	// Every series kept its newest points, from about the same time on.
	var firsts []int64
	st.Read(func(r Reader) {
		r.EachSeries("m", nil, func(v View) bool {
			firsts = append(firsts, v.First())
			if ms, _ := v.Last(); ms != 9999000 {
				t.Errorf("series %v ends at %d", v.Tags().Map(), ms)
			}
			return true
		})
	})
	slices.Sort(firsts)
	if spread := firsts[len(firsts)-1] - firsts[0]; spread > 1024*1000 {
		t.Errorf("the series' oldest points are %d ms apart: not the oldest evicted first", spread)
	}
	t.Logf("%+v; %.2f bytes a point", s, float64(s.Bytes)/float64(s.Points))
}

func TestSplitKey(t *testing.T) {
	key := keyOf("cpu", map[string]string{"b": "2", "a": "1", "host": "web-01"})
	metric, tags, ok := splitKey(key)
	if !ok || metric != "cpu" || tags.Len() != 3 || fmt.Sprint(tags.Map()) != "map[a:1 b:2 host:web-01]" {
		t.Fatalf("splitKey: %q %v %v", metric, tags.Map(), ok)
	}
	if v, ok := tags.Get("host"); !ok || v != "web-01" {
		t.Errorf("Get(host) = %q, %v", v, ok)
	}
	if _, ok := tags.Get("c"); ok {
		t.Errorf("Get(c) found")
	}
	for _, bad := range []string{"", "\x00", "\x05cpu", "\x03cpu\x01b\x012\x01a\x011", "\x03cpu\x01a", "\x03cpu\x01a\x05x", "\xff"} {
		if _, _, ok := splitKey(bad); ok {
			t.Errorf("splitKey(%q) accepted", bad)
		}
		if _, _, err := opentsdb.ParseSeriesKey(bad); err == nil {
			t.Errorf("ParseSeriesKey(%q) accepted: the two disagree", bad)
		}
	}
}
