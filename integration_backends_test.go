package apptuit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// The README's "Backends" table, row by row, for the backends CI runs: each
// test checks what its row claims (endpoint, PromQL path, compression,
// limits) against the real server. apptuit serve's row is checked by
// .ci/run's steps and apptuittest's own tests (limits).

// TestVictoriaMetricsBackendRow: the single node takes puts at the
// OpenTSDB listener's root with gzip, deflate (zlib) and no compression;
// answers PromQL at /api/v1/query_range and /prometheus/api/v1/query_range;
// refuses a put over 32 MiB decompressed (-opentsdbhttp.maxInsertRequestSize)
// with a 400 for the whole batch, which the client reports as refused
// points (a 413 it would split); and keeps at most 40 labels per series,
// the name included (-maxLabelsPerTimeseries): 39 tags are kept, a series
// with 40 is dropped while the answer is still 204.
func TestVictoriaMetricsBackendRow(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	run := fmt.Sprintf("itestrow%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	ctx := context.Background()

	for _, comp := range []apptuit.Compression{apptuit.Gzip, apptuit.Deflate, apptuit.NoCompression} {
		c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithCompression(comp), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Send(ctx, []apptuit.DataPoint{{Metric: run, Tags: map[string]string{"comp": comp.String()}, Timestamp: base, Value: 1}})
		if err != nil {
			t.Errorf("%s: %v", comp, err)
		}
	}
	if got := vmExport(t, httpURL, `{__name__="`+run+`"}`); len(got) != 3 {
		t.Errorf("stored %d series of the 3 compressions: %+v", len(got), got)
	}
	for _, path := range []string{"/api/v1/query_range", "/prometheus/api/v1/query_range"} {
		q, err := apptuit.New(apptuit.WithEndpoint(httpURL), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithPromQLPath(path))
		if err != nil {
			t.Fatal(err)
		}
		res, err := q.QueryRange(ctx, `{__name__="`+run+`"}`, base, base.Add(time.Minute), time.Minute)
		if err != nil || len(res.Output(0).Series) != 3 {
			t.Errorf("PromQL at %s: %v, %v", path, res, err)
		}
	}

	// Over the request size: one batch of 50,000 points of about 700 bytes.
	big := make([]apptuit.DataPoint, 50000)
	pad := strings.Repeat("x", 650)
	for i := range big {
		big[i] = apptuit.DataPoint{Metric: run + ".big", Tags: map[string]string{"pad": pad}, Timestamp: base.Add(time.Duration(i) * time.Millisecond), Value: float64(i)}
	}
	c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(ctx, big)
	var se *apptuit.SendError
	if !errors.As(err, &se) || se.StatusCode != 400 || se.Failed != 50000 || !strings.Contains(se.Message, "maxInsertRequestSize=33554432") {
		t.Errorf("a put over 32 MiB: %v, want the whole batch refused with 400", err)
	}
	// The same points in batches of 25,000 (about 17 MiB) go through.
	c, err = apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0), apptuit.WithBatchSize(25000))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, big); err != nil {
		t.Errorf("in batches of 25,000: %v", err)
	}

	// Labels per series, sent by hand: the client itself allows 25 tags.
	for _, n := range []int{39, 40} {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"metric":"%s.tags%d","timestamp":%d,"value":1,"tags":{`, run, n, base.Unix())
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%02d":"v"`, i)
		}
		b.WriteString("}}")
		resp, err := http.Post(putURL+"/api/put", "application/json", &b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		stored := len(vmExport(t, httpURL, fmt.Sprintf(`{__name__="%s.tags%d"}`, run, n)))
		if resp.StatusCode != 204 || stored != map[int]int{39: 1, 40: 0}[n] {
			t.Errorf("%d tags: status %d, %d series stored", n, resp.StatusCode, stored)
		}
	}
}

// TestInfluxDBBackendRow: the OpenTSDB listener takes puts at its root,
// gzip or uncompressed (deflate is refused: TestInfluxDBPrecision), with 25
// tags, and serves no PromQL (404).
func TestInfluxDBBackendRow(t *testing.T) {
	httpURL, putURL := os.Getenv(envInfluxHTTP), os.Getenv(envInfluxOpenTSDB)
	if httpURL == "" || putURL == "" {
		t.Skipf("no InfluxDB: set %s and %s (bash .ci/run starts one)", envInfluxHTTP, envInfluxOpenTSDB)
	}
	run := fmt.Sprintf("itestrow%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	tags := map[string]string{}
	for i := range apptuit.MaxTags {
		tags[fmt.Sprintf("k%02d", i)] = "v"
	}
	for _, comp := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		c, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithCompression(comp),
			apptuit.WithTimestampPrecision(apptuit.PrecisionSeconds), apptuit.WithIgnoreEnvTags(), apptuit.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		m := run + "." + comp.String()
		if err := c.Send(context.Background(), []apptuit.DataPoint{{Metric: m, Tags: tags, Timestamp: base, Value: 7}}); err != nil {
			t.Errorf("%s: %v", comp, err)
		}
		if got := influxRows(t, httpURL, m, 1); len(got) != 1 || got[0] != fmt.Sprintf("%d 7", base.UnixNano()) {
			t.Errorf("%s: stored %v", comp, got)
		}
	}
	q, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithPromQLPath("/api/v1/query_range"), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.QueryRange(context.Background(), "up", base, base.Add(time.Minute), time.Minute)
	var he *apptuit.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("PromQL on the listener: %v, want 404", err)
	}
}
