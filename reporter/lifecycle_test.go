package reporter

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// A full buffer drops the oldest points and counts them.
func TestBufferOverflowDropsOldest(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	seq, _ := reg.Gauge("seq")
	// 11 points in the first report (seq + 10 meta: no send before it, so
	// the send timer has count, sum and rates only), 20 in the next ones
	// (seq + 19 meta); room for 2.5 reports.
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)), WithBufferSize(50))
	srv.FailNext(4, 503)
	for i := range 4 {
		seq.Set(float64(i))
		r.ReportNow(context.Background())
	}
	seq.Set(4)
	mustReport(t, r)
	var got []float64
	var stamps []int64
	for _, p := range srv.Points() {
		if p.Metric == "seq.value" {
			got = append(got, p.Value)
			stamps = append(stamps, p.Timestamp.Unix()-t0.Unix())
		}
	}
	// 11 + 3 x 20 points kept in 50: report 0 was dropped whole and
	// report 1 in part (its oldest 10 points, seq first among them).
	if !slices.Equal(got, []float64{2, 3, 4}) {
		t.Errorf("seq values arrived %v (at +%v s), want [2 3 4]", got, stamps)
	}
	if v := value(t, srv.Points(), "apptuit.reporter.send.dropped.count", t0.Unix()+4); v != 21 {
		t.Errorf("dropped %v, want 21", v)
	}
	if n := len(srv.Points()); n != 50+20 {
		t.Errorf("%d points arrived, want 70", n)
	}
}

// Stop sends what the buffer holds, then the final report, within its
// deadline; it is idempotent and ends the reporter.
func TestStopDeliversBuffered(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)), WithInterval(time.Hour))
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	srv.FailNext(3, 500)
	for range 3 {
		c.Inc()
		r.ReportNow(context.Background())
	}
	c.Inc()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	var got []float64
	for _, p := range srv.Points() {
		if p.Metric == "c.count" {
			got = append(got, p.Value)
		}
	}
	if !slices.Equal(got, []float64{1, 2, 3, 4}) {
		t.Fatalf("c.count arrived %v, want [1 2 3 4]", got)
	}
	start := time.Now()
	if err := r.Stop(ctx); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("second Stop: %v after %v", err, time.Since(start))
	}
	if err := r.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v", err)
	}
	if err := r.ReportNow(ctx); !errors.Is(err, ErrStopped) {
		t.Fatalf("ReportNow after Stop: %v", err)
	}
}

// Stop returns by its deadline even when the backend never answers, and
// counts what it could not send as dropped.
func TestStopBoundedByDeadline(t *testing.T) {
	clearEnv(t)
	before := runtime.NumGoroutine()
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL()), reg, WithInterval(10*time.Millisecond))
	srv.StallNext(100, time.Minute)
	r.Start()
	time.Sleep(50 * time.Millisecond) // a report is stuck in the stall
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Stop(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Stop took %v with a 200ms deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want the deadline", err)
	}
	if v := r.dropped.Count(); v != 11+20 {
		t.Errorf("dropped %d, want 31 (the stuck first report's 11 points and the final one's 20)", v)
	}
	srv.Close()
	checkNoLeak(t, before)
}

// Start reports every interval; Stop leaves no goroutine behind.
func TestStartStopNoLeak(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	before := runtime.NumGoroutine()
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	var now atomic.Int64
	now.Store(t0.Unix())
	r := newReporter(t, newClient(t, srv.URL()), reg, WithInterval(20*time.Millisecond),
		WithClock(func() time.Time { return time.Unix(now.Add(1), 0) }))
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(byName(srv.Points())["c.count"]) < 3 {
		c.Inc()
		if time.Now().After(deadline) {
			t.Fatal("fewer than 3 reports in 5s at a 20ms interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Reports never overlapped: timestamps strictly increase in arrival order.
	var last int64
	for _, p := range byName(srv.Points())["c.count"] {
		if p.Timestamp.Unix() <= last {
			t.Fatalf("timestamps out of order: %v", byName(srv.Points())["c.count"])
		}
		last = p.Timestamp.Unix()
	}
	newClient(t, srv.URL()) // keep-alive connections are the client's, closed by the server
	srv.Close()
	checkNoLeak(t, before)
}

// A stalled backend does not slow down the code updating metrics: the same
// updates take about as long while a report is stalled as without one
// (compared in the same test, so that a loaded machine or -race slows
// both).
func TestSlowBackendDoesNotBlockUpdates(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	tm, _ := reg.Timer("t")
	updates := func() time.Duration {
		start := time.Now()
		for range 100000 {
			c.Inc()
			tm.Update(time.Millisecond)
			reg.Counter("c") // lookups too
		}
		return time.Since(start)
	}
	baseline := updates()
	r := newReporter(t, newClient(t, srv.URL()), reg)
	srv.StallNext(1, 2*time.Second)
	done := make(chan error, 1)
	go func() { done <- r.ReportNow(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // the report is now stalled
	took := updates()
	select {
	case err := <-done:
		t.Fatalf("report finished (%v) before the updates: the stall did not hold", err)
	default:
	}
	if took > 3*baseline+200*time.Millisecond {
		t.Errorf("100,000 updates took %v while a report was stalled, %v without", took, baseline)
	}
	t.Logf("100,000 Inc+Update+lookup: %v during a stalled report, %v without", took, baseline)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// apptuit-py's test_reporter_thread_active: the loop goes on reporting
// while every send fails.
func TestLoopKeepsReportingOnErrors(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	srv.FailNext(1000, 503)
	reg := metrics.NewRegistry()
	var n atomic.Int32
	r := newReporter(t, newClient(t, srv.URL()), reg, WithInterval(20*time.Millisecond),
		WithErrorHandler(func(error) { n.Add(1) }))
	r.Start()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.Stop(ctx)
	if n.Load() < 2 || len(srv.Requests()) < 2 {
		t.Fatalf("%d failed reports, %d requests; want at least 2", n.Load(), len(srv.Requests()))
	}
}

func TestRuntimeMetrics(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	r := newReporter(t, newClient(t, srv.URL()), metrics.NewRegistry(), WithSource(RuntimeMetrics()), WithPrefix("svc."))
	runtime.GC()
	mustReport(t, r)
	pts := byName(srv.Points())
	want := []string{GoGoroutines, GoGCCycles, GoGCPauseTotalSeconds, GoHeapBytes, GoHeapObjects}
	if runtime.GOOS == "linux" {
		want = append(want, ProcessCPUUserSeconds, ProcessCPUSystemSecs, ProcessResidentBytes, ProcessOpenFDs)
	}
	for _, n := range want {
		p := pts["svc."+n]
		if len(p) != 1 {
			t.Errorf("%s: %d points", n, len(p))
			continue
		}
		if p[0].Value <= 0 && n != ProcessCPUSystemSecs {
			t.Errorf("%s = %v, want > 0", n, p[0].Value)
		}
		if p[0].Tags["host"] != "testhost" {
			t.Errorf("%s tags %v", n, p[0].Tags)
		}
	}
	if v := pts["svc."+GoGCCycles][0].Value; v < 1 {
		t.Errorf("gc cycles %v after runtime.GC", v)
	}
	for n := range pts {
		if strings.HasPrefix(n, "svc.go.") || strings.HasPrefix(n, "svc.process.") {
			if !slices.Contains(want, strings.TrimPrefix(n, "svc.")) {
				t.Errorf("unlisted runtime metric %s", n)
			}
		}
	}
}

// Points the client's own validation refuses (here: timestamps before 1970)
// are left out a few at a time, then the batch is given up, never resent.
func TestClientValidationGivesUp(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(func() time.Time { return time.Unix(-10, 0) }))
	err := r.ReportNow(context.Background())
	var ve *apptuit.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want validation errors", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
	if r.failed.Count() != 11 || r.buf.len() != 0 { // c and the first report's 10 meta points
		t.Fatalf("failed %d, buffered %d; want 11 and 0", r.failed.Count(), r.buf.len())
	}
}

// Stop does not wait for a ReportNow stuck on a stalled backend: it cancels
// it, and the final report, within Stop's deadline, delivers its points.
func TestStopCancelsReportInProgress(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)))
	srv.StallNext(1, 3*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- r.ReportNow(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // the ReportNow is stuck in the stall
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Stop(ctx)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Stop took %v with a 500ms deadline while a ReportNow was stuck", d)
	}
	if err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrStopped) {
		t.Errorf("the cancelled ReportNow returned %v, want ErrStopped and context.Canceled", err)
	}
	// The cancelled report's points went to the retry buffer and were sent
	// by the final report, before its own.
	var got []float64
	for _, p := range srv.Points() {
		if p.Metric == "c.count" {
			got = append(got, p.Value)
		}
	}
	if !slices.Equal(got, []float64{1, 1}) {
		t.Errorf("c.count arrived %v, want [1 1] (the cancelled report's, then the final one's)", got)
	}
	if v := r.dropped.Count(); v != 0 {
		t.Errorf("dropped %d, want 0", v)
	}
}

// ReportNow gives up waiting for a report in progress when its ctx ends.
func TestReportNowHonoursCtxWhileWaiting(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	var handled atomic.Int32
	r := newReporter(t, newClient(t, srv.URL()), reg, WithErrorHandler(func(error) { handled.Add(1) }))
	srv.StallNext(1, 2*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- r.ReportNow(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.ReportNow(ctx)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("ReportNow took %v with a 200ms deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReportNow: %v, want the deadline", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("the stalled ReportNow: %v", err)
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("error handler called %d times for a report that was not made", n)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Concurrent ReportNow calls and the loop never send at the same time. (The
// server sees a cancelled request's handler run on, so no ctx here ends.)
// The client sends one batch at a time, so that two in flight can only
// come from two reports.
func TestReportsNeverOverlap(t *testing.T) {
	clearEnv(t)
	var inFlight, most atomic.Int32
	url := newFakePut(t, func([]apptuit.DataPoint) (int, string) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		return 204, ""
	})
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, newClient(t, url, apptuit.WithConcurrency(1), apptuit.WithBatchSize(5)), reg, WithClock(steppingClock(t0)), WithInterval(3*time.Millisecond))
	r.Start()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 5 {
				if err := r.ReportNow(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d sends in flight at once, want 1", m)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The stamping rule: to the second from a 1 s interval up, to the
// millisecond below; one unit after the previous report on a collision;
// back on the clock once it catches up.
func TestStampRule(t *testing.T) {
	clearEnv(t)
	base := time.Unix(1700000000, 0)
	at := func(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	for _, tt := range []struct {
		interval  time.Duration
		now, want []int64 // ms after base
	}{
		{time.Minute, []int64{600, 700, 900, 1200, 1300, 5100}, []int64{0, 1000, 2000, 3000, 4000, 5000}},
		{time.Second, []int64{2500, 2999, 3000}, []int64{2000, 3000, 4000}},
		{time.Second, []int64{2500, 9000}, []int64{2000, 9000}},
		{20 * time.Millisecond, []int64{600, 600, 600, 620, 621}, []int64{600, 601, 602, 620, 621}},
		{999 * time.Millisecond, []int64{1, 1, 5}, []int64{1, 2, 5}},
	} {
		var now time.Time
		r := newReporter(t, newClient(t, "http://127.0.0.1:1"), metrics.NewRegistry(), WithInterval(tt.interval),
			WithClock(func() time.Time { return now }))
		for i, ms := range tt.now {
			now = at(ms).Add(123 * time.Microsecond)
			if got := r.stamp(r.cfg.now()); !got.Equal(at(tt.want[i])) {
				t.Errorf("interval %v, report %d at +%dms: stamped +%v, want +%dms", tt.interval, i, ms, got.Sub(base), tt.want[i])
			}
		}
	}
}

// With a short interval and a real clock, reports do not run ahead of the
// clock (they used to be bumped a second each: 26 s ahead after 0.5 s).
func TestShortIntervalStampsFollowClock(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	r, err := New(newClient(t, srv.URL()), reg, WithHostTag("h"), WithInterval(20*time.Millisecond),
		WithErrorHandler(func(err error) { t.Logf("report error: %v", err) }))
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	for range 50 {
		c.Inc()
		time.Sleep(10 * time.Millisecond)
	}
	for range 5 { // a burst of ReportNow: 1 ms apart at most
		r.ReportNow(context.Background())
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pts := byName(srv.Points())["c.count"]
	if len(pts) < 10 {
		t.Fatalf("only %d reports in 0.5 s at a 20 ms interval", len(pts))
	}
	for i, p := range pts {
		if ahead := p.Timestamp.Sub(now); ahead > time.Second {
			t.Fatalf("report %d stamped %v ahead of the clock", i, ahead)
		}
		if i > 0 && !p.Timestamp.After(pts[i-1].Timestamp) {
			t.Fatalf("reports %d and %d stamped %v and %v", i-1, i, pts[i-1].Timestamp, p.Timestamp)
		}
	}
}

// A batch kept for retry is kept without the points the client's
// validation removed from it: they are not validated (and counted) again,
// and every point counted in send.failed is counted in send.total too.
func TestRetryKeepsCleanedBatch(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	// One send at a time: the report's own batch waits for the kept one.
	client := newClient(t, srv.URL(), apptuit.WithConcurrency(1))
	reg := metrics.NewRegistry()
	a, _ := reg.Counter("a")
	r := newReporter(t, client, reg, WithClock(steppingClock(t0)))
	report := func() {
		a.Inc()
		r.ReportNow(context.Background())
	}
	report() // 11 points: a and 10 meta (no send before it: the send timer has count, sum and rates only)
	// A kept batch holding a point the client refuses: its series was
	// prepared by another client.
	other := newClient(t, srv.URL())
	foreign, err := other.PrepareSeries("foreign", map[string]string{"host": "x"})
	if err != nil {
		t.Fatal(err)
	}
	own := r.registry.cache[a].fields[0]
	ms := t0.UnixMilli() - 5000
	r.buf.add([]apptuit.PreparedPoint{{Series: own, UnixMilli: ms, Value: -1}, {Series: foreign, UnixMilli: ms, Value: -2}, {Series: own, UnixMilli: ms + 1000, Value: -3}})
	srv.FailNext(1, 503)
	report() // foreign removed, the kept 2 fail with 503: they and the report's 20 are kept
	if n := r.buf.len(); n != 22 {
		t.Fatalf("%d points kept, want the 2 valid ones and the report's 20", n)
	}
	report() // the kept 22, then 20
	if got, want := r.failed.Count(), int64(1+2); got != want {
		t.Errorf("send.failed %d, want %d (foreign once, the 503 batch once)", got, want)
	}
	if got, want := r.successful.Count(), int64(11+22+20); got != want {
		t.Errorf("send.successful %d, want %d", got, want)
	}
	if tot, ok, failed := r.total.Count(), r.successful.Count(), r.failed.Count(); tot != ok+failed {
		t.Errorf("send.total %d, want successful + failed = %d", tot, ok+failed)
	}
	if n := len(srv.Points()); n != 53 {
		t.Errorf("%d points arrived, want 53", n)
	}
	if got := byName(srv.Points())["a.count"]; len(got) != 5 || got[1].Value != -1 || got[2].Value != -3 {
		t.Errorf("a.count arrived %v, want 5 points, the kept ones after the first", got)
	}
	if n := len(byName(srv.Points())["foreign"]); n != 0 {
		t.Errorf("foreign arrived %d times, want never", n)
	}
}

// coalesce merges batches in order into full ones.
func TestCoalesce(t *testing.T) {
	mk := func(from, n int) []apptuit.PreparedPoint {
		b := make([]apptuit.PreparedPoint, n)
		for i := range b {
			b[i].Value = float64(from + i)
		}
		return b
	}
	var in [][]apptuit.PreparedPoint
	total := 0
	for _, n := range []int{3, 7, 7, 1, 5, 7, 2} {
		in = append(in, mk(total, n))
		total += n
	}
	out := coalesce(in, total, 7)
	var sizes []int
	next := 0
	for _, b := range out {
		sizes = append(sizes, len(b))
		for _, p := range b {
			if p.Value != float64(next) {
				t.Fatalf("point %v where %d was due: %v", p.Value, next, out)
			}
			next++
		}
	}
	if !slices.Equal(sizes, []int{7, 7, 7, 7, 4}) || next != total {
		t.Fatalf("batch sizes %v (%d points), want [7 7 7 7 4] (%d)", sizes, next, total)
	}
}

// After an outage of several reports, the buffered points go out in as few
// sends as the batch size allows, oldest first, before the new report's.
func TestOutageBufferCoalesced(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	seq, _ := reg.Gauge("seq")
	// 20 points a report, seq and 19 meta, but 11 in the first (10 meta: no
	// send before it, so the send timer has count, sum and rates only).
	const batchSize, perReport, first, outage = 7, 20, 11, 6
	r := newReporter(t, newClient(t, srv.URL(), apptuit.WithBatchSize(batchSize)), reg, WithClock(steppingClock(t0)))
	srv.FailNext(outage, 503) // each failed report makes one request and keeps the rest
	for i := range outage {
		seq.Set(float64(i))
		r.ReportNow(context.Background())
	}
	kept := first + (outage-1)*perReport
	if n := r.buf.len(); n != kept {
		t.Fatalf("%d points buffered, want %d", n, kept)
	}
	before := len(srv.Requests())
	seq.Set(outage)
	mustReport(t, r)
	buffered := (kept + batchSize - 1) / batchSize // 16, not 6 reports × 2 or 3 batches
	own := (perReport + batchSize - 1) / batchSize
	if n := len(srv.Requests()) - before; n != buffered+own {
		t.Errorf("%d requests after the outage, want %d for the %d buffered points and %d for the report's own",
			n, buffered, kept, own)
	}
	var order []float64
	for _, p := range srv.Points() {
		if p.Metric == "seq.value" {
			order = append(order, p.Value)
		}
	}
	if !slices.Equal(order, []float64{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("seq arrived %v, want [0 1 2 3 4 5 6]", order)
	}
	if n := len(srv.Points()); n != kept+perReport {
		t.Errorf("%d points arrived, want %d", n, kept+perReport)
	}
}

// Within a report, up to the client's concurrency of sends are in flight;
// during an outage, each report after the first makes one request (the
// first send of a report after a failed one goes alone).
func TestSendsInFlight(t *testing.T) {
	clearEnv(t)
	var inFlight, most, requests atomic.Int32
	var failing atomic.Bool
	url := newFakePut(t, func([]apptuit.DataPoint) (int, string) {
		requests.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		if failing.Load() {
			return 503, ""
		}
		return 204, ""
	})
	reg := metrics.NewRegistry()
	for i := range 81 { // 100 points with the meta metrics (91 in a first report): 20 batches of 5
		c, _ := reg.Counter("c" + strconv.Itoa(i))
		c.Inc()
	}
	for _, conc := range []int{1, 2, 3} {
		most.Store(0)
		requests.Store(0)
		r := newReporter(t, newClient(t, url, apptuit.WithConcurrency(conc), apptuit.WithBatchSize(5)), reg, WithClock(steppingClock(t0)))
		mustReport(t, r)
		if m, n := most.Load(), requests.Load(); m != int32(conc) || n != 19 {
			t.Errorf("client concurrency %d: %d sends in flight at most, %d requests; want %d and 19 (91 points)", conc, m, n, conc)
		}
		failing.Store(true)
		requests.Store(0)
		for range 3 {
			r.ReportNow(context.Background())
		}
		failing.Store(false)
		if n := requests.Load(); n != int32(conc+2) {
			t.Errorf("client concurrency %d: %d requests in 3 reports during an outage, want %d", conc, n, conc+2)
		}
		if n := r.buf.len(); n != 3*100 {
			t.Errorf("client concurrency %d: %d points kept, want 300", conc, n)
		}
		requests.Store(0)
		mustReport(t, r)
		if n := requests.Load(); n != 60+20 {
			t.Errorf("client concurrency %d: %d requests after the outage, want 80 (300 kept and 100 new points in batches of 5)", conc, n)
		}
		if tot, ok, failed := r.total.Count(), r.successful.Count(), r.failed.Count(); tot != ok+failed || failed != int64(5*(conc+2)) {
			t.Errorf("client concurrency %d: total %d, successful %d, failed %d (want %d)", conc, tot, ok, failed, 5*(conc+2))
		}
	}
}
