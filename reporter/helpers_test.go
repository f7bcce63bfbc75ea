package reporter

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/metrics"
)

// t0 is the reporter clock of most tests; reports are stamped 1700000000.
var t0 = time.Unix(1700000000, 600e6)

// clearEnv unsets (empties) the variables New reads.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{apptuit.EnvTags, apptuit.EnvTagsPy, apptuit.EnvDisableHostPy, apptuit.EnvToken, apptuit.EnvTokenPy} {
		t.Setenv(v, "")
	}
}

func newClient(t testing.TB, url string, opts ...apptuit.Option) *apptuit.Client {
	t.Helper()
	c, err := apptuit.New(append([]apptuit.Option{apptuit.WithToken("secret-token"), apptuit.WithEndpoint(url),
		apptuit.WithRetries(0), apptuit.WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixedClock returns a clock at start that moves one second per call.
func steppingClock(start time.Time) func() time.Time {
	n := int64(-1)
	return func() time.Time { n++; return start.Add(time.Duration(n) * time.Second) }
}

func newReporter(t testing.TB, c *apptuit.Client, reg *metrics.Registry, opts ...Option) *Reporter {
	t.Helper()
	r, err := New(c, reg, append([]Option{WithClock(func() time.Time { return t0 }), WithHostTag("testhost"),
		WithErrorHandler(func(err error) { t.Logf("report error: %v", err) })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustReport(t *testing.T, r *Reporter) {
	t.Helper()
	if err := r.ReportNow(context.Background()); err != nil {
		t.Fatalf("ReportNow: %v", err)
	}
}

// byName indexes points by metric name.
func byName(pts []apptuit.DataPoint) map[string][]apptuit.DataPoint {
	m := make(map[string][]apptuit.DataPoint)
	for _, p := range pts {
		m[p.Metric] = append(m[p.Metric], p)
	}
	return m
}

func names(pts []apptuit.DataPoint) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pts {
		if !seen[p.Metric] {
			seen[p.Metric] = true
			out = append(out, p.Metric)
		}
	}
	sort.Strings(out)
	return out
}

// without returns pts minus the meta metrics.
func withoutMeta(pts []apptuit.DataPoint, prefix string) []apptuit.DataPoint {
	var out []apptuit.DataPoint
	for _, p := range pts {
		if len(p.Metric) >= len(prefix)+len("apptuit.reporter.") && p.Metric[len(prefix):len(prefix)+len("apptuit.reporter.")] == "apptuit.reporter." {
			continue
		}
		out = append(out, p)
	}
	return out
}

// value returns the value of the only point named name at ts.
func value(t *testing.T, pts []apptuit.DataPoint, name string, ts int64) float64 {
	t.Helper()
	var found []float64
	for _, p := range pts {
		if p.Metric == name && p.Timestamp.Unix() == ts {
			found = append(found, p.Value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d points %s at %d, want 1", len(found), name, ts)
	}
	return found[0]
}

// checkNoLeak fails if goroutines started after before are still running.
func checkNoLeak(t *testing.T, before int) { leakcheck.Wait(t, before) }

func newServer(t testing.TB, opts ...apptuittest.Option) *apptuittest.Server {
	srv := apptuittest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func mustListen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", addr); err == nil {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}

// newFakePut serves /api/put with fn, which gets the decoded points and
// returns the status and body to answer. It returns the server's URL.
func newFakePut(t *testing.T, fn func([]apptuit.DataPoint) (int, string)) string {
	t.Helper()
	return newFakePutCtx(t, func(_ context.Context, pts []apptuit.DataPoint) (int, string) { return fn(pts) })
}

// newFakePutCtx is newFakePut whose fn also sees the request's context.
func newFakePutCtx(t *testing.T, fn func(context.Context, []apptuit.DataPoint) (int, string)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var rd io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			rd = zr
		}
		var raw []struct {
			Metric    string            `json:"metric"`
			Timestamp int64             `json:"timestamp"`
			Value     float64           `json:"value"`
			Tags      map[string]string `json:"tags"`
		}
		if err := json.NewDecoder(rd).Decode(&raw); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		pts := make([]apptuit.DataPoint, len(raw))
		for i, p := range raw {
			pts[i] = apptuit.DataPoint{Metric: p.Metric, Tags: p.Tags, Timestamp: time.Unix(p.Timestamp, 0), Value: p.Value}
		}
		code, body := fn(req.Context(), pts)
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newDiscardSink serves /api/put by reading (and gunzipping) the body and
// answering 204, keeping nothing: for measuring the reporter alone.
func newDiscardSink(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var rd io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			rd = zr
		}
		io.Copy(io.Discard, rd)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
