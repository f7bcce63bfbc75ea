package metrics

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestVecSameSeries checks that a vector's series are the registry's: the
// metric With returns is the one a getter returns for the same tags,
// whatever the order of the keys and whatever the values hold.
func TestVecSameSeries(t *testing.T) {
	r := NewRegistry()
	reqs, err := r.CounterVec("http.requests", "method", "code")
	if err != nil {
		t.Fatal(err)
	}
	for _, vals := range [][2]string{
		{"GET", "200"},
		{"", ""},
		{`say "hi"`, `a\b`},
		{"Zürich", "🙂"},
		{"tab\there", "\xff"},
		{strings.Repeat("long/", 30), "200"},   // past With's small buffer
		{strings.Repeat("longer/", 50), "200"}, // past its large one too
	} {
		c := reqs.With(vals[0], vals[1])
		c.Inc()
		same, err := r.CounterWith("http.requests", map[string]string{"method": vals[0], "code": vals[1]})
		if err != nil {
			t.Fatal(err)
		}
		if same != c {
			t.Errorf("With(%q, %q) and CounterWith differ", vals[0], vals[1])
		}
		if again := reqs.With(vals[0], vals[1]); again != c {
			t.Errorf("With(%q, %q) twice gave two counters", vals[0], vals[1])
		}
	}
	// Another vector over the same name, keys in another order.
	other, err := r.CounterVec("http.requests", "code", "method")
	if err != nil {
		t.Fatal(err)
	}
	if other.With("200", "GET") != reqs.With("GET", "200") {
		t.Error("vectors with the keys in another order address other series")
	}
	if got := reqs.With("GET", "200").Count(); got != 1 {
		t.Errorf("count %d, want 1", got)
	}
	if reqs.Name() != "http.requests" || strings.Join(reqs.Keys(), ",") != "method,code" {
		t.Errorf("Name %q, Keys %q", reqs.Name(), reqs.Keys())
	}

	// Every kind.
	g, _ := r.GaugeVec("queue", "q")
	m, _ := r.MeterVec("logins", "via")
	h, _ := r.HistogramVec("sizes", "kind")
	tm, _ := r.TimerVec("latency", "route", "method", "code", "region", "host")
	g.With("a").Set(3)
	m.With("sso").Mark(2)
	h.With("x").Update(5)
	tm.With("/", "GET", "200", "eu", "web-1").Update(1)
	gg, _ := r.GaugeWith("queue", map[string]string{"q": "a"})
	mm, _ := r.MeterWith("logins", map[string]string{"via": "sso"})
	hh, _ := r.HistogramWith("sizes", map[string]string{"kind": "x"})
	tt, _ := r.TimerWith("latency", map[string]string{"route": "/", "method": "GET", "code": "200", "region": "eu", "host": "web-1"})
	if gg.Value() != 3 || mm.Count() != 2 || hh.Snapshot().Count != 1 || tt.Count() != 1 {
		t.Errorf("vectors and getters disagree: %v %v %v %v", gg.Value(), mm.Count(), hh.Snapshot().Count, tt.Count())
	}
}

func TestVecErrors(t *testing.T) {
	r := NewRegistry()
	r.Gauge("gauge")
	r.CounterWith("counter", map[string]string{"a": "1"})
	for _, tc := range []struct {
		name, want string
		kind       bool
		err        error
	}{
		{"empty name", `vector with empty name " "`, false, get(r.CounterVec(" ", "a"))},
		{"encoded name", `vector name "x{\"a\": \"b\"}" holds '{'`, false, get(r.CounterVec(`x{"a": "b"}`, "a"))},
		{"no keys", "vector x without tag keys", false, get(r.CounterVec("x"))},
		{"empty key", "vector x: tag key 1 is empty", false, get(r.CounterVec("x", "a", ""))},
		{"duplicate key", `vector x: tag key "a" is given twice`, false, get(r.TimerVec("x", "a", "b", "a"))},
		{"plain of another kind", "gauge{} is a Gauge, not a Counter", true, get(r.CounterVec("gauge", "a"))},
		{"tagged of another kind", "counter is a Counter, not a Histogram", true, get(r.HistogramVec("counter", "a"))},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) || errors.Is(tc.err, ErrWrongKind) != tc.kind {
			t.Errorf("%s: %v, want an error containing %s (ErrWrongKind %v)", tc.name, tc.err, tc.want, tc.kind)
		}
	}
	if r.Len() != 2 {
		t.Errorf("failed vectors registered metrics: Len %d", r.Len())
	}
}

// TestVecWrongValues checks the documented error path of With: a metric
// that is not reported, an error from Get, and a *ValuesError at the end of
// the interval.
func TestVecWrongValues(t *testing.T) {
	r := NewRegistry()
	v, _ := r.CounterVec("reqs", "method", "code")
	c := v.With("GET")
	c.Inc()
	v.With("GET", "200", "x").Inc()
	if c == nil || r.Len() != 0 {
		t.Fatalf("With with the wrong values: %v, Len %d", c, r.Len())
	}
	if _, err := v.Get("GET"); err == nil || err.Error() != "metrics: reqs: 1 tag values, want 2 (method, code)" {
		t.Errorf("Get: %v", err)
	}
	if v.Delete("GET") {
		t.Error("Delete with the wrong values returned true")
	}
	st := r.EndInterval()
	var ve *ValuesError
	if len(st.Errors) != 1 || !errors.As(st.Errors[0], &ve) || ve.Calls != 2 || ve.Got != 3 {
		t.Fatalf("EndInterval: %+v", st)
	}
	if want := "metrics: reqs: 2 calls of With with 3 tag values, want 2 (method, code): their updates were not recorded"; ve.Error() != want {
		t.Errorf("error %q, want %q", ve.Error(), want)
	}
	if st := r.EndInterval(); len(st.Errors) != 0 {
		t.Errorf("the next interval repeats the error: %v", st.Errors)
	}
}

func TestVecDelete(t *testing.T) {
	r := NewRegistry()
	v, _ := r.GaugeVec("temp", "room")
	a := v.With("a")
	a.Set(1)
	v.With("b").Set(2)
	if !v.Delete("a") || v.Delete("a") || r.Len() != 1 {
		t.Fatalf("Delete: Len %d", r.Len())
	}
	if fresh := v.With("a"); fresh == a || fresh.Value() != 0 {
		t.Errorf("With after Delete returned the old gauge or its value")
	}
}

// TestVecAllocs checks that a hit allocates nothing, for 2 and 5 tags,
// and that a miss allocates only the new series.
func TestVecAllocs(t *testing.T) {
	r := NewRegistry()
	v2, _ := r.CounterVec("two", "method", "code")
	v5, _ := r.TimerVec("five", "route", "method", "code", "region", "host")
	v2.With("GET", "200")
	v5.With("/api/v1/users", "GET", "200", "eu-west-1", "web-0001")
	for range 10 { // publish
		v2.With("GET", "200")
		v5.With("/api/v1/users", "GET", "200", "eu-west-1", "web-0001")
	}
	long := strings.Repeat("/api/v1/users", 10) // 130 bytes: past With's small buffer
	v2.With(long, "200")
	v2.With(long, "200")
	if n := testing.AllocsPerRun(1000, func() {
		v2.With("GET", "200").Inc()
		v2.With(long, "200").Inc()
		v5.With("/api/v1/users", "GET", "200", "eu-west-1", "web-0001").Update(1)
	}); n != 0 {
		t.Errorf("hits: %v allocations, want 0", n)
	}
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		i++
		v2.With("GET", fmt.Sprint(1000+i)).Inc()
	}); n > 6 {
		t.Errorf("misses: %v allocations per new series, want at most 6", n)
	} else {
		t.Logf("a miss: %v allocations (the value's string, the counter with its entry, the registry's key and the vector's; the maps' growth)", n)
	}
}

// TestVecForgetsRemoved checks that a series removed through any path (a
// getter's Unregister, another vector's Delete, escaped values) is no
// longer returned by a vector that had looked it up.
func TestVecForgetsRemoved(t *testing.T) {
	r := NewRegistry()
	a, _ := r.CounterVec("reqs", "method", "code")
	b, _ := r.CounterVec("reqs", "code", "method")
	for _, vals := range [][2]string{{"GET", "200"}, {`q"uote`, "\n"}} {
		for range 3 { // into both vectors' published indexes
			a.With(vals[0], vals[1])
			b.With(vals[1], vals[0])
		}
		old := a.With(vals[0], vals[1])
		if !r.Unregister("reqs", map[string]string{"method": vals[0], "code": vals[1]}) {
			t.Fatal("Unregister")
		}
		if a.With(vals[0], vals[1]) == old || b.With(vals[1], vals[0]) == old {
			t.Errorf("%q: a vector returned the unregistered counter", vals)
		}
		fresh := a.With(vals[0], vals[1])
		if !b.Delete(vals[1], vals[0]) {
			t.Fatal("Delete")
		}
		if a.With(vals[0], vals[1]) == fresh {
			t.Errorf("%q: a vector returned the counter the other deleted", vals)
		}
	}
	// A series with other keys is not one of the vectors'.
	r.CounterWith("reqs", map[string]string{"method": "GET"})
	if !r.Unregister("reqs", map[string]string{"method": "GET"}) {
		t.Error("Unregister of a series with other keys")
	}
}

// TestVecConcurrentOverflowKeepsSums has goroutines update a vector of 100
// series under a limit of 50 while another walks the registry: the counts
// of all the series, the overflow series included, add up to the updates.
func TestVecConcurrentOverflowKeepsSums(t *testing.T) {
	const goroutines, perG, series, limit = 8, 4000, 100, 50
	r := NewRegistry()
	v, _ := r.CounterVec("reqs", "path")
	v.SetSeriesLimit(limit)
	stop := make(chan struct{})
	walked := make(chan struct{})
	go func() {
		defer close(walked)
		for {
			select {
			case <-stop:
				return
			default:
			}
			r.Walk(func(string, Tags, any) {})
		}
	}()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				v.With(fmt.Sprint((g*7 + i) % series)).Inc()
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-walked
	var total int64
	n, overflow := 0, false
	r.Walk(func(_ string, tags Tags, m any) {
		n++
		total += m.(*Counter).Count()
		if v, _ := tags.Get(OverflowTag); v == "true" {
			overflow = true
		}
	})
	if total != goroutines*perG || n != limit+1 || !overflow {
		t.Errorf("%d series (overflow %v) counting %d, want %d series and the overflow counting %d", n, overflow, total, limit, goroutines*perG)
	}
	st := r.EndInterval()
	var le *LimitError
	if len(st.Errors) != 1 || !errors.As(st.Errors[0], &le) || le.Metric != "reqs" || le.Limit != limit || st.Overflowed != le.Overflowed || le.Overflowed == 0 {
		t.Errorf("EndInterval: %+v", st)
	}
}
