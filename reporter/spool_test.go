package reporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/metrics"
)

// spoolSetup is a registry with one counter, a client whose backend can be
// turned off, and a reporter option set with a spool in dir.
type spoolSetup struct {
	t    *testing.T
	dir  string
	reg  *metrics.Registry
	cnt  *metrics.Counter
	down func(bool)
	url  string
	got  func() []apptuit.DataPoint
	errs []error
	mu   sync.Mutex
}

func newSpoolSetup(t *testing.T) *spoolSetup {
	s := &spoolSetup{t: t, dir: t.TempDir(), reg: metrics.NewRegistry()}
	s.cnt, _ = s.reg.Counter("jobs")
	var mu sync.Mutex
	down := true
	var got []apptuit.DataPoint
	up := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, pts...)
		return 204, ""
	})
	// While down, answer 503 without decoding the body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			io.Copy(io.Discard, req.Body)
			w.WriteHeader(503)
			return
		}
		proxy, err := http.NewRequest(req.Method, up+req.URL.RequestURI(), req.Body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		proxy.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(proxy)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	s.url = srv.URL
	s.down = func(d bool) { mu.Lock(); down = d; mu.Unlock() }
	s.got = func() []apptuit.DataPoint {
		mu.Lock()
		defer mu.Unlock()
		return append([]apptuit.DataPoint(nil), got...)
	}
	return s
}

func (s *spoolSetup) reporter(clock func() time.Time, opts ...Option) *Reporter {
	s.t.Helper()
	c := newClient(s.t, s.url)
	r, err := New(c, s.reg, append([]Option{WithClock(clock), WithHostTag("testhost"), WithIgnoreEnvTags(),
		WithSpool(s.dir, 1<<20), WithErrorHandler(func(err error) { s.mu.Lock(); s.errs = append(s.errs, err); s.mu.Unlock() })}, opts...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// jobs returns the values of jobs.count by timestamp (Unix seconds), and
// fails on a duplicate.
func jobs(t *testing.T, pts []apptuit.DataPoint) map[int64]float64 {
	t.Helper()
	m := map[int64]float64{}
	for _, p := range pts {
		if p.Metric != "jobs.count" {
			continue
		}
		if _, dup := m[p.Timestamp.Unix()]; dup {
			t.Fatalf("jobs.count at %d delivered twice", p.Timestamp.Unix())
		}
		m[p.Timestamp.Unix()] = p.Value
	}
	return m
}

// TestSpoolAcrossReporters: reports made while the backend is down are
// kept on disk, survive Stop, and are delivered by the next Reporter on the
// same directory, oldest first and before its own points, each once.
func TestSpoolAcrossReporters(t *testing.T) {
	clearEnv(t)
	leakcheck.AtCleanup(t) // after the server's cleanup: its connections end
	s := newSpoolSetup(t)
	r := s.reporter(steppingClock(t0))
	for i := 1; i <= 5; i++ {
		s.cnt.Inc()
		if err := r.ReportNow(context.Background()); err == nil {
			t.Fatal("report succeeded with the backend down")
		}
	}
	if r.spool.mem.len() != 0 {
		t.Errorf("%d points in the memory buffer: they belong in the spool", r.spool.mem.len())
	}
	st := r.spool.sp.Stats()
	if st.Records != 5 || st.Points == 0 {
		t.Fatalf("spool after 5 failed reports: %+v", st)
	}
	// Stop with the backend down: the final report goes to the spool too,
	// and nothing is counted as dropped.
	if err := r.Stop(context.Background()); err == nil {
		t.Fatal("Stop succeeded with the backend down")
	}
	if d := r.dropped.Count(); d != 0 {
		t.Errorf("dropped %d", d)
	}

	s.down(false)
	r2 := s.reporter(steppingClock(t0.Add(time.Hour)))
	s.cnt.Inc()
	mustReport(t, r2)
	if err := r2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.got()
	m := jobs(t, got)
	// 5 failed reports + Stop's, then the next reporter's report and its
	// Stop: every one exactly once, values in order.
	want := map[int64]float64{}
	for i := int64(0); i < 6; i++ {
		want[t0.Unix()+i] = float64(min(i+1, 5))
	}
	want[t0.Unix()+3600], want[t0.Unix()+3601] = 6, 6
	if len(m) != len(want) {
		t.Fatalf("delivered %v, want %v", m, want)
	}
	for ts, v := range want {
		if m[ts] != v {
			t.Errorf("jobs.count at %d = %v, want %v", ts, m[ts], v)
		}
	}
	// Oldest first: the spooled points arrive before the new report's.
	var order []int64
	for _, p := range got {
		if p.Metric == "jobs.count" {
			order = append(order, p.Timestamp.Unix())
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Fatalf("delivery order %v", order)
		}
	}
	if f := segFiles(t, s.dir); len(f) != 0 {
		t.Errorf("segments left after delivery: %v", f)
	}
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	return m
}

func TestSpoolLocked(t *testing.T) {
	clearEnv(t)
	s := newSpoolSetup(t)
	r := s.reporter(steppingClock(t0))
	_, err := New(newClient(t, s.url), s.reg, WithSpool(s.dir, 1<<20), WithHostTag("h"))
	if !errors.Is(err, ErrSpoolLocked) || !strings.Contains(err.Error(), filepath.Join(s.dir, "lock")) {
		t.Fatalf("second reporter on the directory: %v", err)
	}
	r.Stop(context.Background())
	r2 := s.reporter(steppingClock(t0))
	r2.Stop(context.Background())
}

func TestWithSpoolValidated(t *testing.T) {
	clearEnv(t)
	c := newClient(t, "http://127.0.0.1:1")
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithSpool("", 1<<20), "reporter: WithSpool: empty directory"},
		{WithSpool(t.TempDir(), 1000), "reporter: WithSpool: size limit 1000 is below the minimum 65536 bytes"},
	} {
		if _, err := New(c, metrics.NewRegistry(), tc.opt); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// A directory that cannot be made.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	if _, err := New(c, metrics.NewRegistry(), WithSpool(filepath.Join(file, "spool"), 1<<20), WithHostTag("h")); err == nil {
		t.Error("spool under a file accepted")
	}
}

// TestSpoolFull: a long outage fills a small spool; the oldest points are
// dropped, counted in apptuit.reporter.send.dropped, and what is left is
// the newest reports, delivered once the backend is back.
func TestSpoolFull(t *testing.T) {
	clearEnv(t)
	s := newSpoolSetup(t)
	// Many incompressible points per report.
	for i := 0; i < 200; i++ {
		g, _ := s.reg.Gauge(fmt.Sprintf("g%03d", i))
		g.Set(math.Float64frombits(uint64(i) * 0x9E3779B97F4A7C15))
	}
	c := newClient(t, s.url)
	r, err := New(c, s.reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(),
		WithSpool(s.dir, MinSpoolBytes), WithSpoolNoSync(), WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	const reports = 30
	for i := 0; i < reports; i++ {
		s.cnt.Inc()
		r.ReportNow(context.Background())
		if st := r.spool.sp.Stats(); st.Bytes > MinSpoolBytes {
			t.Fatalf("report %d: spool holds %d bytes", i, st.Bytes)
		}
	}
	dropped := r.dropped.Count()
	st := r.spool.sp.Stats()
	if dropped == 0 || st.DroppedPoints != dropped {
		t.Fatalf("dropped %d, spool says %d", dropped, st.DroppedPoints)
	}
	s.down(false)
	mustReport(t, r)
	m := jobs(t, s.got())
	// The newest reports arrived, the oldest did not, none twice.
	if len(m) == 0 || len(m) >= reports {
		t.Fatalf("%d of %d reports delivered", len(m), reports)
	}
	for ts := t0.Unix() + int64(reports-len(m)) + 1; ts <= t0.Unix()+reports; ts++ {
		if _, ok := m[ts]; !ok {
			t.Errorf("report at %d missing: only the oldest may be dropped (%v)", ts, m)
		}
	}
	// The drop is reported by the meta counter of the next report.
	var metaDropped float64
	for _, p := range s.got() {
		if p.Metric == MetaDropped+".count" {
			metaDropped = p.Value
		}
	}
	if metaDropped != float64(dropped) {
		t.Errorf("%s reported %v, want %d", MetaDropped, metaDropped, dropped)
	}
	t.Logf("%d reports: %d delivered, %d points dropped, spool %+v", reports+1, len(m), dropped, st)
	r.Stop(context.Background())
}

// TestSpoolTornTail: a segment cut in the middle of its last record (the
// machine died while writing) loses that record only; the error handler
// is told, and its points count as dropped.
func TestSpoolTornTail(t *testing.T) {
	clearEnv(t)
	s := newSpoolSetup(t)
	r := s.reporter(steppingClock(t0))
	for i := 0; i < 3; i++ {
		s.cnt.Inc()
		r.ReportNow(context.Background())
	}
	r.spool.sp.Close() // as if the process died: no final report
	segs := segFiles(t, s.dir)
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	fi, _ := os.Stat(segs[0])
	if err := os.Truncate(segs[0], fi.Size()-10); err != nil {
		t.Fatal(err)
	}
	s.down(false)
	r2 := s.reporter(steppingClock(t0.Add(time.Hour)))
	mustReportAllowErr(t, r2)
	r2.Stop(context.Background())
	m := jobs(t, s.got())
	for _, ts := range []int64{t0.Unix(), t0.Unix() + 1} {
		if _, ok := m[ts]; !ok {
			t.Errorf("report at %d lost", ts)
		}
	}
	if _, ok := m[t0.Unix()+2]; ok {
		t.Error("the torn report was delivered")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, err := range s.errs {
		if errors.Is(err, ErrSpoolCorrupt) {
			found = true
			if !strings.Contains(err.Error(), "1 records") {
				t.Errorf("corruption error: %v", err)
			}
		}
	}
	if !found {
		t.Errorf("error handler not told of the torn record: %v", s.errs)
	}
	if r2.dropped.Count() == 0 {
		t.Error("the torn record's points are not counted as dropped")
	}
}

// mustReportAllowErr reports and only fails on errors other than spool
// corruption.
func mustReportAllowErr(t *testing.T, r *Reporter) {
	t.Helper()
	if err := r.ReportNow(context.Background()); err != nil && !errors.Is(err, ErrSpoolCorrupt) {
		t.Fatal(err)
	}
}

// TestSpoolFailureAmongConcurrentSends: of two spooled batches in flight
// together, the first fails and the second is delivered. The second must
// not be sent again and the first must not be lost: it is appended to the
// spool again before the acknowledgement covers it.
func TestSpoolFailureAmongConcurrentSends(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	reg := metrics.NewRegistry()
	cnt, _ := reg.Counter("jobs")
	var mu sync.Mutex
	down, failed := true, false
	var got []apptuit.DataPoint
	url := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503, ""
		}
		for _, p := range pts {
			if p.Metric == "jobs.count" && p.Timestamp.Unix() == t0.Unix()+1 && !failed {
				failed = true
				time.Sleep(50 * time.Millisecond) // the next batch is in flight meanwhile
				return 503, ""
			}
		}
		got = append(got, pts...)
		return 204, ""
	})
	c := newClient(t, url, apptuit.WithConcurrency(2), apptuit.WithBatchSize(30))
	r, err := New(c, reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(), WithSpool(dir, 1<<20),
		WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		cnt.Inc()
		r.ReportNow(context.Background())
	}
	if st := r.spool.sp.Stats(); st.Records != 3 {
		t.Fatalf("spool: %+v", st)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	r.ReportNow(context.Background()) // t0+1's batch fails, t0+2's is delivered
	mu.Lock()
	if !failed {
		t.Fatal("the failure was not injected")
	}
	mu.Unlock()
	mustReport(t, r)
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := jobs(t, got) // fails on a duplicate
	for ts := t0.Unix(); ts <= t0.Unix()+5; ts++ {
		if _, ok := m[ts]; !ok {
			t.Errorf("report at %d lost (%v)", ts, m)
		}
	}
}
