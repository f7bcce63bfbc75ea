package server

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// bearer adds the token to every request.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestPrometheusClient runs client_golang's Prometheus API client (what
// Grafana's and promtool's Go code use) against the server, at Prometheus's
// paths and under /prometheus: every call it makes, answered and decoded.
func TestPrometheusClient(t *testing.T) {
	srv := newServer(t, WithToken("sesame"))
	if code, body, _ := do(t, http.MethodPost, srv.URL()+"/api/put", []byte(promSeedBody()), map[string]string{"Authorization": "Bearer sesame", "Content-Type": "application/json"}); code != 204 {
		t.Fatalf("seed: %d %s", code, body)
	}
	ctx := context.Background()
	at := time.Unix(promT0+60, 0)
	for _, base := range []string{srv.URL(), srv.URL() + "/prometheus"} {
		c, err := api.NewClient(api.Config{Address: base, RoundTripper: bearer("sesame")})
		if err != nil {
			t.Fatal(err)
		}
		p := v1.NewAPI(c)

		val, warn, _, err := p.Query(ctx, `sum by (job) (rate(http_requests_total[1m]))`, at)
		if err != nil || len(warn) != 0 {
			t.Fatalf("%s: Query: %v %v", base, err, warn)
		}
		vec, ok := val.(model.Vector)
		if !ok || len(vec) != 2 || vec[0].Metric["job"] != "api" || vec[1].Metric["job"] != "web" ||
			!vec[0].Timestamp.Time().Equal(at) || float64(vec[1].Value) < 0.9999 || float64(vec[1].Value) > 1.0001 {
			t.Errorf("%s: Query: %v", base, val)
		}

		val, _, _, err = p.QueryRange(ctx, `{"order_count.count"}`, v1.Range{Start: time.Unix(promT0, 0), End: at, Step: 30 * time.Second})
		mat, ok := val.(model.Matrix)
		if err != nil || !ok || len(mat) != 1 || mat[0].Metric["region"] != "eu" || len(mat[0].Values) != 3 || mat[0].Values[2].Value != 10 {
			t.Errorf("%s: QueryRange: %v %v", base, val, err)
		}

		series, _, _, err := p.Series(ctx, []string{`http_requests_total{job="web"}`}, time.Unix(promT0, 0), at)
		want := []model.LabelSet{{"__name__": "http_requests_total", "code": "200", "job": "web"}}
		if err != nil || !reflect.DeepEqual(series, want) {
			t.Errorf("%s: Series: %v %v", base, series, err)
		}

		names, _, _, err := p.LabelNames(ctx, nil, time.Time{}, time.Time{})
		if err != nil || !reflect.DeepEqual(names, model.LabelNames{"__name__", "code", "job", "le", "region"}) {
			t.Errorf("%s: LabelNames: %v %v", base, names, err)
		}
		values, _, _, err := p.LabelValues(ctx, "le", nil, time.Time{}, time.Time{})
		if err != nil || !reflect.DeepEqual(values, model.LabelValues{"+Inf", "0.1", "0.5"}) {
			t.Errorf("%s: LabelValues: %v %v", base, values, err)
		}
		values, warn, _, err = p.LabelValues(ctx, "job", nil, time.Time{}, time.Time{}, v1.WithLimit(1))
		if err != nil || !reflect.DeepEqual(values, model.LabelValues{"api"}) || len(warn) != 1 {
			t.Errorf("%s: LabelValues with a limit: %v %v %v", base, values, warn, err)
		}

		md, err := p.Metadata(ctx, "", "")
		if err != nil || len(md) != 0 {
			t.Errorf("%s: Metadata: %v %v", base, md, err)
		}
		bi, err := p.Buildinfo(ctx)
		if err != nil || bi.Version != "3.16.0" {
			t.Errorf("%s: Buildinfo: %+v %v", base, bi, err)
		}

		// Errors decode as Prometheus's.
		_, _, _, err = p.Query(ctx, `sum(`, at)
		var perr *v1.Error
		if !errors.As(err, &perr) || perr.Type != v1.ErrBadData {
			t.Errorf("%s: bad query: %v", base, err)
		}
	}
}
