package apptuit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// TestVictoriaMetricsPrecisionAndNoAuth sends, without an Authorization
// header (VictoriaMetrics has no authentication), a point on a whole
// second, one 250 ms later and one a second later with each timestamp
// precision, and reads back the milliseconds VictoriaMetrics stored.
func TestVictoriaMetricsPrecisionAndNoAuth(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	run := fmt.Sprintf("itestprec%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	b := base.UnixMilli()
	for _, tc := range []struct {
		p    apptuit.Precision
		want []int64 // the timestamps stored, in ms
	}{
		{apptuit.PrecisionAuto, []int64{b, b + 250, b + 1000}},
		{apptuit.PrecisionMilliseconds, []int64{b, b + 250, b + 1000}},
		// Floored: two points at base, which VictoriaMetrics keeps both of.
		{apptuit.PrecisionSeconds, []int64{b, b, b + 1000}},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithTimestampPrecision(tc.p),
				apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			metric := run + "." + tc.p.String()
			s, err := apptuit.NewTimeSeries(metric, map[string]string{"host": "a"})
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range []time.Duration{0, 250 * time.Millisecond, time.Second} {
				s.Add(base.Add(d), float64(i+1))
			}
			if err := c.SendTimeSeries(context.Background(), []*apptuit.TimeSeries{s}); err != nil {
				t.Fatal(err)
			}
			got := vmExport(t, httpURL, `{__name__="`+metric+`"}`)
			if len(got) != 1 {
				t.Fatalf("exported %d series, want 1: %+v", len(got), got)
			}
			ts := slices.Clone(got[0].Timestamps)
			slices.Sort(ts)
			vals := slices.Clone(got[0].Values)
			slices.Sort(vals)
			if !slices.Equal(ts, tc.want) || !slices.Equal(vals, []float64{1, 2, 3}) {
				t.Errorf("stored timestamps %v (values %v), want %v (values 1, 2, 3; base %d)", ts, vals, tc.want, b)
			}
		})
	}
	// A real server's error answer: the message is its text, the JSON-less
	// one line a user sees.
	c, err := apptuit.New(apptuit.WithEndpoint(httpURL), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), "fetch('m')", base, time.Time{})
	var he *apptuit.HTTPError
	want := `apptuit: query: server answered 400 Bad Request: unsupported path requested: "/api/query"`
	if !errors.As(err, &he) || he.StatusCode != 400 || he.URL != httpURL+"/api/query" || err.Error() != want {
		t.Errorf("Query on VictoriaMetrics' HTTP port: %v, want %s", err, want)
	}
}
