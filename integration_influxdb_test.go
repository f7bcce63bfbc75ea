package apptuit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Environment variables that point the integration tests at a running
// InfluxDB 1.x with an OpenTSDB listener (.ci/run starts one on loopback).
const (
	envInfluxHTTP     = "APPTUIT_TEST_INFLUX_HTTP"     // e.g. http://127.0.0.1:18086
	envInfluxOpenTSDB = "APPTUIT_TEST_INFLUX_OPENTSDB" // e.g. http://127.0.0.1:14242
)

// influxRows returns the "<time in ns> <value>" rows of measurement m in
// the opentsdb database, waiting up to 5 s for want rows (the listener
// writes in batches).
func influxRows(t *testing.T, httpURL, m string, want int) []string {
	t.Helper()
	var rows []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(httpURL + "/query?db=opentsdb&epoch=ns&q=" + url.QueryEscape(`SELECT "value" FROM "`+m+`"`))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Results []struct {
				Series []struct {
					Values [][2]json.Number `json:"values"`
				} `json:"series"`
			} `json:"results"`
		}
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber()
		err = dec.Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		rows = nil
		if len(r.Results) > 0 && len(r.Results[0].Series) > 0 {
			for _, v := range r.Results[0].Series[0].Values {
				rows = append(rows, v[0].String()+" "+v[1].String())
			}
		}
		if len(rows) >= want || time.Now().After(deadline) {
			return rows
		}
	}
}

// TestInfluxDBPrecision shows why InfluxDB's OpenTSDB listener needs
// PrecisionSeconds: with the default precision a sub-second point is stored
// at the wrong time (the milliseconds taken for microseconds); with
// PrecisionSeconds it is stored on its second, where InfluxDB keeps the
// last point written. And a deflate body is refused with the hint to use
// gzip.
func TestInfluxDBPrecision(t *testing.T) {
	httpURL, putURL := os.Getenv(envInfluxHTTP), os.Getenv(envInfluxOpenTSDB)
	if httpURL == "" || putURL == "" {
		t.Skipf("no InfluxDB: set %s and %s (bash .ci/run starts one)", envInfluxHTTP, envInfluxOpenTSDB)
	}
	run := fmt.Sprintf("itest%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	ns := base.UnixNano()
	row := func(t int64, v int) string { return fmt.Sprintf("%d %d", t, v) }
	for _, tc := range []struct {
		p    apptuit.Precision
		want []string
	}{
		// 250 ms later is stored 250 µs later.
		{apptuit.PrecisionAuto, []string{row(ns, 1), row(ns+250e3, 2), row(ns+1e9, 3)}},
		// Floored to base, where the later point (2) overwrites the first.
		{apptuit.PrecisionSeconds, []string{row(ns, 2), row(ns+1e9, 3)}},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithTimestampPrecision(tc.p),
				apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			m := run + "." + tc.p.String()
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
			got := influxRows(t, httpURL, m, len(tc.want))
			if !slices.Equal(got, tc.want) {
				t.Errorf("stored %v, want %v", got, tc.want)
			}
		})
	}

	c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithCompression(apptuit.Deflate),
		apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), []apptuit.DataPoint{{Metric: run + ".deflate", Tags: map[string]string{"a": "b"}, Timestamp: base, Value: 1}})
	var se *apptuit.SendError
	want := "apptuit: send: the server refused 1 point (400 Bad Request): expected JSON array or hash; the server may not accept Content-Encoding: deflate (InfluxDB and VictoriaMetrics 1.79 do not); send with gzip, the default (WithCompression(apptuit.Gzip))"
	if !errors.As(err, &se) || err.Error() != want {
		t.Errorf("deflate: %v\nwant %s", err, want)
	}
}
