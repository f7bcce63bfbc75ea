package reporter

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/spool"
	"github.com/apptuit-go/apptuit/metrics"
)

var drainPoints = flag.Int("spooldrain.points", 5_000_000, "points TestSpoolDrain fills the spool with")

const (
	drainSeries    = 10_000                 // series of each report of the fill
	drainBatch     = 10_000                 // the batch size of the fill's and the children's clients
	drainInterval  = 900 * time.Millisecond // the draining children's interval (below 1 s: stamps in ms)
	drainHeapLimit = 64 << 20               // the bound on the draining child's peak heap
)

// drainChild starts a spoolchild draining dir into sink.
func drainChild(t *testing.T, bin string, sink *drainSink, dir, run string, extra ...string) *child {
	return startChild(t, bin, sink.srv.URL, dir, run, append([]string{"-interval", drainInterval.String(),
		"-batch", strconv.Itoa(drainBatch), "-max", strconv.Itoa(1 << 30), "-timeout", "20s"}, extra...)...)
}

// TestSpoolDrain fills a spool with -spooldrain.points points (5M; plus
// the reporter's own) while the backend is down, then drains it in a
// fresh process (internal/spoolchild, reporting every 900 ms, batches of
// 10,000 points) into a sink that counts every point by series and
// timestamp:
//
//   - constant memory: the child's heap peaks at 64 MiB or less (sampled
//     every millisecond with runtime/metrics, which does not stop the
//     world; and its peak resident set, VmHWM, which misses no moment,
//     less what it was at the start, too), every point arrives exactly
//     once, and every point of each of the child's own reports arrives
//     within one interval of the report's timestamp, however much of the
//     backlog is left;
//   - kill -9 mid-drain: a child killed with SIGKILL once 40 % of the
//     backlog arrived, then a fresh one on the same spool, deliver every
//     point, and send again no more than the batches in flight when the
//     first died (the client's concurrency × its batch size).
func TestSpoolDrain(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status and sends signals")
	}
	if testing.Short() {
		t.Skip("fills a spool with millions of points and drains it in a child process")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; .ci/run runs it without")
	}
	clearEnv(t)
	bin := buildChild(t)
	dir := filepath.Join(t.TempDir(), "spool")
	start := time.Now()
	reports, total := fillSpool(t, dir, *drainPoints)
	size := dirBytes(t, dir)
	t.Logf("fill: %d reports of %d series, %d points in the spool (%.1f MiB, %.1f bytes a point) in %v",
		reports, drainSeries, total, float64(size)/(1<<20), float64(size)/float64(total), time.Since(start).Round(time.Millisecond))
	killDir := filepath.Join(t.TempDir(), "spool")
	copyDir(t, dir, killDir)

	t.Run("constant memory", func(t *testing.T) {
		sink := newDrainSink(t, reports)
		c := drainChild(t, bin, sink, dir, "drain", "-heap")
		start := time.Now()
		drained := sink.waitFill(t, total, 0, 10*time.Minute)
		took := time.Since(start)
		time.Sleep(3 * drainInterval) // reports after the drain
		c.signal(t, syscall.SIGTERM)
		var peak, goal, hwm, base uint64
		if _, err := fmt.Sscanf(c.heap, "heap peak=%d goal=%d hwm=%d base=%d", &peak, &goal, &hwm, &base); err != nil {
			t.Fatalf("child's heap line %q: %v; stderr: %s", c.heap, err, c.stderrText())
		}
		st := sink.stats()
		t.Logf("drained %d points (%d distinct) in %v: %.0f points/s; peak heap %.1f MiB (heap goal %.1f MiB), VmHWM %.1f MiB (%.1f at start)",
			st.points, st.distinctFill, took.Round(time.Millisecond), float64(total)/took.Seconds(),
			mib(peak), mib(goal), mib(hwm), mib(base))
		d := st.delays()
		t.Logf("the child's own reports: %d (%d while draining), %d points; from a report's timestamp to the arrival of its last point: median %v, 90th percentile %v, max %v",
			len(st.childReports), st.childReportsBefore(drained), st.childPoints, d[len(d)/2], d[len(d)*9/10], d[len(d)-1])
		if peak > drainHeapLimit {
			t.Errorf("peak heap %d bytes (%.1f MiB), want at most %d MiB", peak, mib(peak), drainHeapLimit>>20)
		}
		// The resident set's peak cannot miss a moment, and holds the
		// heap: past what the process held at its start, it is bound too.
		if hwm-base > drainHeapLimit {
			t.Errorf("peak resident set %.1f MiB over the %.1f MiB at the start, want at most %d MiB", mib(hwm-base), mib(base), drainHeapLimit>>20)
		}
		sink.checkFill(t, 0)
		if st.childReportsBefore(drained) < 5 {
			t.Errorf("only %d reports of the child while it drained: the delay is not measured", st.childReportsBefore(drained))
		}
		for ms, at := range st.childReports {
			if d := at.Sub(time.UnixMilli(ms)); d > drainInterval {
				t.Errorf("the child's report at %d arrived %v after its timestamp: over the interval (%v)", ms, d, drainInterval)
			}
		}
		if segs := segFiles(t, dir); len(segs) != 0 {
			t.Errorf("segments left after the drain: %v", segs)
		}
	})

	t.Run("kill -9 mid-drain", func(t *testing.T) {
		sink := newDrainSink(t, reports)
		c1 := drainChild(t, bin, sink, killDir, "first")
		sink.waitFill(t, total*4/10, 0, 10*time.Minute)
		c1.signal(t, syscall.SIGKILL)
		before := sink.stats()
		c2 := drainChild(t, bin, sink, killDir, "second")
		bound := int64(apptuit.DefaultConcurrency * drainBatch)
		sink.waitFill(t, total, bound, 10*time.Minute)
		c2.signal(t, syscall.SIGTERM)
		st := sink.stats()
		t.Logf("killed after %d of %d points had arrived; the second process sent %d points again (at most %d: %d batches of %d in flight)",
			before.distinctFill, total, st.dups, bound, apptuit.DefaultConcurrency, drainBatch)
		sink.checkFill(t, bound)
		if segs := segFiles(t, killDir); len(segs) != 0 {
			t.Errorf("segments left after the drain: %v", segs)
		}
	})
}

// fillSpool fills a spool in dir, as a reporter whose backend is down
// does: reports of drainSeries points ("drain.v", tag s=<series>, value
// report×drainSeries+series, stamped t0 + report seconds) until they add
// up to points. It returns the number of reports and the points in the
// spool (the reporter's own included).
func fillSpool(t *testing.T, dir string, points int) (reports int, total int64) {
	t.Helper()
	reports = (points + drainSeries - 1) / drainSeries
	tags := make([]map[string]string, drainSeries)
	for i := range tags {
		tags[i] = map[string]string{"s": strconv.Itoa(i)}
	}
	k := 0
	src := SourceFunc(func(ctx context.Context, emit Emit) error {
		for i, tg := range tags {
			emit("drain.v", tg, float64(k*drainSeries+i))
		}
		k++
		return nil
	})
	// A registry without a series limit: its limit is the source's.
	r, err := New(newClient(t, downEndpoint(t), apptuit.WithBatchSize(drainBatch)), metrics.NewRegistry(metrics.WithSeriesLimit(0)), WithSource(src), WithClock(steppingClock(t0)),
		WithHostTag("fill"), WithIgnoreEnvTags(), WithSpool(dir, 1<<30), WithSpoolNoSync(),
		WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	for range reports - 1 {
		r.ReportNow(context.Background())
	}
	r.Stop(context.Background()) // the last report
	if k != reports {
		t.Fatalf("%d reports made, want %d", k, reports)
	}
	if d := r.dropped.Count(); d != 0 {
		t.Fatalf("the fill dropped %d points", d)
	}
	sp, err := spool.Open(dir, spool.Options{MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	st := sp.Stats()
	if st.Points < int64(reports*drainSeries) {
		t.Fatalf("the spool holds %d points, want at least %d", st.Points, reports*drainSeries)
	}
	return reports, st.Points
}

func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, f := range segFiles(t, dir) {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name() == "lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, f.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// drainSink is an /api/put endpoint that counts the points it receives:
// those of the fill (host=fill) by series and timestamp, and the draining
// children's (host=child), whose delay from timestamp to arrival it
// checks against drainInterval.
type drainSink struct {
	srv     *httptest.Server
	reports int
	t0ms    int64

	mu           sync.Mutex
	counts       []uint8          // drain.v points received, by report × drainSeries + series
	other        map[string]uint8 // other points received, by metric, tags and timestamp
	points       int64            // points received
	distinctFill int64            // distinct points of the fill received
	dups         int64            // points received more than once
	bad          []string
	childPoints  int64
	childReports map[int64]time.Time // the children's reports, by timestamp (ms): last arrival
}

func newDrainSink(t *testing.T, reports int) *drainSink {
	s := &drainSink{reports: reports, t0ms: t0.Unix() * 1000, counts: make([]uint8, reports*drainSeries),
		other: map[string]uint8{}, childReports: map[int64]time.Time{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// sinkPoint is a point of a put body; the tags are those the tests use.
type sinkPoint struct {
	Metric    string  `json:"metric"`
	Timestamp int64   `json:"timestamp"`
	Value     float64 `json:"value"`
	Tags      struct {
		Host string `json:"host"`
		Run  string `json:"run"`
		S    string `json:"s"`
	} `json:"tags"`
}

func (s *drainSink) serve(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	arrival := time.Now()
	var pts []sinkPoint
	if err == nil {
		err = json.Unmarshal(b, &pts)
	}
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	for i := range pts {
		s.count(&pts[i], arrival)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *drainSink) problem(format string, args ...any) {
	if len(s.bad) < 20 {
		s.bad = append(s.bad, fmt.Sprintf(format, args...))
	}
}

func (s *drainSink) count(p *sinkPoint, arrival time.Time) {
	s.points++
	ms := p.Timestamp
	if ms < 1e11 { // seconds
		ms *= 1000
	}
	if p.Metric == "drain.v" {
		k, err := strconv.Atoi(p.Tags.S)
		rep := (ms - s.t0ms) / 1000
		if err != nil || k < 0 || k >= drainSeries || (ms-s.t0ms)%1000 != 0 || rep < 0 || rep >= int64(s.reports) || p.Tags.Host != "fill" {
			s.problem("unexpected point %+v", *p)
			return
		}
		i := int(rep)*drainSeries + k
		if p.Value != float64(i) {
			s.problem("drain.v{s=%s} at %d = %v, want %d", p.Tags.S, ms, p.Value, i)
		}
		if s.counts[i] < 255 {
			s.counts[i]++
		}
		if s.counts[i] == 1 {
			s.distinctFill++
		} else {
			s.dups++
		}
		return
	}
	key := fmt.Sprintf("%s host=%s run=%s s=%s %d", p.Metric, p.Tags.Host, p.Tags.Run, p.Tags.S, ms)
	n := s.other[key]
	if n < 255 {
		s.other[key] = n + 1
	}
	if n > 0 {
		s.dups++
	}
	switch p.Tags.Host {
	case "fill":
		if n == 0 {
			s.distinctFill++
		}
	case "child":
		s.childPoints++
		if arrival.After(s.childReports[ms]) {
			s.childReports[ms] = arrival
		}
	default:
		s.problem("unexpected point %+v", *p)
	}
}

// sinkStats is a copy of a drainSink's figures.
type sinkStats struct {
	points, distinctFill, dups, childPoints int64
	childReports                            map[int64]time.Time
}

func (s *drainSink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	reports := make(map[int64]time.Time, len(s.childReports))
	for k, v := range s.childReports {
		reports[k] = v
	}
	return sinkStats{s.points, s.distinctFill, s.dups, s.childPoints, reports}
}

// delays returns, sorted, the time from each child's report's timestamp to
// the arrival of its last point.
func (st sinkStats) delays() []time.Duration {
	var d []time.Duration
	for ms, at := range st.childReports {
		d = append(d, at.Sub(time.UnixMilli(ms)))
	}
	slices.Sort(d)
	return d
}

// childReportsBefore counts the children's reports that arrived before t.
func (st sinkStats) childReportsBefore(t time.Time) int {
	n := 0
	for _, at := range st.childReports {
		if at.Before(t) {
			n++
		}
	}
	return n
}

// waitFill waits until n distinct points of the fill have arrived, and
// returns when; it fails the test on a timeout or once more than maxDups
// points arrived twice.
func (s *drainSink) waitFill(t *testing.T, n, maxDups int64, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := s.stats()
		switch {
		case st.distinctFill >= n:
			return time.Now()
		case st.dups > maxDups:
			t.Fatalf("%d points arrived more than once (%d distinct of %d so far)", st.dups, st.distinctFill, n)
		case time.Now().After(deadline):
			t.Fatalf("after %v, %d distinct points of the fill arrived, want %d", timeout, st.distinctFill, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkFill fails unless every point of the fill arrived, and no more than
// maxDups points (of any kind) arrived twice.
func (s *drainSink) checkFill(t *testing.T, maxDups int64) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bad {
		t.Error(b)
	}
	missing := 0
	for i, c := range s.counts {
		if c == 0 {
			if missing < 5 {
				t.Errorf("drain.v{s=%d} at %d never arrived", i%drainSeries, s.t0ms+int64(i/drainSeries)*1000)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d points of the fill never arrived", missing)
	}
	if s.dups > maxDups {
		t.Errorf("%d points arrived more than once, want at most %d", s.dups, maxDups)
	}
}
