package apptuittest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

func ExampleNewServer() {
	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
	defer srv.Close()

	// What a client sends (apptuit.New(apptuit.WithEndpoint(srv.URL()),
	// apptuit.WithToken("t")) does the same).
	body := `[{"metric":"proc.cpu.percent","timestamp":1500000000,"value":12.5,"tags":{"host":"web1"}},
	          {"metric":"proc.cpu.percent","timestamp":1500000030,"value":20,"tags":{"host":"web1"}}]`
	req, _ := http.NewRequest("POST", srv.URL()+"/api/put", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)

	for _, p := range srv.Points() {
		fmt.Println(p.Metric, p.Tags, p.Timestamp.Unix(), p.Value)
	}

	q := url.QueryEscape("fetch('proc.cpu.percent', {'host': 'web1'}).downsample('1m', 'max')")
	req, _ = http.NewRequest("GET", srv.URL()+"/api/query?start=1500000000&end=1500000060&q="+q, nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(out))
	// Output:
	// 204 No Content
	// proc.cpu.percent map[host:web1] 1500000000 12.5
	// proc.cpu.percent map[host:web1] 1500000030 20
	// {"outputs":[{"id":"proc.cpu.percent","result":[{"metric":"proc.cpu.percent","tags":{"host":"web1"},"aggregatedTags":[],"dps":[[1500000000,20.0]]}]}],"hints":[],"query":{"querytext":"fetch('proc.cpu.percent', {'host': 'web1'}).downsample('1m', 'max')","startTime":1500000000,"endTime":1500000060}}
}

// A test of sending code: the fake makes the first request fail with 503,
// as a busy server would, and the test checks that the client retried and
// the points arrived once.
func ExampleServer_FailNext() {
	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}

	srv.FailNext(1, 503)
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "orders.count", Tags: map[string]string{"city": "NYC"}, Timestamp: time.Unix(1700000000, 0), Value: 3},
	})
	fmt.Println("send:", err)
	for _, r := range srv.Requests() {
		fmt.Printf("%s %s fault=%q accepted=%d\n", r.Method, r.Path, r.Fault, r.Accepted)
	}
	fmt.Println(len(srv.Points()), "point stored")
	// Output:
	// send: <nil>
	// POST /api/put fault="fail" accepted=0
	// POST /api/put fault="" accepted=1
	// 1 point stored
}
