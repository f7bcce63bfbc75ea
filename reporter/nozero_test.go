package reporter

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/metrics"
)

// TestNoFalseZeros follows a timer, a histogram and a meter through
// intervals without values: the first one, one in the middle, and the one
// Stop's final report ends. An interval without values sends count and sum
// (and a timer's rates) but no avg, min, max, std_dev or percentile: never
// a zero standing for "nothing". A meter's rates keep decaying as Coda
// Hale's do (exactly: e^-1 of the 1-minute rate after an idle minute).
func TestNoFalseZeros(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func() { mu.Lock(); now = now.Add(time.Minute); mu.Unlock() }
	reg := metrics.NewRegistry(metrics.WithClock(clock))
	tm, _ := reg.Timer("latency")
	h, _ := reg.Histogram("size")
	m, _ := reg.Meter("logins")
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(clock))

	type points map[string]float64 // name -> value, of one report
	report := func(stop bool) points {
		t.Helper()
		before := len(srv.Points())
		if stop {
			if err := r.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		} else {
			mustReport(t, r)
		}
		got := points{}
		for _, p := range withoutMeta(srv.Points()[before:], "") {
			got[p.Metric] = p.Value
		}
		return got
	}
	// idle is what a report without new values sends: tm timer values of
	// 0.25 s, hs histogram values of 3 and ms logins so far, mean = 1 over
	// the seconds since the metrics were made, and the meter's moving
	// rates (the timer's are those of its one event, a 60th).
	idle := func(tm, hs, ms, mean float64, r1, r5, r15 float64) points {
		return points{
			"latency.count": tm, "latency.sum": tm * 0.25,
			"latency.mean_rate": tm * mean, "latency.1m_rate": tm * r1 / 60, "latency.5m_rate": tm * r5 / 60, "latency.15m_rate": tm * r15 / 60,
			"size.count": hs, "size.sum": hs * 3,
			"logins.count": ms, "logins.mean_rate": ms * mean, "logins.1m_rate": r1, "logins.5m_rate": r5, "logins.15m_rate": r15,
		}
	}
	full := func() points {
		p := idle(1, 1, 60, 1.0/60, 1, 1, 1)
		for _, f := range []string{"min", "max", "avg", "50_percentile", "75_percentile", "95_percentile", "99_percentile", "999_percentile"} {
			p["latency."+f] = 0.25
			p["size."+f] = 3
		}
		p["latency.std_dev"], p["size.std_dev"] = 0, 0
		return p
	}
	e := math.Exp
	steps := []struct {
		name string
		do   func()
		stop bool
		want points
	}{
		{"idle first interval", func() {}, false, idle(0, 0, 0, 0, 0, 0, 0)},
		{"values", func() {
			tm.Update(250 * time.Millisecond)
			h.Update(3)
			m.Mark(60) // spread over the minute: 1 a second
			advance()
		}, false, full()},
		{"idle middle interval", advance, false, idle(1, 1, 60, 1.0/120, e(-1), e(-60.0/300), e(-60.0/900))},
		{"idle interval ended by Stop", advance, true, idle(1, 1, 60, 1.0/180, e(-2), e(-120.0/300), e(-120.0/900))},
	}
	for _, s := range steps {
		s.do()
		got := report(s.stop)
		var names []string
		for n := range got {
			names = append(names, n)
		}
		var want []string
		for n := range s.want {
			want = append(want, n)
		}
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%s: points\n%q\nwant\n%q", s.name, names, want)
			continue
		}
		for n, w := range s.want {
			tol := 1e-9 * max(1, math.Abs(w))
			if n == "latency.50_percentile" || n == "latency.75_percentile" || n == "latency.95_percentile" ||
				n == "latency.99_percentile" || n == "latency.999_percentile" ||
				n == "size.50_percentile" || n == "size.75_percentile" || n == "size.95_percentile" ||
				n == "size.99_percentile" || n == "size.999_percentile" {
				tol = 0.00979 * w // the sketch's bound, clamped to [min, max] here
			}
			if v := got[n]; math.Abs(v-w) > tol {
				t.Errorf("%s: %s = %v, want %v", s.name, n, v, w)
			}
		}
	}
	// After Stop, nothing more is sent.
	n := len(srv.Points())
	advance()
	if err := r.ReportNow(context.Background()); err != ErrStopped || len(srv.Points()) != n {
		t.Errorf("after Stop: ReportNow %v, %d more points", err, len(srv.Points())-n)
	}
}
