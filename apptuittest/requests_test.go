package apptuittest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

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
	if len(reqs) != 1 || reqs[0].Failed != 20 || len(reqs[0].Errors) != opentsdb.MaxLoggedErrors {
		t.Fatalf("%+v", reqs)
	}
	for i, e := range reqs[0].Errors {
		if len(e) > opentsdb.MaxLoggedErrorBytes || !strings.HasPrefix(e, fmt.Sprintf("bad %d x", i)) {
			t.Errorf("error %d: %d bytes %.40q", i, len(e), e)
		}
	}
}
