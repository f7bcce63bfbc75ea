package reporter

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The expvar variables of these tests: expvar has one global namespace,
// and publishing a name twice panics, so they are published once.
var (
	expvarOnce sync.Once
	evInt      *expvar.Int
	evMap      *expvar.Map
	evEmptyKey *expvar.Map // gets an empty key only during the tests that want it
)

type customVar string

func (v customVar) String() string { return string(v) }

func publishTestVars() {
	expvarOnce.Do(func() {
		evInt = expvar.NewInt("reportertest.int")
		expvar.NewFloat("reportertest.float").Set(1.5)
		expvar.NewString("reportertest.string").Set("skipped")
		evMap = expvar.NewMap("reportertest.map")
		evMap.AddFloat("b", 2.5)
		s := new(expvar.String)
		s.Set("x")
		evMap.Set("s", s)
		evMap.Set("f", expvar.Func(func() any { return uint16(7) }))
		nested := new(expvar.Map).Init()
		nested.Add("x", 3)
		deeper := new(expvar.Map).Init()
		deeper.Add("y", 4)
		nested.Set("deeper", deeper)
		evMap.Set("nested", nested)
		evMap.Set("custom", customVar(`{"p50": 0.25}`))
		expvar.Publish("reportertest.func.int", expvar.Func(func() any { return 11 }))
		expvar.Publish("reportertest.func.string", expvar.Func(func() any { return "no" }))
		expvar.Publish("reportertest.func.struct", expvar.Func(func() any {
			return struct {
				A int
				B struct{ C float64 }
				D []int
				E string
				F bool
			}{A: 5, B: struct{ C float64 }{C: 0.5}, D: []int{1, 2}, E: "e", F: true}
		}))
		expvar.Publish("reportertest.my var", customVar("12.5"))
		expvar.Publish("reportertest.bad json", customVar("{"))
		evEmptyKey = expvar.NewMap("reportertest.emptykey")
		loop := expvar.NewMap("reportertest.loop")
		loop.Add("v", 1)
		loop.Set("self", loop) // read 8 levels deep, then left out
	})
	// Back to the values the tests expect (-count runs them again).
	evInt.Set(42)
	a := new(expvar.Int)
	a.Set(1)
	evMap.Set("a", a)
}

// expvarPoints collects src once and returns its points named
// reportertest.* (and memstats.*) as "name{tags} value" lines.
func expvarPoints(t *testing.T, src Source) ([]string, error) {
	t.Helper()
	var out []string
	err := src.Collect(context.Background(), func(name string, tags map[string]string, v float64) {
		if strings.HasPrefix(name, "reportertest.") || strings.HasPrefix(name, "x.") || strings.HasPrefix(name, "memstats.") || strings.HasPrefix(name, "cmdline") {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(tags)) {
				kv = append(kv, k+"="+tags[k])
			}
			out = append(out, fmt.Sprintf("%s{%s} %v", name, strings.Join(kv, ","), v))
		}
	})
	return out, err
}

// withEmptyKey gives reportertest.emptykey an empty key for the test.
func withEmptyKey(t *testing.T) {
	evEmptyKey.Add("", 1)
	t.Cleanup(func() { evEmptyKey.Delete("") })
}

func TestExpvarMapping(t *testing.T) {
	publishTestVars()
	withEmptyKey(t)
	got, err := expvarPoints(t, Expvar())
	if err != nil {
		t.Fatal(err)
	}
	// "self" sorts before "v": the deepest map comes first.
	loop := []string{}
	path := "reportertest.loop"
	for range expvarMaxDepth {
		loop = append([]string{path + "{key=v} 1"}, loop...)
		path += ".self"
	}
	want := append([]string{
		"reportertest.emptykey{key=} 1",
		"reportertest.float{} 1.5",
		"reportertest.func.int{} 11",
		"reportertest.func.struct.A{} 5",
		"reportertest.func.struct.B.C{} 0.5",
		"reportertest.int{} 42",
	}, loop...)
	want = append(want,
		"reportertest.map{key=a} 1",
		"reportertest.map{key=b} 2.5",
		"reportertest.map.p50{key=custom} 0.25", // an object's members join the name
		"reportertest.map{key=f} 7",
		"reportertest.map.nested.deeper{key=y} 4",
		"reportertest.map.nested{key=x} 3",
		"reportertest.my_var{} 12.5",
	)
	if !slices.Equal(got, want) {
		t.Errorf("points\n got %q\nwant %q", got, want)
	}
	for _, p := range got {
		if strings.HasPrefix(p, "memstats.") || strings.HasPrefix(p, "cmdline") {
			t.Errorf("%s sent by default", p)
		}
	}
}

func TestExpvarOptions(t *testing.T) {
	publishTestVars()
	got, err := expvarPoints(t, Expvar(ExpvarMapTag("field"), ExpvarSkip("reportertest.loop")))
	if err != nil {
		t.Fatal(err)
	}
	var memstats int
	for _, p := range got {
		switch {
		case strings.HasPrefix(p, "memstats."):
			memstats++
		case strings.HasPrefix(p, "reportertest.loop"):
			t.Errorf("%s: skipped variable sent", p)
		}
	}
	if memstats == 0 {
		t.Errorf("ExpvarSkip without memstats sent no memstats fields: %q", got)
	}
	if !slices.Contains(got, "reportertest.map{field=a} 1") {
		t.Errorf("map tag not renamed: %q", got)
	}
	// memstats is read when not skipped; only its numbers.
	got, err = expvarPoints(t, Expvar(ExpvarSkip()))
	if err != nil {
		t.Fatal(err)
	}
	var heap, pause bool
	for _, p := range got {
		heap = heap || strings.HasPrefix(p, "memstats.HeapAlloc{} ")
		pause = pause || strings.HasPrefix(p, "memstats.PauseNs")
		if strings.HasPrefix(p, "cmdline") {
			t.Errorf("cmdline holds strings, sent %s", p)
		}
	}
	if !heap || pause {
		t.Errorf("memstats: HeapAlloc sent %v (want true), PauseNs sent %v (want false): %q", heap, pause, got)
	}
}

// An invalid option makes every Collect fail, naming it; through a
// reporter it is a *SourceError.
func TestExpvarBadOption(t *testing.T) {
	clearEnv(t)
	for _, tt := range []struct {
		opt  ExpvarOption
		want string
	}{
		{ExpvarMapTag("a b"), `reporter: Expvar: ExpvarMapTag("a b"): tag key "a b" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`},
		{ExpvarMapTag(""), `reporter: Expvar: ExpvarMapTag(""): tag key is empty`},
		{nil, `reporter: Expvar: nil option`},
	} {
		pts, err := expvarPoints(t, Expvar(tt.opt))
		if err == nil || err.Error() != tt.want || len(pts) != 0 {
			t.Errorf("Collect = %v, %q; want %q and no points", err, pts, tt.want)
		}
	}
	srv := newServer(t)
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(Expvar(ExpvarMapTag(""))))
	err := r.ReportNow(context.Background())
	var se *SourceError
	if !errors.As(err, &se) || se.Index != 0 || !strings.Contains(err.Error(), "reporter: source 0 (expvar): reporter: Expvar: ExpvarMapTag") {
		t.Fatalf("ReportNow = %v, want a *SourceError", err)
	}
}

// Through a reporter: the empty map key is a MetricError, the rest sent
// with the reporter's tags; values follow the variables between reports.
func TestExpvarThroughReporter(t *testing.T) {
	clearEnv(t)
	publishTestVars()
	withEmptyKey(t)
	srv := newServer(t)
	var errs []error
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(Expvar(ExpvarSkip("memstats", "cmdline", "reportertest.loop"))),
		WithClock(steppingClock(t0)), WithErrorHandler(func(err error) { errs = append(errs, err) }))
	evInt.Set(1)
	r.ReportNow(context.Background())
	evInt.Set(2)
	r.ReportNow(context.Background())
	var got []float64
	for _, p := range pointsOf(srv.Points(), "reportertest.int") {
		got = append(got, p.Value)
		if p.Tags["host"] != "testhost" || len(p.Tags) != 1 {
			t.Errorf("tags %v", p.Tags)
		}
	}
	if !slices.Equal(got, []float64{1, 2}) {
		t.Errorf("reportertest.int sent %v, want [1 2]", got)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	var me *MetricError
	if !errors.As(errs[0], &me) || me.Metric != "reportertest.emptykey" || !strings.Contains(me.Error(), `tag "key" has an empty value`) {
		t.Errorf("err %v, want a MetricError for reportertest.emptykey", errs[0])
	}
}

// Reading integers, floats and maps of them allocates nothing once their
// names are known, while other goroutines update them (run with -race).
func TestExpvarSteadyStateAllocsAndRace(t *testing.T) {
	publishTestVars()
	src := Expvar(ExpvarSkip("memstats", "cmdline", "reportertest.func.struct", "reportertest.my var", "reportertest.bad json", "reportertest.map", "reportertest.loop"))
	var sum float64
	emit := func(name string, tags map[string]string, v float64) { sum += v }
	src.Collect(context.Background(), emit)
	if n := testing.AllocsPerRun(20, func() { src.Collect(context.Background(), emit) }); n != 0 {
		t.Errorf("Collect: %v allocations in steady state, want 0", n)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				evInt.Add(1)
				evMap.Add("a", 1)
			}
		}
	}()
	shared := Expvar()
	var rwg sync.WaitGroup
	for range 2 { // one source shared by two reporters
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for range 20 {
				shared.Collect(context.Background(), func(string, map[string]string, float64) {})
			}
		}()
	}
	rwg.Wait()
	close(stop)
	wg.Wait()
}
