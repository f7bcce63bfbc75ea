package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// modelPoint is a point as the model of the store keeps it.
type modelPoint struct {
	key string
	ms  int64
	v   float64
	seq uint64
}

func keyOf(metric string, tags map[string]string) string { return opentsdb.SeriesKeyOf(metric, tags) }

// storedPoints returns the store's points with their arrival numbers.
func storedPoints(st *Store) []modelPoint {
	var out []modelPoint
	st.Read(func(r Reader) {
		for _, s := range r.st.byKey {
			for i := range s.ms {
				out = append(out, modelPoint{s.key, s.ms[i], s.val[i], s.seq[i]})
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// checkInvariants checks the store's structure: columns sorted by (ms,
// seq), no empty series, the heap ordered, the indexes consistent and the
// count right.
func checkInvariants(t *testing.T, st *Store) {
	t.Helper()
	n := 0
	for k, s := range st.byKey {
		if s.key != k || len(s.ms) == 0 || len(s.ms) != len(s.val) || len(s.ms) != len(s.seq) || s.start != -1 {
			t.Fatalf("series %q: %d/%d/%d points, start %d", k, len(s.ms), len(s.val), len(s.seq), s.start)
		}
		for i := 1; i < len(s.ms); i++ {
			if !s.before(i-1, i) {
				t.Fatalf("series %q unsorted at %d: %d/%d then %d/%d", k, i, s.ms[i-1], s.seq[i-1], s.ms[i], s.seq[i])
			}
		}
		if st.byMetric[s.metric][s.metricIdx] != s || st.heads[s.heapIdx] != s {
			t.Fatalf("series %q: bad index", k)
		}
		n += len(s.ms)
	}
	if n != st.points || len(st.heads) != len(st.byKey) {
		t.Fatalf("%d points counted, %d stored; %d in the heap, %d series", st.points, n, len(st.heads), len(st.byKey))
	}
	for i := 1; i < len(st.heads); i++ {
		if st.heads[(i-1)/2].ms[0] > st.heads[i].ms[0] {
			t.Fatalf("heap out of order at %d", i)
		}
	}
}

// TestStoreModel commits random batches (in and out of order, duplicate
// timestamps, several series) to stores with and without bounds, and
// checks after each commit that the store holds exactly the model's points
// minus the evicted ones, which are always the oldest.
func TestStoreModel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxPoints int
		retention time.Duration
	}{
		{"unbounded", 0, 0},
		{"max points", 300, 0},
		{"retention", 0, 500 * time.Millisecond},
		{"both", 200, 700 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			nowMs := int64(1_000_000)
			st := New(tc.retention, tc.maxPoints, func() time.Time { return time.UnixMilli(nowMs) })
			var model []modelPoint
			seq := uint64(0)
			for round := 0; round < 100; round++ {
				var b opentsdb.Batch
				n := rng.IntN(30)
				for i := 0; i < n; i++ {
					tags := map[string]string{"h": fmt.Sprint(rng.IntN(5))}
					ms := nowMs - int64(rng.IntN(1000))
					if rng.IntN(4) == 0 {
						ms = nowMs - 1000 + int64(rng.IntN(3)) // duplicates
					}
					v := float64(rng.IntN(100))
					key := keyOf("m", tags)
					b.Add([]byte(key), ms, v)
					model = append(model, modelPoint{key, ms, v, seq})
					seq++
				}
				evicted, err := st.Commit(&b)
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, st)
				got := storedPoints(st)
				// What is left of the model once the store's evictions are
				// applied: every point the store dropped is older (or as old)
				// than every point it kept, and none of the kept is past the
				// retention.
				keptSeq := map[uint64]bool{}
				for _, p := range got {
					keptSeq[p.seq] = true
				}
				minKept, maxDropped := int64(math.MaxInt64), int64(math.MinInt64)
				var kept []modelPoint
				for _, p := range model {
					if keptSeq[p.seq] {
						kept = append(kept, p)
						minKept = min(minKept, p.ms)
					} else {
						maxDropped = max(maxDropped, p.ms)
					}
				}
				if !reflect.DeepEqual(got, kept) && !(len(got) == 0 && len(kept) == 0) {
					t.Fatalf("round %d: stored points differ from the model's", round)
				}
				model = kept
				if maxDropped > minKept {
					t.Fatalf("round %d: dropped a point at %d but kept one at %d", round, maxDropped, minKept)
				}
				if tc.maxPoints > 0 && len(got) > tc.maxPoints {
					t.Fatalf("round %d: %d points stored, max %d", round, len(got), tc.maxPoints)
				}
				if tc.retention > 0 && len(got) > 0 && minKept < nowMs-tc.retention.Milliseconds() {
					t.Fatalf("round %d: kept a point older than the retention", round)
				}
				if st.accepted != uint64(st.points)+st.evictAge+st.evictMax || evicted < 0 {
					t.Fatalf("round %d: accepted %d, stored %d, evicted %d+%d", round, st.accepted, st.points, st.evictAge, st.evictMax)
				}
				nowMs += 5
			}
			t.Logf("%d points stored, %d evicted by age, %d by count", st.points, st.evictAge, st.evictMax)
		})
	}
}
