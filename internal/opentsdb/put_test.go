package opentsdb

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestPutCommit checks what Put hands to Commit and how it answers what
// Commit returns: the good points of a judged body, their eviction count in
// the result, and a Commit error as a 500 that reports nothing accepted.
func TestPutCommit(t *testing.T) {
	body := `[` + good1 + `,` + bad1 + `,` + good2 + `]`
	for _, tc := range []struct {
		name    string
		commit  func(*Batch) (int, error)
		status  int
		answer  string
		result  PutResult
		commits int
	}{
		{"stored", func(*Batch) (int, error) { return 3, nil }, 400,
			`{"error":{"code":400,"message":"One or more data points had errors","details":"Please see the TSD logs or append \"details\" to the put request"}}`,
			PutResult{BodySize: int64(len(body)), Accepted: 2, Failed: 1, Evicted: 3, Errors: []string{"Metric name was empty"}}, 1},
		{"commit fails", func(*Batch) (int, error) { return 0, errors.New("disk full") }, 500,
			`{"error":{"code":500,"message":"storing the points: disk full"}}`,
			PutResult{BodySize: int64(len(body))}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			commits := 0
			h := &Put{MaxBody: 1 << 20, MaxDecompressed: 1 << 20, Commit: func(b *Batch) (int, error) {
				commits++
				b.Each(func(i int, ms int64, _ float64) {
					key, _ := b.Series(i)
					m, _, _ := ParseSeriesKey(key)
					got = append(got, m)
				})
				return tc.commit(b)
			}}
			w := httptest.NewRecorder()
			res := h.Serve(w, httptest.NewRequest(http.MethodPost, "/api/put", strings.NewReader(body)))
			if w.Code != tc.status || w.Body.String() != tc.answer {
				t.Errorf("answer %d %s, want %d %s", w.Code, w.Body, tc.status, tc.answer)
			}
			if !reflect.DeepEqual(res, tc.result) {
				t.Errorf("result %+v, want %+v", res, tc.result)
			}
			if commits != tc.commits || !reflect.DeepEqual(got, []string{"m1", "m2"}) {
				t.Errorf("%d commits of %q, want 1 of m1 and m2", commits, got)
			}
		})
	}
	// A body that fails whole commits nothing.
	h := &Put{MaxBody: 1 << 20, MaxDecompressed: 1 << 20, Commit: func(*Batch) (int, error) {
		t.Error("Commit called for an unparsable body")
		return 0, nil
	}}
	w := httptest.NewRecorder()
	h.Serve(w, httptest.NewRequest(http.MethodPost, "/api/put", strings.NewReader(`[`+good1+`,{`)))
	if w.Code != 400 || w.Body.String() != `{"error":{"code":400,"message":"Unable to parse the given JSON"}}` {
		t.Errorf("unparsable body: %d %s", w.Code, w.Body)
	}
}
