package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/apptuit-go/apptuit/server"
)

func ExampleNew() {
	srv, err := server.New()
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	base := "http://" + l.Addr().String()

	// OpenTSDB's put, then PromQL over the points: a dotted metric is a
	// quoted name.
	body := `[{"metric":"http.requests","timestamp":1700000000,"value":10,"tags":{"code":"200"}},
	          {"metric":"http.requests","timestamp":1700000060,"value":70,"tags":{"code":"200"}}]`
	resp, err := http.Post(base+"/api/put", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	resp, err = http.PostForm(base+"/api/v1/query", url.Values{
		"query": {`sum by (code) ({"http.requests"})`}, "time": {"1700000090"},
	})
	if err != nil {
		panic(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(out))
	// Output:
	// {"status":"success","data":{"resultType":"vector","result":[{"metric":{"code":"200"},"value":[1700000090,"70"]}]}}
}
