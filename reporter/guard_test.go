package reporter

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// seriesOf returns the points named name, as "tag=value:value" strings of
// the tag key, sorted.
func seriesOf(pts []apptuit.DataPoint, name, key string) []string {
	var out []string
	for _, p := range pts {
		if p.Metric == name {
			k := key
			if v, ok := p.Tags[metrics.OverflowTag]; ok {
				k, p.Tags[key] = metrics.OverflowTag, v
			}
			out = append(out, k+"="+p.Tags[key]+":"+strconv.FormatFloat(p.Value, 'g', -1, 64))
		}
	}
	slices.Sort(out)
	return out
}

// TestRegistryOverflowReported: past a vector's series limit, lookups go to
// the overflow series, whose count keeps the metric's sum right; the error
// handler gets one *metrics.LimitError per report in which it happened,
// and the meta counter counts the lookups from the next report on.
func TestRegistryOverflowReported(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	reqs, _ := reg.CounterVec("reqs", "path")
	reqs.SetSeriesLimit(3)
	var errs []error
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)),
		WithErrorHandler(func(err error) { errs = append(errs, err) }))
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e", "/d"} {
		reqs.With(p).Inc()
	}
	r.ReportNow(context.Background())
	if got, want := seriesOf(srv.Points(), "reqs.count", "path"), []string{"overflow=true:3", "path=/a:1", "path=/b:1", "path=/c:1"}; !slices.Equal(got, want) {
		t.Errorf("points %q, want %q", got, want)
	}
	var le *metrics.LimitError
	if len(errs) != 1 || !errors.As(errs[0], &le) || le.Metric != "reqs" || le.Limit != 3 || le.Overflowed != 3 {
		t.Fatalf("handler got %v, want one LimitError for reqs, limit 3, 3 lookups", errs)
	}
	if want := "metrics: reqs reached its limit of 3 series: 3 more went to its series tagged overflow=true (raise the limit with metrics.WithSeriesLimit, or a vector's SetSeriesLimit)"; le.Error() != want {
		t.Errorf("message %q, want %q", le.Error(), want)
	}
	n := len(srv.Points())
	reqs.With("/a").Inc()
	if err := r.ReportNow(context.Background()); err != nil {
		t.Errorf("a report without overflow: %v", err)
	}
	if v := value(t, srv.Points()[n:], MetaOverflowed+".count", t0.Unix()+1); v != 3 {
		t.Errorf("%s = %v, want 3", MetaOverflowed, v)
	}
}

// TestSourceOverflow: a source's new series past the limit are added up
// into one overflow point per metric name and report; the series kept are
// those of earlier reports, whatever the order they come in.
func TestSourceOverflow(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	order := []int{1, 2, 3, 4, 5}
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		for _, i := range order {
			emit("src", map[string]string{"i": strconv.Itoa(i)}, float64(i))
		}
		emit("other", map[string]string{"i": "1"}, 1)
		return nil
	})
	var errs []error
	r := newReporter(t, newClient(t, srv.URL()), metrics.NewRegistry(metrics.WithSeriesLimit(3)), WithSource(src), WithPrefix("p."),
		WithClock(steppingClock(t0)), WithErrorHandler(func(err error) { errs = append(errs, err) }))
	want := []string{"i=1:1", "i=2:2", "i=3:3", "overflow=true:9"}
	for report := range 3 {
		errs = nil
		n := len(srv.Points())
		r.ReportNow(context.Background())
		pts := srv.Points()[n:]
		if got := seriesOf(pts, "p.src", "i"); !slices.Equal(got, want) {
			t.Errorf("report %d: %q, want %q", report, got, want)
		}
		if got := seriesOf(pts, "p.other", "i"); !slices.Equal(got, []string{"i=1:1"}) {
			t.Errorf("report %d: other %q", report, got)
		}
		var le *metrics.LimitError
		if len(errs) != 1 || !errors.As(errs[0], &le) || le.Metric != "p.src" || le.Limit != 3 || le.Overflowed != 2 || le.Option != "metrics.WithSeriesLimit (of the registry given to reporter.New)" {
			t.Errorf("report %d: handler got %v", report, errs)
		}
		if report > 0 {
			if v := value(t, pts, "p."+MetaOverflowed+".count", t0.Unix()+int64(report)); v != float64(2*report) {
				t.Errorf("report %d: overflowed %v, want %d", report, v, 2*report)
			}
		}
		slices.Reverse(order) // the series kept stay kept
	}
	if c := r.sources[0]; len(c.cache) != 4 || c.names["src"].n != 3 {
		t.Errorf("cache %d series, src %d; want 4 and 3", len(c.cache), c.names["src"].n)
	}
}

// TestSourceExplosionBounded: a source whose tag takes a new value at every
// point keeps at most the limit of series per name in the reporter, while
// the overflow point adds them all up. (The series of a report keep their
// place in the next, so when all are new every report, every other report
// sends them all to the overflow series.)
func TestSourceExplosionBounded(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	next := 0
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		for range 100_000 {
			next++
			emit("req", map[string]string{"id": strconv.Itoa(next)}, 1)
		}
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(src), WithClock(steppingClock(t0)),
		WithErrorHandler(func(error) {}))
	for report := range 3 {
		n := len(srv.Points())
		r.ReportNow(context.Background())
		var sum float64
		series := 0
		for _, p := range srv.Points()[n:] {
			if p.Metric == "req" {
				sum += p.Value
				series++
			}
		}
		want := metrics.DefaultSeriesLimit + 1
		if report%2 == 1 {
			want = 1
		}
		if sum != 100_000 || series != want {
			t.Errorf("report %d: %d series summing to %v, want %d and 100000", report, series, sum, want)
		}
		if c := r.sources[0]; len(c.cache) > metrics.DefaultSeriesLimit {
			t.Errorf("report %d: the source's cache holds %d series", report, len(c.cache))
		}
	}
}
