package apptuittest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestWithHandler(t *testing.T) {
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "file %s", r.URL.Path) })
	claims := func(p string) bool { return p == "/" || strings.HasPrefix(p, "/ui/") || p == "/api/put" }
	srv := newServer(t, WithToken("s3cr3t"), WithHandler(claims, files))
	srv.FailNext(1, 503)
	for _, p := range []string{"/", "/ui/app.js"} {
		// No token needed, no fault taken, not logged.
		if code, body, _ := do(t, http.MethodGet, srv.URL()+p, nil, nil); code != 200 || body != "file "+p {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests logged, want none", n)
	}
	// The fake's own paths stay the fake's, with its token and faults.
	if code, _, _ := do(t, http.MethodPost, srv.URL()+"/api/put", []byte(`[]`), map[string]string{"Authorization": "Bearer s3cr3t"}); code != 503 {
		t.Errorf("POST /api/put: %d, want the injected 503", code)
	}
	if code, _, _ := do(t, http.MethodGet, srv.URL()+"/elsewhere", nil, nil); code != 404 {
		t.Errorf("GET /elsewhere: %d, want 404", code)
	}
}

func TestRequestErrorsBounded(t *testing.T) {
	srv := newServer(t)
	var b strings.Builder
	b.WriteString("[")
	for i := range 20 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"metric":"bad %d %s","timestamp":1700000000,"value":1,"tags":{"k":"v"}}`, i, strings.Repeat("x", 600))
	}
	b.WriteString("]")
	post(t, srv, "", b.String())
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Failed != 20 || len(reqs[0].Errors) != maxLoggedErrors {
		t.Fatalf("%+v", reqs)
	}
	for i, e := range reqs[0].Errors {
		if len(e) > maxLoggedErrorBytes || !strings.HasPrefix(e, fmt.Sprintf("bad %d x", i)) {
			t.Errorf("error %d: %d bytes %.40q", i, len(e), e)
		}
	}
}
