package apptuit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Environment variables that point the integration tests at a running
// VictoriaMetrics single-node server (.ci/run starts one on loopback).
const (
	envVMHTTP     = "APPTUIT_TEST_VM_HTTP"     // e.g. http://127.0.0.1:8428
	envVMOpenTSDB = "APPTUIT_TEST_VM_OPENTSDB" // e.g. http://127.0.0.1:4242
)

func vmAddrs(t *testing.T) (httpURL, putURL string) {
	t.Helper()
	httpURL, putURL = os.Getenv(envVMHTTP), os.Getenv(envVMOpenTSDB)
	if httpURL == "" || putURL == "" {
		t.Skipf("no VictoriaMetrics backend: set %s and %s (bash .ci/run starts one)", envVMHTTP, envVMOpenTSDB)
	}
	return httpURL, putURL
}

type exported struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func vmExport(t *testing.T, httpURL, match string) []exported {
	t.Helper()
	resp, err := http.Post(httpURL+"/internal/force_flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(httpURL + "/api/v1/export?match[]=" + url.QueryEscape(match))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: status %d", resp.StatusCode)
	}
	var out []exported
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e exported
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].Metric) < fmt.Sprint(out[j].Metric) })
	return out
}

// TestVictoriaMetricsRoundTrip sends points with Send and SendTimeSeries,
// with gzip and with zlib deflate, to a real VictoriaMetrics, and reads
// every value and timestamp back through /api/v1/export and QueryRange.
func TestVictoriaMetricsRoundTrip(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	t.Logf("VictoriaMetrics at %s (put at %s)", httpURL, putURL)
	run := fmt.Sprintf("itest%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	ctx := context.Background()

	for _, comp := range []apptuit.Compression{apptuit.Gzip, apptuit.Deflate} {
		t.Run(comp.String(), func(t *testing.T) {
			c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithToken("t"), apptuit.WithCompression(comp),
				apptuit.WithGlobalTags(map[string]string{"run": run}), apptuit.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			prefix := run + "." + comp.String()
			var dps []apptuit.DataPoint
			for i := 0; i < 5; i++ {
				dps = append(dps, apptuit.DataPoint{
					Metric:    prefix + ".proc.cpu.percent",
					Tags:      map[string]string{"host": "web-1", "dc": "eu", "core": "0"},
					Timestamp: base.Add(time.Duration(i) * time.Minute),
					Value:     float64(i) + 0.25,
				})
			}
			if err := c.Send(ctx, dps); err != nil {
				t.Fatalf("Send: %v", err)
			}
			s, err := apptuit.NewTimeSeries(prefix+".node.memory.bytes", map[string]string{"host": "web-2", "kind": "rss"})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				s.Add(base.Add(time.Duration(i)*time.Minute), 1e9+float64(i)*1024)
			}
			if err := c.SendTimeSeries(ctx, []*apptuit.TimeSeries{s}); err != nil {
				t.Fatalf("SendTimeSeries: %v", err)
			}

			got := vmExport(t, httpURL, `{__name__=~"`+strings.ReplaceAll(prefix, ".", `\\.`)+`\\..*"}`)
			if len(got) != 2 {
				t.Fatalf("exported %d series, want 2: %+v", len(got), got)
			}
			wantSeries := []struct {
				name string
				tags map[string]string
				val  func(i int) float64
			}{
				{prefix + ".node.memory.bytes", map[string]string{"host": "web-2", "kind": "rss", "run": run}, func(i int) float64 { return 1e9 + float64(i)*1024 }},
				{prefix + ".proc.cpu.percent", map[string]string{"host": "web-1", "dc": "eu", "core": "0", "run": run}, func(i int) float64 { return float64(i) + 0.25 }},
			}
			for k, w := range wantSeries {
				e := got[k]
				if e.Metric["__name__"] != w.name {
					t.Errorf("series %d name %q, want %q", k, e.Metric["__name__"], w.name)
				}
				for tk, tv := range w.tags {
					if e.Metric[tk] != tv {
						t.Errorf("%s: tag %s = %q, want %q", w.name, tk, e.Metric[tk], tv)
					}
				}
				if len(e.Values) != 5 || len(e.Timestamps) != 5 {
					t.Fatalf("%s: %d values, %d timestamps, want 5", w.name, len(e.Values), len(e.Timestamps))
				}
				for i := 0; i < 5; i++ {
					if e.Timestamps[i] != base.Add(time.Duration(i)*time.Minute).UnixMilli() || e.Values[i] != w.val(i) {
						t.Errorf("%s point %d = (%d, %v), want (%d, %v)", w.name, i, e.Timestamps[i], e.Values[i],
							base.Add(time.Duration(i)*time.Minute).UnixMilli(), w.val(i))
					}
				}
			}

			// The same data through the Prometheus query API.
			q, err := apptuit.New(apptuit.WithEndpoint(httpURL), apptuit.WithToken("t"), apptuit.WithPromQLPath("/api/v1/query_range"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := q.QueryRange(ctx, `{__name__="`+prefix+`.proc.cpu.percent", host="web-1"}`, base, base.Add(4*time.Minute), time.Minute)
			if err != nil {
				t.Fatalf("QueryRange: %v", err)
			}
			out := res.Output(0)
			if out == nil || len(out.Series) != 1 {
				t.Fatalf("QueryRange result %+v, want one series", out)
			}
			ser := out.Series[0]
			if ser.Metric() != prefix+".proc.cpu.percent" || ser.Tags()["dc"] != "eu" || ser.Len() != 5 {
				t.Fatalf("series %s %v with %d points", ser.Metric(), ser.Tags(), ser.Len())
			}
			i := 0
			for ts, v := range ser.Points() {
				if !ts.Equal(base.Add(time.Duration(i)*time.Minute)) || v != float64(i)+0.25 {
					t.Errorf("QueryRange point %d = (%v, %v)", i, ts, v)
				}
				i++
			}
		})
	}
}

// TestVictoriaMetricsLargeSend streams 120,000 points in three batches and
// counts them back.
func TestVictoriaMetricsLargeSend(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	run := fmt.Sprintf("itestbig%d", time.Now().UnixNano())
	c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-48 * time.Hour).Truncate(time.Hour)
	var series []*apptuit.TimeSeries
	for h := 0; h < 12; h++ {
		s, err := apptuit.NewTimeSeries(run+".bulk", map[string]string{"host": fmt.Sprintf("h%02d", h)})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10000; i++ {
			s.Add(base.Add(time.Duration(i)*time.Second), float64(h*10000+i))
		}
		series = append(series, s)
	}
	if err := c.SendTimeSeries(context.Background(), series); err != nil {
		t.Fatal(err)
	}
	got := vmExport(t, httpURL, `{__name__="`+run+`.bulk"}`)
	total := 0
	for _, e := range got {
		total += len(e.Values)
		for i, v := range e.Values {
			h := 0
			fmt.Sscanf(e.Metric["host"], "h%d", &h)
			want := float64(h*10000) + float64(e.Timestamps[i]-base.UnixMilli())/1000
			if v != want {
				t.Fatalf("%s point at %d = %v, want %v", e.Metric["host"], e.Timestamps[i], v, want)
			}
		}
	}
	if len(got) != 12 || total != 120000 {
		t.Fatalf("read back %d series, %d points; want 12, 120000", len(got), total)
	}
}

// TestVictoriaMetricsDenyPartial: a real single node takes
// deny_partial_response=1 (WithDenyPartial) and answers as without it,
// whole: the same series, Partial false, no warnings.
func TestVictoriaMetricsDenyPartial(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	run := fmt.Sprintf("itestdeny%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	ctx := context.Background()
	c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var dps []apptuit.DataPoint
	for _, host := range []string{"a", "b", "c"} {
		for i := 0; i < 3; i++ {
			dps = append(dps, apptuit.DataPoint{Metric: run, Tags: map[string]string{"host": host}, Timestamp: base.Add(time.Duration(i) * time.Minute), Value: float64(i)})
		}
	}
	if err := c.Send(ctx, dps); err != nil {
		t.Fatal(err)
	}
	vmExport(t, httpURL, `{__name__="`+run+`"}`) // flushes
	for _, deny := range []bool{false, true} {
		opts := []apptuit.Option{apptuit.WithEndpoint(httpURL), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(), apptuit.WithPromQLPath("/api/v1/query_range")}
		if deny {
			opts = append(opts, apptuit.WithDenyPartial())
		}
		q, err := apptuit.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := q.QueryRange(ctx, `{__name__="`+run+`"}`, base, base.Add(2*time.Minute), time.Minute)
		if err != nil {
			t.Fatalf("deny %v: %v", deny, err)
		}
		if n := len(res.Output(0).Series); n != 3 || res.Partial || len(res.Warnings) != 0 || len(res.Infos) != 0 {
			t.Errorf("deny %v: %d series, partial %v, warnings %q, infos %q; want 3 whole", deny, n, res.Partial, res.Warnings, res.Infos)
		}
	}
}
