package apptuit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Environment variables that point the line-transport integration tests at
// real servers speaking OpenTSDB's telnet protocol (.ci/run starts both on
// loopback).
const (
	envInfluxTelnet = "APPTUIT_TEST_INFLUX_TELNET" // its [[opentsdb]] listener, e.g. 127.0.0.1:14242 (database "opentsdb")
	envVMTelnet     = "APPTUIT_TEST_VM_TELNET"     // VictoriaMetrics -opentsdbListenAddr, e.g. 127.0.0.1:4243
)

// linePoint is a point sent and what must be read back.
type linePoint struct {
	tags map[string]string
	ts   time.Time
	val  float64
}

// lineTestPoints are hard cases for a text protocol: extreme and negative
// values, integers and fractions, tag values with punctuation and Unicode.
func lineTestPoints(base time.Time) []linePoint {
	vals := []float64{0, 1, -1, 0.25, 42.5, 1e-7, 5e-324, math.MaxFloat64, -math.MaxFloat64, 1.7976931348623157e308 / 3, 123456789.123456789, 1e15, 3.0e16}
	tagVals := []string{"web-1", "São-Paulo", `"quoted"`, `back\slash`, "a,b;c", "ünïcødé/日本", "x.y_z"}
	var out []linePoint
	for i, v := range vals {
		out = append(out, linePoint{
			tags: map[string]string{"host": tagVals[i%len(tagVals)], "i": fmt.Sprint(i)},
			ts:   base.Add(time.Duration(i) * time.Second),
			val:  v,
		})
	}
	return out
}

// TestInfluxDBTelnet sends lines with TelnetTCP through Send and
// SendTimeSeries to InfluxDB's OpenTSDB listener and reads every value
// back exactly. The client writes PrecisionSeconds, as InfluxDB needs: its
// telnet listener takes a 13-digit timestamp's last three digits for
// microseconds, which the precision subtests show.
func TestInfluxDBTelnet(t *testing.T) {
	httpURL, telnet := os.Getenv(envInfluxHTTP), os.Getenv(envInfluxTelnet)
	if httpURL == "" || telnet == "" {
		t.Skipf("no InfluxDB: set %s and %s (bash .ci/run starts one)", envInfluxHTTP, envInfluxTelnet)
	}
	t.Logf("InfluxDB at %s (OpenTSDB telnet at %s)", httpURL, telnet)
	run := fmt.Sprintf("itestline%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	c, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(telnet)), apptuit.WithTimestampPrecision(apptuit.PrecisionSeconds),
		apptuit.WithGlobalTags(map[string]string{"run": run}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := lineTestPoints(base)
	var dps []apptuit.DataPoint
	for _, p := range want {
		dps = append(dps, apptuit.DataPoint{Metric: run + ".points", Tags: p.tags, Timestamp: p.ts, Value: p.val})
	}
	ctx := context.Background()
	if err := c.Send(ctx, dps); err != nil {
		t.Fatal(err)
	}
	s, err := apptuit.NewTimeSeries(run+".series", map[string]string{"kind": "rss"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := 0; i < n; i++ {
		s.Add(base.Add(time.Duration(i)*time.Second), 1e9+float64(i)/8)
	}
	if err := c.SendTimeSeries(ctx, []*apptuit.TimeSeries{s}); err != nil {
		t.Fatal(err)
	}

	rows := influxSelect(t, httpURL, run+".points", len(want))
	for i, p := range want {
		r := rows[i]
		if r.time != p.ts.Unix() || r.value != p.val || r.tags["host"] != p.tags["host"] || r.tags["i"] != p.tags["i"] || r.tags["run"] != run {
			t.Errorf("point %d: got %+v, want ts %d value %v tags %v", i, r, p.ts.Unix(), p.val, p.tags)
		}
	}
	rows = influxSelect(t, httpURL, run+".series", n)
	for i, r := range rows {
		if r.time != base.Unix()+int64(i) || r.value != 1e9+float64(i)/8 || r.tags["kind"] != "rss" {
			t.Fatalf("series point %d: %+v", i, r)
		}
	}

	// A point on a whole second, one 250 ms later and one a second later,
	// as each precision writes them (rows: "<time in ns> <value>").
	ns := base.UnixNano()
	row := func(t int64, v int) string { return fmt.Sprintf("%d %d", t, v) }
	for _, tc := range []struct {
		p    apptuit.Precision
		want []string
	}{
		// 1700000000250 is stored 250 µs after the second.
		{apptuit.PrecisionAuto, []string{row(ns, 1), row(ns+250e3, 2), row(ns+1e9, 3)}},
		{apptuit.PrecisionMilliseconds, []string{row(ns, 1), row(ns+250e3, 2), row(ns+1e9, 3)}},
		// Floored to the second, where the later point (2) overwrites the first.
		{apptuit.PrecisionSeconds, []string{row(ns, 2), row(ns+1e9, 3)}},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			c, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(telnet)), apptuit.WithTimestampPrecision(tc.p),
				apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			m := run + ".precision." + tc.p.String()
			s, err := apptuit.NewTimeSeries(m, map[string]string{"host": "a"})
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range []time.Duration{0, 250 * time.Millisecond, time.Second} {
				s.Add(base.Add(d), float64(i+1))
			}
			if err := c.SendTimeSeries(context.Background(), []*apptuit.TimeSeries{s}); err != nil {
				t.Fatal(err)
			}
			if got := influxRows(t, httpURL, m, len(tc.want)); !slices.Equal(got, tc.want) {
				t.Errorf("stored %v, want %v", got, tc.want)
			}
		})
	}
}

type influxRow struct {
	time  int64
	value float64
	tags  map[string]string
}

// influxSelect polls InfluxDB until measurement has n rows (its listener
// batches writes) and returns them in time order.
func influxSelect(t *testing.T, httpURL, measurement string, n int) []influxRow {
	t.Helper()
	q := url.Values{"db": {"opentsdb"}, "epoch": {"s"}, "q": {`SELECT * FROM "` + measurement + `"`}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(httpURL + "/query?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Results []struct {
				Series []struct {
					Columns []string
					Values  [][]json.RawMessage
				}
				Error string
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		var rows []influxRow
		if len(body.Results) == 1 && len(body.Results[0].Series) == 1 {
			ser := body.Results[0].Series[0]
			for _, v := range ser.Values {
				r := influxRow{tags: map[string]string{}}
				for k, col := range ser.Columns {
					switch col {
					case "time":
						json.Unmarshal(v[k], &r.time)
					case "value":
						json.Unmarshal(v[k], &r.value)
					default:
						var tv string
						json.Unmarshal(v[k], &tv)
						r.tags[col] = tv
					}
				}
				rows = append(rows, r)
			}
		}
		if len(rows) >= n || time.Now().After(deadline) {
			if len(rows) != n {
				t.Fatalf("%s: %d rows, want %d (%+v)", measurement, len(rows), n, body)
			}
			return rows
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestVictoriaMetricsTelnet sends lines with TelnetTCP to VictoriaMetrics'
// -opentsdbListenAddr with each timestamp precision and reads every value
// and timestamp back through /api/v1/export: a sub-second time is kept
// with PrecisionAuto and PrecisionMilliseconds and floored to its second
// with PrecisionSeconds.
func TestVictoriaMetricsTelnet(t *testing.T) {
	httpURL, telnet := os.Getenv(envVMHTTP), os.Getenv(envVMTelnet)
	if httpURL == "" || telnet == "" {
		t.Skipf("no VictoriaMetrics telnet listener: set %s and %s (bash .ci/run starts one)", envVMHTTP, envVMTelnet)
	}
	t.Logf("VictoriaMetrics at %s (OpenTSDB telnet at %s)", httpURL, telnet)
	run := fmt.Sprintf("itestline%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	sub := base.Add(1500 * time.Millisecond)
	for _, tc := range []struct {
		p     apptuit.Precision
		subMs int64 // what is stored for the time sub
	}{
		{apptuit.PrecisionAuto, sub.UnixMilli()},
		{apptuit.PrecisionMilliseconds, sub.UnixMilli()},
		{apptuit.PrecisionSeconds, base.Add(time.Second).UnixMilli()},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			c, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(telnet)), apptuit.WithTimestampPrecision(tc.p),
				apptuit.WithGlobalTags(map[string]string{"run": run}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			metric := run + "." + tc.p.String()
			want := lineTestPoints(base)
			wantMs := make(map[string]int64)
			for _, p := range want {
				wantMs[p.tags["i"]] = p.ts.UnixMilli()
			}
			want = append(want, linePoint{tags: map[string]string{"host": "ms", "i": "ms"}, ts: sub, val: 7})
			wantMs["ms"] = tc.subMs
			var dps []apptuit.DataPoint
			for _, p := range want {
				dps = append(dps, apptuit.DataPoint{Metric: metric, Tags: p.tags, Timestamp: p.ts, Value: p.val})
			}
			if err := c.Send(context.Background(), dps); err != nil {
				t.Fatal(err)
			}
			var got []exported
			deadline := time.Now().Add(20 * time.Second)
			for {
				got = vmExport(t, httpURL, `{__name__="`+metric+`"}`)
				if len(got) >= len(want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(got) != len(want) {
				t.Fatalf("exported %d series, want %d", len(got), len(want))
			}
			byI := map[string]exported{}
			for _, e := range got {
				byI[e.Metric["i"]] = e
			}
			for _, p := range want {
				i := p.tags["i"]
				e, ok := byI[i]
				if !ok || len(e.Values) != 1 {
					t.Errorf("point i=%s: %+v", i, e)
					continue
				}
				if e.Timestamps[0] != wantMs[i] || e.Metric["host"] != p.tags["host"] || e.Metric["run"] != run || !vmSame(e.Values[0], p.val) {
					t.Errorf("point i=%s: got (%d, %v, host %q), want (%d, %v, host %q)", i, e.Timestamps[0], e.Values[0], e.Metric["host"], wantMs[i], p.val, p.tags["host"])
				}
			}
		})
	}
}

// vmSame compares a value read back from VictoriaMetrics with the value
// sent: VictoriaMetrics stores values as a decimal mantissa of about 12
// significant digits and a bounded exponent, so it keeps relative error
// below 1e-11 and reads subnormals (5e-324) back as 0.
func vmSame(got, want float64) bool {
	if got == want {
		return true
	}
	if math.Abs(want) < 1e-300 {
		return got == 0
	}
	return math.Abs(got-want) <= 1e-11*math.Abs(want)
}
