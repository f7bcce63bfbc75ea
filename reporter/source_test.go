package reporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// pointsOf returns the points of srv named name, with their values.
func pointsOf(pts []apptuit.DataPoint, name string) []apptuit.DataPoint {
	var out []apptuit.DataPoint
	for _, p := range pts {
		if p.Metric == name {
			out = append(out, p)
		}
	}
	return out
}

// A reporter without a registry sends a source's points with the
// reporter's prefix, tags and timestamp; non-finite values are left out.
func TestSourceWithoutRegistry(t *testing.T) {
	clearEnv(t)
	t.Setenv("APPTUIT_TAGS", "env: prod, dc: env-dc, region: env-region")
	srv := newServer(t)
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		tags := map[string]string{"path": "/a", "region": "source"}
		emit("http.requests", tags, 3)
		tags["path"] = "/b" // the map is reused: the reporter copies what it keeps
		emit("http.requests", tags, 4)
		emit("queue.size", nil, 7)
		emit("nan", nil, math.NaN())
		emit("inf", nil, math.Inf(1))
		emit("host.override", map[string]string{"host": "source-host"}, 1)
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL(), apptuit.WithIgnoreEnvTags()), nil, WithSource(src), WithPrefix("svc."),
		WithTags(map[string]string{"dc": "reporter-dc", "region": "reporter-region"}))
	mustReport(t, r)
	got := withoutMeta(srv.Points(), "svc.")
	base := map[string]string{"env": "prod", "dc": "reporter-dc", "region": "reporter-region", "host": "testhost"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want := []struct {
		name string
		tags map[string]string
		v    float64
	}{
		{"svc.http.requests", with("path", "/a", "region", "source"), 3},
		{"svc.http.requests", with("path", "/b", "region", "source"), 4},
		{"svc.queue.size", base, 7},
		{"svc.host.override", with("host", "source-host"), 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		p := got[i]
		if p.Metric != w.name || !maps.Equal(p.Tags, w.tags) || p.Value != w.v || p.Timestamp.Unix() != t0.Unix() {
			t.Errorf("point %d = %v, want %s %v %v at %d", i, p, w.name, w.tags, w.v, t0.Unix())
		}
	}
	if n := len(srv.Points()) - len(got); n != firstMeta {
		t.Errorf("%d meta points, want %d", n, firstMeta)
	}
}

func TestNewRegistryAndSources(t *testing.T) {
	clearEnv(t)
	c := newClient(t, "http://127.0.0.1:1")
	nop := SourceFunc(func(context.Context, Emit) error { return nil })
	tests := []struct {
		name    string
		reg     *metrics.Registry
		opts    []Option
		wantErr string
	}{
		{"registry", metrics.NewRegistry(), nil, ""},
		{"source only", nil, []Option{WithSource(nop)}, ""},
		{"several sources", nil, []Option{WithSource(nop), WithSource(nop)}, ""},
		{"runtime only", nil, []Option{WithSource(RuntimeMetrics())}, ""},
		{"nothing", nil, nil, "reporter: nil registry and no source: give a registry, or sources with WithSource"},
		{"nil source", metrics.NewRegistry(), []Option{WithSource(nop), WithSource(nil)}, "reporter: nil source given to WithSource (source 1)"},
		{"nil option", metrics.NewRegistry(), []Option{nil}, "reporter: nil option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(c, tt.reg, append([]Option{WithHostTag("h")}, tt.opts...)...)
			if tt.wantErr == "" {
				if err != nil || r == nil {
					t.Fatalf("New = %v, %v", r, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("New err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// namedSource is a source with a name for SourceError.
type namedSource struct {
	name string
	fn   SourceFunc
}

func (s *namedSource) Collect(ctx context.Context, emit Emit) error { return s.fn(ctx, emit) }
func (s *namedSource) String() string                               { return s.name }

// A source's error reaches the handler as a *SourceError naming the
// source; the points it emitted, and those of the other sources, are sent.
func TestSourceErrorStillSends(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	errGather := errors.New("gather: partial")
	good := SourceFunc(func(ctx context.Context, emit Emit) error {
		emit("good", nil, 1)
		return nil
	})
	bad := &namedSource{"prometheus", func(ctx context.Context, emit Emit) error {
		emit("partial", nil, 2)
		return errGather
	}}
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	var handled []error
	r := newReporter(t, newClient(t, srv.URL()), reg, WithSource(good), WithSource(bad),
		WithErrorHandler(func(err error) { handled = append(handled, err) }))
	err := r.ReportNow(context.Background())
	var se *SourceError
	if !errors.As(err, &se) || se.Index != 1 || se.Source != Source(bad) || !errors.Is(err, errGather) {
		t.Fatalf("err = %#v, want a *SourceError of source 1 wrapping errGather", err)
	}
	if want := "reporter: source 1 (prometheus): gather: partial"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if len(handled) != 1 || handled[0] != err {
		t.Errorf("handler got %v, want the report's error once", handled)
	}
	if got, want := names(withoutMeta(srv.Points(), "")), []string{"c.count", "good", "partial"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	// The order: the registry's, then the sources' in the order given.
	var order []string
	for _, p := range withoutMeta(srv.Points(), "") {
		order = append(order, p.Metric)
	}
	if !slices.Equal(order, []string{"c.count", "good", "partial"}) {
		t.Errorf("order %q", order)
	}
	// A source without a String method is named by its type.
	if got := (&SourceError{Index: 0, Source: good, Err: errGather}).Error(); got != "reporter: source 0 (reporter.SourceFunc): gather: partial" {
		t.Errorf("Error() = %q", got)
	}
}

// A series a source emits that cannot be sent is left out and reported
// once per report, however many points it has; the others are sent.
func TestSourceInvalidSeriesOncePerReport(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	many := map[string]string{}
	for i := range 25 {
		many["k"+strconv.Itoa(i)] = "v"
	}
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		for i := range 3 {
			emit("bad name", nil, float64(i))
			emit("too.many", many, float64(i)) // 25 + host = 26 tags
			emit("empty.value", map[string]string{"k": ""}, float64(i))
			emit("ok", map[string]string{"i": strconv.Itoa(i)}, float64(i))
		}
		return nil
	})
	var handled []error
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(src), WithClock(steppingClock(t0)),
		WithErrorHandler(func(err error) { handled = append(handled, err) }))
	for range 2 {
		r.ReportNow(context.Background())
	}
	if len(handled) != 2 {
		t.Fatalf("%d errors handled, want 2", len(handled))
	}
	for _, err := range handled {
		j, ok := err.(interface{ Unwrap() []error })
		if !ok {
			t.Fatalf("err %T %v, want joined MetricErrors", err, err)
		}
		var msgs []string
		for _, e := range j.Unwrap() {
			var me *MetricError
			var ve *apptuit.ValidationError
			if !errors.As(e, &me) || !errors.As(e, &ve) {
				t.Fatalf("%T %v, want a *MetricError wrapping a *apptuit.ValidationError", e, e)
			}
			msgs = append(msgs, e.Error())
		}
		want := []string{
			`reporter: metric "bad name" not sent: metric name "bad name" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`,
			`reporter: metric "too.many" not sent: 26 tags after merging global tags, at most 25 are allowed`,
			`reporter: metric "empty.value" not sent: tag "k" has an empty value`,
		}
		if !slices.Equal(msgs, want) {
			t.Errorf("errors\n got %q\nwant %q", msgs, want)
		}
	}
	if got := pointsOf(srv.Points(), "ok"); len(got) != 6 {
		t.Errorf("%d ok points, want 6", len(got))
	}
}

// A report hands at most maxMetricErrors MetricErrors to the handler, then
// one error counting the rest.
func TestMetricErrorsCapped(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		for i := range maxMetricErrors + 5 {
			emit("bad name "+strconv.Itoa(i), nil, 1)
		}
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(src))
	err := r.ReportNow(context.Background())
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("err %v", err)
	}
	errs := j.Unwrap()
	if len(errs) != maxMetricErrors+1 || errs[maxMetricErrors].Error() != "reporter: 5 more metrics not sent (their errors are left out)" {
		t.Fatalf("%d errors, last %v", len(errs), errs[len(errs)-1])
	}
}

// A source's points go through the retry buffer like the registry's:
// after an outage every point arrives once.
func TestSourceOutageExactlyOnce(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var seq atomic.Int64
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		emit("seq", map[string]string{"src": "a"}, float64(seq.Load()))
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(src), WithClock(steppingClock(t0)))
	srv.FailNext(3, 503)
	for i := range 5 {
		seq.Store(int64(i))
		r.ReportNow(context.Background())
	}
	var got []float64
	for _, p := range pointsOf(srv.Points(), "seq") {
		got = append(got, p.Value)
		if p.Tags["src"] != "a" || p.Tags["host"] != "testhost" {
			t.Errorf("tags %v", p.Tags)
		}
	}
	if !slices.Equal(got, []float64{0, 1, 2, 3, 4}) {
		t.Errorf("seq arrived %v, want [0 1 2 3 4]", got)
	}
	if tot, ok, failed := r.total.Count(), r.successful.Count(), r.failed.Count(); tot != ok+failed || failed != 11+11+(11+20) { // the first report has 10 meta points, the next 19

		t.Errorf("total %d, successful %d, failed %d", tot, ok, failed)
	}
}

// The series a source stops emitting, and the metrics no longer in the
// registry, are forgotten by the next report.
func TestForgetsSeriesNotSeen(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var n atomic.Int64
	n.Store(100)
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		tags := map[string]string{}
		for i := range n.Load() {
			tags["i"] = strconv.Itoa(int(i))
			emit("s", tags, 1)
		}
		return nil
	})
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL()), reg, WithSource(src), WithClock(steppingClock(t0)))
	mustReport(t, r)
	if got := len(r.sources[0].cache); got != 100 {
		t.Fatalf("%d source series cached, want 100", got)
	}
	n.Store(10)
	mustReport(t, r)
	if got := len(r.sources[0].cache); got != 10 {
		t.Errorf("%d source series cached after the source emitted 10, want 10", got)
	}
	if got := len(pointsOf(srv.Points(), "s")); got != 110 {
		t.Errorf("%d points of s, want 110", got)
	}
	if got := len(r.registry.cache); got != 1 {
		t.Errorf("%d registry series cached, want 1", got)
	}
}

// A steady-state report of a source that reuses its tags map, and of a
// registry, allocates nothing per point: collecting a source is free of
// allocations, collecting a registry costs a few allocations (Walk's slice
// of the metrics) whatever their number, and a whole report (sends
// included) adds only the HTTP exchange's allocations per chunk of body.
func TestSteadyStateReportAllocs(t *testing.T) {
	clearEnv(t)
	sink := newDiscardSink(t)
	mkSource := func(n int) Source {
		tags := map[string]string{"shard": "", "kind": "x"}
		shards := make([]string, n)
		for i := range shards {
			shards[i] = strconv.Itoa(i)
		}
		return SourceFunc(func(ctx context.Context, emit Emit) error {
			for i := range n {
				tags["shard"] = shards[i]
				emit("src.value", tags, float64(i))
			}
			return nil
		})
	}
	mkRegistry := func(n int) *metrics.Registry {
		reg := metrics.NewRegistry(metrics.WithSeriesLimit(0)) // thousands of series per name, all measured
		for i := range n {
			c, _ := reg.CounterWith("reg.c"+strconv.Itoa(i%10), map[string]string{"shard": strconv.Itoa(i)})
			c.Inc()
		}
		return reg
	}
	type costs struct{ source, registry, report float64 }
	measure := func(n int) costs {
		r := newReporter(t, newClient(t, sink, apptuit.WithBatchSize(n)), mkRegistry(n), WithSource(mkSource(n)), WithClock(steppingClock(t0))) // the registry has no series limit: nor has the source
		mustReport(t, r)
		var re reportErrors
		var c costs
		b := &batcher{}
		c.source = testing.AllocsPerRun(5, func() {
			r.gen++
			b.pts = r.points[:0]
			r.sources[0].collect(context.Background(), b, &re, t0.UnixMilli(), r.gen)
			r.points = b.pts
		})
		if len(r.points) != n || len(re.errs) != 0 {
			t.Fatalf("%d points, errors %v", len(r.points), re.errs)
		}
		c.registry = testing.AllocsPerRun(5, func() {
			r.gen++
			b.pts = r.points[:0]
			r.registry.collect(r, b, &re, t0.UnixMilli(), r.gen)
			r.points = b.pts
		})
		c.report = testing.AllocsPerRun(5, func() { mustReport(t, r) })
		return c
	}
	small, large := measure(2000), measure(20000)
	t.Logf("allocations for 2,000 / 20,000 series: source %v / %v, registry %v / %v, report (both, 2 sends) %v / %v",
		small.source, large.source, small.registry, large.registry, small.report, large.report)
	if small.source != 0 || large.source != 0 {
		t.Errorf("collecting a source: %v and %v allocations, want 0", small.source, large.source)
	}
	// Walk's slice grows by appends: a few more for 10 times the metrics.
	if large.registry-small.registry > 12 {
		t.Errorf("collecting a registry: %v allocations for 2,000 metrics, %v for 20,000", small.registry, large.registry)
	}
	// The HTTP exchange allocates per 32 KiB chunk of the body (about 300
	// points), which is not the reporter's: an allocation per point would
	// be 1 here, not 0.05.
	if perPoint := (large.report - small.report) / (2 * (20000 - 2000)); perPoint > 0.05 {
		t.Errorf("a report: %v allocations for 4,000 points, %v for 40,000: %.5f per point, want none", small.report, large.report, perPoint)
	}
}

// Reports run while instrumented code updates what they read: the
// registry's metrics and a source over shared state. Run with -race.
func TestReportsConcurrentWithUpdates(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	var mu sync.Mutex
	state := map[string]float64{}
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		mu.Lock()
		defer mu.Unlock()
		tags := map[string]string{}
		for k, v := range state {
			tags["k"] = k
			emit("state", tags, v)
		}
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL()), reg, WithSource(src), WithInterval(5*time.Millisecond), WithClock(steppingClock(t0)))
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c, _ := reg.CounterWith("c", map[string]string{"g": strconv.Itoa(g), "i": strconv.Itoa(i % 50)})
				c.Inc()
				tm, _ := reg.Timer("t")
				tm.Update(time.Duration(i) * time.Microsecond)
				mu.Lock()
				state[strconv.Itoa(i%50)] = float64(i)
				mu.Unlock()
			}
		}()
	}
	for range 5 {
		if err := r.ReportNow(context.Background()); err != nil {
			t.Error(err)
		}
	}
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pointsOf(srv.Points(), "state")) == 0 || len(pointsOf(srv.Points(), "c.count")) == 0 {
		t.Errorf("no points: %q", names(srv.Points()))
	}
}

// Emit called after Collect returned (a misbehaving source) is ignored.
func TestEmitOutsideCollectIgnored(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var kept Emit
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		emit("a", nil, 1)
		kept = emit
		return nil
	})
	r := newReporter(t, newClient(t, srv.URL()), nil, WithSource(src))
	mustReport(t, r)
	kept("late", nil, 2)
	if got := names(withoutMeta(srv.Points(), "")); !slices.Equal(got, []string{"a"}) {
		t.Errorf("sent %q", got)
	}
}

// The key of a source's series tells apart names and tags that a naive
// concatenation would confuse.
func TestSourceKeyUnambiguous(t *testing.T) {
	c := &sourceCollector{}
	keys := map[string]string{}
	for _, tt := range []struct {
		name string
		tags map[string]string
	}{
		{"ab", nil},
		{"a", map[string]string{"b": ""}},
		{"a", map[string]string{"b": "c"}},
		{"a", map[string]string{"bc": ""}},
		{"a", map[string]string{"b": "", "c": ""}},
		{"a\x01b", nil},
	} {
		k := string(c.appendKey(nil, tt.name, tt.tags))
		desc := fmt.Sprint(tt.name, tt.tags)
		if prev, ok := keys[k]; ok {
			t.Errorf("%s and %s share a key", prev, desc)
		}
		keys[k] = desc
	}
	a := c.appendKey(nil, "m", map[string]string{"x": "1", "y": "2", "z": "3"})
	for range 20 { // map order varies; the key does not
		if b := c.appendKey(nil, "m", map[string]string{"z": "3", "y": "2", "x": "1"}); string(a) != string(b) {
			t.Fatal("the key depends on map order")
		}
	}
}

// A source's points are checked with the client's sanitizer and global
// tags, like the registry's.
func TestSourceSanitizerAndGlobalTags(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	client := newClient(t, srv.URL(), apptuit.WithSanitizer(apptuit.SanitizePrometheus), apptuit.WithGlobalTags(map[string]string{"dc": "global", "host": "global"}))
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		emit("http.requests-total", map[string]string{"status-code": "200"}, 5)
		return nil
	})
	r := newReporter(t, client, nil, WithSource(src))
	mustReport(t, r)
	p := pointsOf(srv.Points(), "http_requests_total")
	if want := map[string]string{"status_code": "200", "dc": "global", "host": "testhost"}; len(p) != 1 || !maps.Equal(p[0].Tags, want) {
		t.Fatalf("points %v, want tags %v; all %q", p, want, names(srv.Points()))
	}
}

// A Source that panics is not recovered: the panic reaches the caller of
// ReportNow once the batches already handed over are sent, and the
// reporter keeps working.
func TestSourcePanicPropagates(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var boom atomic.Bool
	boom.Store(true)
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		emit("before", nil, 1)
		if boom.Load() {
			panic("source bug")
		}
		return nil
	})
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL(), apptuit.WithBatchSize(1)), reg, WithSource(src), WithClock(steppingClock(t0)))
	func() {
		defer func() {
			if p := recover(); p != "source bug" {
				t.Fatalf("recovered %v, want the source's panic", p)
			}
		}()
		r.ReportNow(context.Background())
	}()
	// The batches handed over before the panic (one point each) were sent.
	if got := names(srv.Points()); !slices.Equal(got, []string{"before", "c.count"}) {
		t.Errorf("sent %q before the panic, want [before c.count]", got)
	}
	boom.Store(false)
	mustReport(t, r)
	if got := len(pointsOf(srv.Points(), "before")); got != 2 {
		t.Errorf("%d points of before, want 2", got)
	}
}

// Metrics registered between reports, before and among those already
// reported, are sent under their own names with their own values.
func TestRegistryGrowsBetweenReports(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	set := func(name string, v float64) {
		g, _ := reg.Gauge(name)
		g.Set(v)
	}
	set("m.b", 2)
	set("m.d", 4)
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	set("m.a", 1)
	set("m.c", 3)
	set("m.e", 5)
	mustReport(t, r)
	mustReport(t, r)
	for i, name := range []string{"m.a", "m.b", "m.c", "m.d", "m.e"} {
		pts := pointsOf(srv.Points(), name+".value")
		want := 3
		if name == "m.a" || name == "m.c" || name == "m.e" {
			want = 2
		}
		if len(pts) != want {
			t.Errorf("%s: %d points, want %d", name, len(pts), want)
		}
		for _, p := range pts {
			if p.Value != float64(i+1) {
				t.Errorf("%s = %v, want %d", name, p.Value, i+1)
			}
		}
	}
	if n := len(r.registry.order); n != 5 {
		t.Errorf("%d series in walk order, want 5", n)
	}
}

// A metric unregistered between reports is no longer sent and its cached
// series are forgotten; registered again (a new metric), it is sent anew.
func TestUnregisteredMetricForgotten(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	keep, _ := reg.Counter("keep")
	keep.Inc()
	tags := map[string]string{"k": "v"}
	gone, _ := reg.TimerWith("gone", tags)
	gone.Update(time.Millisecond)
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	if n := len(r.registry.cache); n != 2 {
		t.Fatalf("%d metrics cached, want 2", n)
	}
	if !reg.Unregister("gone", tags) {
		t.Fatal("Unregister found nothing")
	}
	mustReport(t, r)
	if _, ok := r.registry.cache[any(gone)]; ok || len(r.registry.cache) != 1 || len(r.registry.order) != 1 {
		t.Errorf("cache %d entries (gone still there: %v), order %d; want the unregistered timer forgotten", len(r.registry.cache), ok, len(r.registry.order))
	}
	again, _ := reg.TimerWith("gone", tags)
	again.Update(2 * time.Millisecond)
	mustReport(t, r)
	var counts []float64
	for _, p := range pointsOf(srv.Points(), "gone.count") {
		counts = append(counts, p.Value)
	}
	if !slices.Equal(counts, []float64{1, 1}) {
		t.Errorf("gone.count sent %v, want [1 1]: once before Unregister, once for the new timer", counts)
	}
	if n := len(pointsOf(srv.Points(), "keep.count")); n != 3 {
		t.Errorf("keep.count sent %d times, want 3", n)
	}
}
