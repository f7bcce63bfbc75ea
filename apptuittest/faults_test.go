package apptuittest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	srv := newServer(t)
	srv.FailNext(2, 503)
	srv.FailNext(1, 429)
	srv.FailNext(0, 500) // nothing
	if n := srv.PendingFaults(); n != 3 {
		t.Fatalf("PendingFaults = %d", n)
	}
	for _, st := range []int{503, 503, 429} {
		code, body := post(t, srv, "", good1)
		want := `{"error":{"code":` + itoa(st) + `,"message":"injected fault: status ` + itoa(st) + `"}}`
		if code != st || body != want {
			t.Errorf("got %d %s, want %d %s", code, body, st, want)
		}
	}
	if code, _ := post(t, srv, "", good1); code != 204 {
		t.Errorf("after faults: %d", code)
	}
	if n := len(srv.Points()); n != 1 {
		t.Errorf("stored %d points, want 1", n)
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.Fault+":"+itoa(r.Status)+":"+itoa(r.Accepted))
	}
	if want := []string{"fail:503:0", "fail:503:0", "fail:429:0", ":204:1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

func TestFailNextInvalidStatus(t *testing.T) {
	srv := newServer(t)
	srv.FailNext(1, 0)
	srv.FailNext(1, 1000)
	for _, asked := range []int{0, 1000} {
		code, body := post(t, srv, "", good1)
		want := `{"error":{"code":500,"message":"injected fault: status ` + itoa(asked) + `"}}`
		if code != 500 || body != want {
			t.Errorf("FailNext(1, %d): got %d %s, want 500 %s", asked, code, body, want)
		}
	}
}

func itoa(n int) string {
	b, _ := jsonMarshal(n)
	return string(b)
}

func TestStallNextAnswered(t *testing.T) {
	srv := newServer(t)
	srv.StallNext(1, 100*time.Millisecond)
	start := time.Now()
	code, _ := post(t, srv, "", good1)
	if d := time.Since(start); code != 204 || d < 100*time.Millisecond {
		t.Errorf("got %d after %v", code, d)
	}
	if n := len(srv.Points()); n != 1 {
		t.Errorf("stored %d", n)
	}
	if r := srv.Requests(); len(r) != 1 || r[0].Fault != "stall" || r[0].Duration < 100*time.Millisecond {
		t.Errorf("requests %+v", r)
	}
}

func TestStallNextClientGivesUp(t *testing.T) {
	srv := newServer(t)
	srv.StallNext(1, 10*time.Second)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	defer c.CloseIdleConnections()
	if _, err := c.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good1)); err == nil {
		t.Fatal("no timeout")
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(srv.Requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stalled request did not end when the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := srv.Requests()[0]; r.Status != 0 || r.Fault != "stall" || r.Accepted != 0 {
		t.Errorf("request %+v", r)
	}
	if n := len(srv.Points()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestCloseReleasesStall(t *testing.T) {
	srv := NewServer()
	srv.StallNext(1, time.Hour)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good1))
		if err != nil {
			done <- result{0, err}
			return
		}
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	for srv.PendingFaults() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close blocked on a stalled request")
	}
	if r := <-done; r.err != nil || r.code != 503 {
		t.Errorf("stalled request got %d %v, want 503", r.code, r.err)
	}
	srv.Close() // twice is fine
	if n := len(srv.Points()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestDropNext(t *testing.T) {
	srv := newServer(t)
	srv.DropNext(1)
	if resp, err := http.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good1)); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request got %d", resp.StatusCode)
	}
	if code, _ := post(t, srv, "", good2); code != 204 {
		t.Errorf("next request: %d", code)
	}
	pts := srv.Points()
	if len(pts) != 1 || pts[0].Metric != "m2" {
		t.Errorf("points %+v", pts)
	}
	if r := srv.Requests(); len(r) != 2 || r[0].Fault != "drop" || r[0].Status != 0 || r[1].Status != 204 {
		t.Errorf("requests %+v", r)
	}
}

func TestRequestLog(t *testing.T) {
	var mu sync.Mutex
	var logged []Request
	srv := newServer(t, WithToken("tok"), WithRequestLog(func(r Request) {
		mu.Lock()
		logged = append(logged, r)
		mu.Unlock()
	}))
	body := "[" + good1 + "," + bad1 + "]"
	code, _, _ := do(t, "POST", srv.URL()+"/api/put?details", gz(body), map[string]string{
		"Authorization": "Bearer tok", "Content-Encoding": "gzip", "User-Agent": "test/1"})
	if code != 400 {
		t.Fatalf("status %d", code)
	}
	do(t, "GET", srv.URL()+"/api/query?start=0&q=fetch('m1')", nil, map[string]string{"Authorization": "Bearer tok"})
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 2 || !reflect.DeepEqual(logged, srv.Requests()) {
		t.Fatalf("logged %+v\nRequests %+v", logged, srv.Requests())
	}
	r := logged[0]
	if r.Method != "POST" || r.Path != "/api/put" || r.RawQuery != "details" || r.BodySize != int64(len(body)) ||
		r.Status != 400 || r.Accepted != 1 || r.Failed != 1 || r.Fault != "" || r.Duration <= 0 || r.Time.IsZero() {
		t.Errorf("put record %+v", r)
	}
	if a := r.Header.Get("Authorization"); a != "Bearer [redacted]" {
		t.Errorf("Authorization logged as %q", a)
	}
	if r.Header.Get("User-Agent") != "test/1" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers %v", r.Header)
	}
	if q := logged[1]; q.Method != "GET" || q.Path != "/api/query" || q.Status != 200 || q.BodySize != 0 {
		t.Errorf("query record %+v", q)
	}
}

func TestWithListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, WithListener(l))
	if srv.URL() != "http://"+l.Addr().String() {
		t.Errorf("URL %q, listener %s", srv.URL(), l.Addr())
	}
	if code, _ := post(t, srv, "", good1); code != 204 {
		t.Errorf("status %d", code)
	}
	srv.Close()
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("listener still open after Close")
	}
}

func TestHandlerUnstarted(t *testing.T) {
	srv := NewUnstartedServer()
	defer srv.Close()
	if srv.URL() != "" {
		t.Errorf("URL before Start = %q", srv.URL())
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	resp, err := http.Post(hs.URL+"/api/put", "application/json", strings.NewReader(good1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || len(srv.Points()) != 1 || len(srv.Requests()) != 1 {
		t.Errorf("status %d, %d points", resp.StatusCode, len(srv.Points()))
	}
	srv.Close()
	srv.Start() // after Close: does nothing
	if srv.URL() != "" {
		t.Error("Start after Close started a listener")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	checkNoLeak(t, func() {
		srv := NewServer()
		post(t, srv, "", good1)
		query(t, srv, "start=0&q=fetch('m1')")
		srv.StallNext(1, time.Hour)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if resp, err := http.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good1)); err == nil {
				resp.Body.Close()
			}
		}()
		for srv.PendingFaults() != 0 {
			time.Sleep(5 * time.Millisecond)
		}
		srv.DropNext(1)
		srv.Close()
		<-done
	})
}

func TestConcurrentPuts(t *testing.T) {
	srv := newServer(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				resp, err := http.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good1))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				_ = srv.Points()
				_ = srv.Requests()
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Points()); n != 80 {
		t.Errorf("stored %d, want 80", n)
	}
}
