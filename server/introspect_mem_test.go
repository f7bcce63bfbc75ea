package server

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestSeriesPageCopiesOnlyThePage: a page of 10 series out of 20,000
// allocates the page and a slice of views of the largest metric's series,
// not a copy of every series.
func TestSeriesPageCopiesOnlyThePage(t *testing.T) {
	srv := newServer(t)
	var b strings.Builder
	for i := range 20000 {
		b.WriteString(map[bool]string{true: "[", false: ","}[i == 0])
		fmt.Fprintf(&b, `{"metric":"m%d","timestamp":1700000000,"value":1,"tags":{"host":"host-%05d","dc":"dc-%d"}}`, i%4, i, i%7)
	}
	b.WriteString("]")
	if code, body := post(t, srv, "", b.String()); code/100 != 2 {
		t.Fatalf("put: %d %.200s", code, body)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	page := srv.seriesPage(nil, 9995, 10)
	runtime.ReadMemStats(&after)
	if len(page.Series) != 10 || page.Matched.Series != 20000 || page.Series[0].Metric != "m1" || page.Series[9].Metric != "m2" {
		t.Fatalf("page: %d series, matched %d, from %s to %s", len(page.Series), page.Matched.Series, page.Series[0].Metric, page.Series[9].Metric)
	}
	// 5,000 views of 16 bytes (the largest metric), grown by doubling, plus
	// the two metrics' summaries and the page: well under 1 MiB. A copy of
	// every series' tags would be several MiB.
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("a page of 10 of 20,000 series allocated %d bytes", got)
	if got > 1<<20 {
		t.Errorf("a page of 10 series allocated %d bytes", got)
	}
}
