package apptuittest_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

// TestWithClient drives the fake with the library's own client.
func TestWithClient(t *testing.T) {
	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
	defer srv.Close()
	ctx := context.Background()
	for _, comp := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		srv.Reset()
		c, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"), apptuit.WithCompression(comp), apptuit.WithIgnoreEnvTags())
		if err != nil {
			t.Fatal(err)
		}
		pts := []apptuit.DataPoint{
			{Metric: "proc.cpu.percent", Tags: map[string]string{"host": "web1"}, Timestamp: time.Unix(1500000000, 0).UTC(), Value: 12.5},
			{Metric: "proc.cpu.percent", Tags: map[string]string{"host": "web1"}, Timestamp: time.Unix(1500000030, 0).UTC(), Value: 20},
			{Metric: "proc.cpu.percent", Tags: map[string]string{"host": "web2"}, Timestamp: time.UnixMilli(1500000010500).UTC(), Value: 1},
		}
		if err := c.Send(ctx, pts); err != nil {
			t.Fatalf("%v: Send: %v", comp, err)
		}
		if got := srv.Points(); !reflect.DeepEqual(got, pts) {
			t.Errorf("%v: stored %+v\nwant %+v", comp, got, pts)
		}
		res, err := c.Query(ctx, "fetch('proc.cpu.percent').downsample('1m', 'sum').series_sum()", time.Unix(1500000000, 0), time.Unix(1500000060, 0))
		if err != nil {
			t.Fatalf("%v: Query: %v", comp, err)
		}
		o := res.Get("proc.cpu.percent")
		if res.Len() != 1 || o == nil || len(o.Series) != 1 || o.Series[0].Len() != 1 {
			t.Fatalf("%v: result %+v", comp, res.Outputs())
		}
		ts, v := o.Series[0].At(0)
		if ts.Unix() != 1500000000 || v != 33.5 {
			t.Errorf("%v: point %v %v, want 1500000000 33.5", comp, ts.Unix(), v)
		}
	}
}

func TestWithClientErrors(t *testing.T) {
	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
	defer srv.Close()
	ctx := context.Background()
	pt := []apptuit.DataPoint{{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: time.Unix(1500000000, 0), Value: 1}}

	bad, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("wrong"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Send(ctx, pt); !errors.Is(err, apptuit.ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}

	c, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(),
		apptuit.WithRetries(2), apptuit.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	srv.FailNext(1, 503)
	srv.DropNext(1)
	if err := c.Send(ctx, pt); err != nil {
		t.Errorf("Send after a 503 and a dropped connection: %v", err)
	}
	if n, r := len(srv.Points()), len(srv.Requests()); n != 1 || r != 3 {
		t.Errorf("%d points in %d requests, want 1 in 3", n, r)
	}

	srv.FailNext(1, 400)
	if err := c.Send(ctx, pt); err == nil {
		t.Error("no error for 400")
	}
	if _, err := c.Query(ctx, "fetch('m').nope()", time.Unix(1, 0), time.Time{}); err == nil {
		t.Error("no error for a bad query")
	} else {
		var he *apptuit.HTTPError
		if !errors.As(err, &he) || he.StatusCode != 400 {
			t.Errorf("bad query: %v", err)
		}
	}
}
