package gometricsbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	metrics "github.com/rcrowley/go-metrics"
)

func collect(t *testing.T, s *Source) (map[string]float64, error) {
	t.Helper()
	out := make(map[string]float64)
	err := s.Collect(context.Background(), func(name string, tags map[string]string, v float64) {
		k := name
		if len(tags) > 0 {
			var kv []string
			for _, tk := range slices.Sorted(maps.Keys(tags)) {
				kv = append(kv, tk+"="+tags[tk])
			}
			k += "{" + strings.Join(kv, ",") + "}"
		}
		if _, dup := out[k]; dup {
			t.Errorf("%s emitted twice", k)
		}
		out[k] = v
	})
	return out, err
}

func mustNew(t *testing.T, r Registry, opts ...Option) *Source {
	t.Helper()
	s, err := New(r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixedMeter is a Meter whose rates are known.
type fixedMeter struct{ count int64 }

func (m fixedMeter) Count() int64            { return m.count }
func (fixedMeter) Mark(int64)                {}
func (fixedMeter) Rate1() float64            { return 1.5 }
func (fixedMeter) Rate5() float64            { return 2.5 }
func (fixedMeter) Rate15() float64           { return 3.5 }
func (fixedMeter) RateMean() float64         { return 0.25 }
func (m fixedMeter) Snapshot() metrics.Meter { return m }
func (fixedMeter) Stop()                     {}

// fixedTimer is a Timer with known rates over a real histogram of
// durations.
type fixedTimer struct {
	metrics.Histogram
	fixedMeter
}

func (t fixedTimer) Count() int64                      { return t.Histogram.Count() }
func (t fixedTimer) Snapshot() metrics.Timer           { return t }
func (t fixedTimer) Time(f func())                     { f() }
func (t fixedTimer) Update(d time.Duration)            { t.Histogram.Update(int64(d)) }
func (t fixedTimer) UpdateSince(ts time.Time)          { t.Update(time.Since(ts)) }
func (t fixedTimer) Mark(int64)                        {}
func (t fixedTimer) Stop()                             {}
func (t fixedTimer) Sample() metrics.Sample            { return t.Histogram.Sample() }
func (t fixedTimer) Percentiles(p []float64) []float64 { return t.Histogram.Percentiles(p) }

// TestEveryKind maps every go-metrics kind, with exact names and values.
func TestEveryKind(t *testing.T) {
	r := metrics.NewRegistry()
	metrics.GetOrRegisterCounter("jobs.done", r).Inc(5)
	metrics.GetOrRegisterGauge("queue.depth", r).Update(42)
	metrics.GetOrRegisterGaugeFloat64("load", r).Update(2.5)
	r.Register("temp", metrics.NewFunctionalGaugeFloat64(func() float64 { return -1.25 }))
	h := metrics.NewHistogram(metrics.NewUniformSample(100))
	for v := int64(1); v <= 10; v++ {
		h.Update(v)
	}
	r.Register("batch.size", h)
	r.Register("requests", fixedMeter{count: 7})
	tm := fixedTimer{Histogram: metrics.NewHistogram(metrics.NewUniformSample(100))}
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second} {
		tm.Update(d)
	}
	r.Register("db.query", tm)
	r.Register("db.ping", metrics.NewHealthcheck(func(metrics.Healthcheck) {})) // skipped
	r.Register("ewma", metrics.NewEWMA1())                                      // skipped
	r.Register("weird name:x", metrics.NewCounter())

	got, err := collect(t, mustNew(t, r))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"jobs.done.count":    5,
		"queue.depth.value":  42,
		"load.value":         2.5,
		"temp.value":         -1.25,
		"weird_name_x.count": 0,

		"batch.size.count": 10, "batch.size.min": 1, "batch.size.max": 10, "batch.size.avg": 5.5,
		"batch.size.std_dev": math.Sqrt(8.25),
		// go-metrics interpolates at p*(n+1) in the sorted sample
		"batch.size.50_percentile": 5.5, "batch.size.75_percentile": 8.25, "batch.size.95_percentile": 10,
		"batch.size.99_percentile": 10, "batch.size.999_percentile": 10,

		"requests.count": 7, "requests.mean_rate": 0.25, "requests.1m_rate": 1.5, "requests.5m_rate": 2.5,
		"requests.15m_rate": 3.5,

		// nanoseconds become seconds; rates stay per second
		"db.query.count": 4, "db.query.min": 1, "db.query.max": 4, "db.query.avg": 2.5,
		"db.query.std_dev":       math.Sqrt(1.25e18) / 1e9,
		"db.query.50_percentile": 2.5, "db.query.75_percentile": 3.75, "db.query.95_percentile": 4,
		"db.query.99_percentile": 4, "db.query.999_percentile": 4,
		"db.query.mean_rate": 0.25, "db.query.1m_rate": 1.5, "db.query.5m_rate": 2.5, "db.query.15m_rate": 3.5,
	}
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s = %v, want %v", k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s = %v", k, got[k])
			}
		}
	}
}

// TestRealTimer: a go-metrics StandardTimer's durations arrive in seconds
// and its mean rate is its count over its age.
func TestRealTimer(t *testing.T) {
	r := metrics.NewRegistry()
	start := time.Now() // before the timer's own start: 2/age is a lower bound of its mean rate
	tm := metrics.NewTimer()
	defer tm.Stop()
	tm.Update(250 * time.Millisecond)
	tm.Update(750 * time.Millisecond)
	r.Register("op", tm)
	got, err := collect(t, mustNew(t, r))
	age := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]float64{"op.count": 2, "op.min": 0.25, "op.max": 0.75, "op.avg": 0.5, "op.std_dev": 0.25,
		"op.50_percentile": 0.5} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if mr := got["op.mean_rate"]; !(mr >= 2/age) {
		t.Errorf("op.mean_rate = %v, want at least 2/%vs", mr, age)
	}
	if len(got) != len(timerFields) {
		t.Errorf("%d fields, want %d: %v", len(got), len(timerFields), got)
	}
}

func TestWithTags(t *testing.T) {
	r := metrics.NewRegistry()
	metrics.GetOrRegisterCounter("c", r).Inc(1)
	tags := map[string]string{"cluster": "eu-1"}
	s := mustNew(t, r, WithTags(tags))
	tags["cluster"] = "changed" // copied
	got, err := collect(t, s)
	if err != nil || len(got) != 1 || got["c.count{cluster=eu-1}"] != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []map[string]string{{"": "x"}, {"k": ""}} {
		if _, err := New(r, WithTags(bad)); err == nil {
			t.Errorf("WithTags(%v) accepted", bad)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
}

// TestReRegistered: a name re-registered as another kind gets that kind's
// fields; names of metrics that went away are forgotten.
func TestReRegistered(t *testing.T) {
	r := metrics.NewRegistry()
	r.Register("x", metrics.NewCounter())
	s := mustNew(t, r)
	if got, _ := collect(t, s); len(got) != 1 || got["x.count"] != 0 {
		t.Fatalf("got %v", got)
	}
	r.Unregister("x")
	g := metrics.NewGauge()
	g.Update(3)
	r.Register("x", g)
	if got, _ := collect(t, s); len(got) != 1 || got["x.value"] != 3 {
		t.Fatalf("got %v", got)
	}
	r.UnregisterAll()
	for i := range 100 {
		r.Register(fmt.Sprint("m", i), metrics.NewCounter())
	}
	collect(t, s)
	r.UnregisterAll()
	r.Register("last", metrics.NewCounter())
	collect(t, s)
	if len(s.names) > 2+16 {
		t.Fatalf("%d names cached for a registry of 1", len(s.names))
	}
}

func TestCollectHonoursContext(t *testing.T) {
	r := metrics.NewRegistry()
	for i := range 10 {
		r.Register(fmt.Sprint("m", i), metrics.NewCounter())
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := mustNew(t, r).Collect(ctx, func(string, map[string]string, float64) {
		n++
		cancel()
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("Collect: %v after %d points; want context.Canceled after 1", err, n)
	}
}

// TestSteadyStateAllocs: for counters and gauges, Collect allocates what
// go-metrics' Each does (one copy of the registry's list) and a constant
// few (its callback's closure), however many metrics there are.
func TestSteadyStateAllocs(t *testing.T) {
	for _, n := range []int{10, 1000} {
		r := metrics.NewRegistry()
		for i := range n {
			metrics.GetOrRegisterCounter(fmt.Sprint("c", i), r).Inc(1)
			metrics.GetOrRegisterGaugeFloat64(fmt.Sprint("g", i), r).Update(1)
		}
		s := mustNew(t, r)
		ctx := context.Background()
		emit := func(string, map[string]string, float64) {}
		_ = s.Collect(ctx, emit)
		each := testing.AllocsPerRun(20, func() { r.Each(func(string, interface{}) {}) })
		if got := testing.AllocsPerRun(20, func() { _ = s.Collect(ctx, emit) }); got > each+4 {
			t.Errorf("%d metrics: Collect allocates %v times, Each alone %v", 2*n, got, each)
		}
	}
}
