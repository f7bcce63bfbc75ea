package reporter

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// TestSpoolInvalidPointThenFailureAmongConcurrentSends: a spooled batch
// holding a point the client's validation refuses (here a NaN value, as a
// spool written under another configuration may hold) loses that point
// before it is sent; when the send then fails with a retryable error while
// a later spooled batch is delivered, the failed batch is appended to the
// spool again. What is appended must be the batch as sent (without the
// refused point), not the ticket's stale view of it.
func TestSpoolInvalidPointThenFailureAmongConcurrentSends(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	reg := metrics.NewRegistry()
	var mu sync.Mutex
	var got []apptuit.DataPoint
	failedOnce := false
	url := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pts {
			if p.Metric == "a" && !failedOnce {
				failedOnce = true
				mu.Unlock()
				time.Sleep(100 * time.Millisecond) // batch b is delivered meanwhile
				mu.Lock()
				return 503, ""
			}
		}
		got = append(got, pts...)
		return 204, ""
	})
	c := newClient(t, url, apptuit.WithConcurrency(2), apptuit.WithBatchSize(3))
	var herrs []error
	r, err := New(c, reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(), WithSpool(dir, 1<<20),
		WithErrorHandler(func(err error) { mu.Lock(); herrs = append(herrs, err); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	mustReport(t, r) // healthy: the next report sends at full concurrency

	sa, _ := c.PrepareSeries("a", map[string]string{"k": "v"})
	sb, _ := c.PrepareSeries("b", map[string]string{"k": "v"})
	ms := t0.UnixMilli()
	if _, err := r.spool.append([]apptuit.PreparedPoint{{Series: sa, UnixMilli: ms, Value: 1}, {Series: sa, UnixMilli: ms + 1000, Value: math.NaN()}, {Series: sa, UnixMilli: ms + 2000, Value: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.spool.append([]apptuit.PreparedPoint{{Series: sb, UnixMilli: ms, Value: 1}, {Series: sb, UnixMilli: ms + 1000, Value: 2}, {Series: sb, UnixMilli: ms + 2000, Value: 3}}); err != nil {
		t.Fatal(err)
	}
	r.ReportNow(context.Background()) // a fails (after losing its NaN), b is delivered
	mu.Lock()
	if !failedOnce {
		t.Fatal("the failure was not injected")
	}
	mu.Unlock()
	r.ReportNow(context.Background()) // a again
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var as []int64
	for _, p := range got {
		if p.Metric == "a" {
			as = append(as, p.Timestamp.Unix())
		}
	}
	if len(as) != 2 || as[0] != ms || as[1] != ms+2000 { // the fake put reads the raw timestamp, here in ms
		t.Errorf("points of a delivered: %v, want [%d %d]", as, ms, ms+2000)
	}
}

// TestSpoolFullMemoryBatchDropsCounted: batches kept in memory because the
// spool could not take them are appended to it at the next report; when
// the spool is full, that drops its oldest segment, whose points must be
// counted in MetaDropped as every other drop is.
func TestSpoolFullMemoryBatchDropsCounted(t *testing.T) {
	clearEnv(t)
	url := newFakePut(t, func([]apptuit.DataPoint) (int, string) { return 503, "" })
	c := newClient(t, url)
	reg := metrics.NewRegistry()
	r, err := New(c, reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(),
		WithSpool(t.TempDir(), MinSpoolBytes), WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	ps, _ := c.PrepareSeries("x", map[string]string{"k": "v"})
	batch := func(seed int) []apptuit.PreparedPoint {
		pts := make([]apptuit.PreparedPoint, 500)
		for i := range pts {
			// Values that do not compress: the spool fills in a few batches.
			pts[i] = apptuit.PreparedPoint{Series: ps, UnixMilli: t0.UnixMilli() + int64(i), Value: math.Float64frombits(uint64(seed*1000+i) * 0x9E3779B97F4A7C15)}
		}
		return pts
	}
	for i := 0; r.spool.sp.Stats().DroppedSegments == 0; i++ {
		r.spool.add(batch(i))
	}
	// As after a failed write: a batch in memory.
	r.spool.mem.add(batch(-1))
	before, spBefore := r.dropped.Count(), r.spool.sp.Stats().DroppedPoints
	r.ReportNow(context.Background())
	counted, spooled := r.dropped.Count()-before, r.spool.sp.Stats().DroppedPoints-spBefore
	if spooled == 0 {
		t.Fatal("the spool dropped nothing: the test did not fill it")
	}
	if counted != spooled {
		t.Errorf("the spool dropped %d points, MetaDropped counted %d", spooled, counted)
	}
}

// TestSpoolStopDuringDrain: Stop interrupts a slow drain; every spooled
// point is delivered exactly once, by this Reporter or the next.
func TestSpoolStopDuringDrain(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	var mu sync.Mutex
	slow := true
	seen := map[int64]int{}
	srvURL := newFakePutCtx(t, func(ctx context.Context, pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		s := slow
		mu.Unlock()
		if s {
			select {
			case <-time.After(150 * time.Millisecond):
			case <-ctx.Done():
				return 503, "" // the client is gone: nothing stored
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pts {
			if p.Metric == "x" {
				seen[p.Timestamp.Unix()]++
			}
		}
		return 204, ""
	})
	reg := metrics.NewRegistry()
	mk := func() *Reporter {
		c := newClient(t, srvURL, apptuit.WithConcurrency(2), apptuit.WithBatchSize(10))
		r, err := New(c, reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(),
			WithSpool(dir, 1<<20), WithInterval(10*time.Second), WithErrorHandler(func(error) {}))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := mk()
	ps, _ := r.client.PrepareSeries("x", map[string]string{"k": "v"})
	const n = 400
	for i := 0; i < n; i += 10 {
		pts := make([]apptuit.PreparedPoint, 10)
		for j := range pts {
			pts[j] = apptuit.PreparedPoint{Series: ps, UnixMilli: t0.UnixMilli() + int64(i+j), Value: 1}
		}
		r.spool.add(pts)
	}
	done := make(chan struct{})
	go func() { r.ReportNow(context.Background()); close(done) }()
	time.Sleep(400 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	r.Stop(ctx)
	cancel()
	<-done
	mu.Lock()
	slow = false
	first := len(seen)
	mu.Unlock()
	if first == 0 || first >= n {
		t.Fatalf("the first Reporter delivered %d of %d points: Stop did not interrupt a drain", first, n)
	}
	t.Logf("the first Reporter delivered %d of %d points", first, n)
	r2 := mk()
	for i := 0; i < 5 && r2.spool.len() > 0; i++ {
		r2.ReportNow(context.Background())
	}
	r2.Stop(context.Background())
	mu.Lock()
	defer mu.Unlock()
	for i := int64(0); i < n; i++ {
		// The fake put reads the raw timestamp (ms) as seconds.
		if c := seen[t0.UnixMilli()+i]; c != 1 {
			t.Errorf("point %d delivered %d times", i, c)
		}
	}
}

// TestSpoolOversizedRecordPartlyAccepted: a spooled record holding more
// points than the client's batch size (kept by a process whose client had
// a larger one) would be one ticket of several requests; when the first
// is accepted and the second fails with 503, the accepted points must not
// be sent again: the record is appended again in batches of this size.
func TestSpoolOversizedRecordPartlyAccepted(t *testing.T) {
	clearEnv(t)
	var mu sync.Mutex
	reqs := 0
	seen := map[int64]int{}
	url := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		xs := 0
		for _, p := range pts {
			if p.Metric == "x" {
				xs++
			}
		}
		if xs == 0 {
			return 204, ""
		}
		reqs++
		if reqs == 2 {
			return 503, ""
		}
		for _, p := range pts {
			if p.Metric == "x" {
				seen[p.Timestamp.Unix()]++
			}
		}
		return 204, ""
	})
	c := newClient(t, url, apptuit.WithBatchSize(10), apptuit.WithConcurrency(1))
	r, err := New(c, metrics.NewRegistry(), WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(),
		WithSpool(t.TempDir(), 1<<20), WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := c.PrepareSeries("x", map[string]string{"k": "v"})
	pts := make([]apptuit.PreparedPoint, 20)
	for i := range pts {
		pts[i] = apptuit.PreparedPoint{Series: ps, UnixMilli: t0.UnixMilli() + int64(i), Value: 1}
	}
	if _, err := r.spool.append(pts); err != nil {
		t.Fatal(err)
	}
	r.ReportNow(context.Background())
	r.ReportNow(context.Background())
	r.Stop(context.Background())
	mu.Lock()
	defer mu.Unlock()
	for i := int64(0); i < 20; i++ {
		if c := seen[t0.UnixMilli()+i]; c != 1 {
			t.Errorf("point %d delivered %d times", i, c)
		}
	}
}
