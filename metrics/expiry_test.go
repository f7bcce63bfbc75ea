package metrics

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestExpiry follows series through intervals with WithExpiry(2): a series
// not updated during 2 intervals in a row is removed at the end of the
// second; an update (even one that leaves the value unchanged) keeps it;
// a lookup after expiry makes a new metric; GaugeFuncs never expire.
func TestExpiry(t *testing.T) {
	r := NewRegistry(WithExpiry(2))
	c, _ := r.CounterWith("c", map[string]string{"k": "v"})
	g, _ := r.Gauge("g")
	tm, _ := r.Timer("t")
	r.GaugeFunc("f", func() float64 { return 1 })
	v, _ := r.MeterVec("m", "k")
	v.With("a").Mark(1)
	c.Inc()
	names := func() string {
		var s []string
		r.Walk(func(name string, _ Tags, _ any) { s = append(s, name) })
		return fmt.Sprint(s)
	}
	for i, step := range []struct {
		update  func()
		expired int
		left    string
	}{
		{func() {}, 0, "[c f g m t]"},                // all updated or new in the first interval
		{func() { g.Set(0) }, 0, "[c f g m t]"},      // c, m and t idle for one interval; g set to the value it had
		{func() { tm.Update(1) }, 2, "[f g t]"},      // c and m idle for two: removed
		{func() {}, 1, "[f t]"},                      // g idle for two: removed; t idle for one
		{func() {}, 1, "[f]"},                        // t removed; f never
		{func() { v.With("a").Mark(1) }, 0, "[f m]"}, // a lookup makes a new meter
	} {
		step.update()
		st := r.EndInterval()
		if st.Expired != step.expired || names() != step.left {
			t.Errorf("interval %d: %d expired, left %s; want %d, %s", i, st.Expired, names(), step.expired, step.left)
		}
	}
	if m := v.With("a"); m.Count() != 1 {
		t.Errorf("the meter made after expiry counts %d, want 1 (a new metric)", m.Count())
	}
}

// TestExpiredMetricInAVariableComesBack: a metric kept in a variable that
// is updated after it expired is registered again with its value, unless a
// lookup made another metric for its series meanwhile.
func TestExpiredMetricInAVariableComesBack(t *testing.T) {
	r := NewRegistry(WithExpiry(1))
	reqs, _ := r.Counter("requests")
	reqs.Add(5)
	tagged, _ := r.CounterWith("errors", map[string]string{"code": "500"})
	tagged.Inc()
	r.EndInterval()
	if st := r.EndInterval(); st.Expired != 2 || r.Len() != 0 {
		t.Fatalf("expired %d, Len %d; want 2 and 0", st.Expired, r.Len())
	}
	reqs.Inc() // comes back, with its value
	if got, _ := r.Counter("requests"); got != reqs || got.Count() != 6 {
		t.Errorf("after an update, the registry has %p counting %d; want the variable's, 6", got, got.Count())
	}
	fresh, _ := r.CounterWith("errors", map[string]string{"code": "500"}) // a lookup first
	tagged.Inc()                                                          // then the old one: stays detached
	if got, _ := r.CounterWith("errors", map[string]string{"code": "500"}); got != fresh || fresh.Count() != 0 {
		t.Errorf("the lookup's counter was replaced, or counts %d", fresh.Count())
	}
	if r.Len() != 2 {
		t.Errorf("Len %d, want 2", r.Len())
	}
	// The family's count came back with the series: the limit holds.
	r2 := NewRegistry(WithExpiry(1), WithSeriesLimit(2))
	v, _ := r2.CounterVec("v", "k")
	a, b := v.With("a"), v.With("b")
	r2.EndInterval()
	r2.EndInterval() // both expired
	a.Inc()          // a comes back
	v.With("c")      // room for one more
	v.With("d")      // overflow
	b.Inc()          // b comes back past the limit: it existed before
	if st := r2.EndInterval(); st.Overflowed != 1 || r2.Len() != 4 {
		t.Errorf("overflowed %d, Len %d; want 1 and 4 (a, b, c and the overflow series)", st.Overflowed, r2.Len())
	}
}

// TestExpiryConcurrent has goroutines update counters kept in variables
// while intervals end with WithExpiry(1): every update lands in a counter
// the registry reports once each is updated again.
func TestExpiryConcurrent(t *testing.T) {
	const goroutines, perG, counters = 4, 20000, 8
	r := NewRegistry(WithExpiry(1))
	cs := make([]*Counter, counters)
	for i := range cs {
		cs[i], _ = r.CounterWith("c", map[string]string{"i": fmt.Sprint(i)})
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r.EndInterval()
		}
	}()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				cs[(g+i)%counters].Inc()
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	for _, c := range cs {
		c.Add(0) // an update: registered again if it had expired
	}
	var total int64
	r.Walk(func(_ string, _ Tags, m any) { total += m.(*Counter).Count() })
	if total != goroutines*perG || r.Len() != counters {
		t.Errorf("%d series counting %d, want %d counting %d", r.Len(), total, counters, goroutines*perG)
	}
}

// heapAfterGC returns the live heap: the least of a few readings after a
// GC, 10 ms apart, so that what other tests left winding down does not
// count.
func heapAfterGC() uint64 {
	least := uint64(math.MaxUint64)
	for range 5 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		least = min(least, ms.HeapAlloc)
		time.Sleep(10 * time.Millisecond)
	}
	return least
}

// TestExpiryReleasesMemory registers 1,000,000 series (100,000 under the
// race detector) through a vector and through a getter, lets them expire,
// and checks that the live heap comes back to within 10 % of what it was
// before they were registered.
func TestExpiryReleasesMemory(t *testing.T) {
	n := 1_000_000
	if raceEnabled {
		n = 100_000
	}
	r := NewRegistry(WithExpiry(1), WithSeriesLimit(0))
	v, _ := r.CounterVec("requests", "id")
	base := heapAfterGC()
	for i := range n / 2 {
		id := fmt.Sprint(i)
		v.With(id).Inc()
		c, _ := r.CounterWith("errors", map[string]string{"id": id})
		c.Inc()
	}
	for i := range n / 2 { // so that the vector's index is published too
		v.With(fmt.Sprint(i))
	}
	full := heapAfterGC()
	r.EndInterval()
	st := r.EndInterval()
	after := heapAfterGC()
	runtime.KeepAlive(v)
	if st.Expired != n || r.Len() != 0 {
		t.Fatalf("expired %d, Len %d; want %d and 0", st.Expired, r.Len(), n)
	}
	t.Logf("%d series: heap %.1f MiB before, %.1f MiB registered (%.0f B a series), %.1f MiB after expiry",
		n, mib(base), mib(full), float64(full-base)/float64(n), mib(after))
	if float64(after) > 1.1*float64(base) {
		t.Errorf("heap after expiry %.1f MiB, more than 110 %% of the %.1f MiB before", mib(after), mib(base))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
