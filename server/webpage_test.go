package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/server/internal/browsertest"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prometheus/common/model"
)

// The browser tests of the web page: each loads the page of a server that
// holds pageFixture's series into headless Chromium and checks one
// behaviour through the DOM, as a person would use it (typing, clicking,
// dragging), and writes a screenshot (web-<name>.png) into
// APPTUIT_TEST_ARTIFACTS.

// Fixture: every series has a point every fixtureStep over the last
// fixtureSpan before the test started.
const (
	fixtureStep = 15 * time.Second
	fixtureSpan = 30 * time.Minute
	bigValue    = 2356541274 // big.bytes's last value
	longMetric  = "a_very_long_metric_name.with_many_parts.and_segments_that_need_wrapping.total"
)

// leBuckets are the le values of the histogram of the fixture, in the
// order the page must list them.
var leBuckets = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}

type fixturePoint struct {
	Metric    string            `json:"metric"`
	Timestamp int64             `json:"timestamp"`
	Value     float64           `json:"value"`
	Tags      map[string]string `json:"tags"`
}

// pageFixture stores the fixture's series in srv and returns the time of
// the last point.
func pageFixture(t *testing.T, srv *testServer) time.Time {
	t.Helper()
	end := time.Now().Truncate(time.Second)
	var pts []fixturePoint
	add := func(metric string, tags map[string]string, v func(i int) float64) {
		n := int(fixtureSpan / fixtureStep)
		for i := 0; i <= n; i++ {
			ts := end.Add(-time.Duration(n-i) * fixtureStep).Unix()
			pts = append(pts, fixturePoint{metric, ts, v(i), tags})
		}
	}
	for c, city := range []string{"LDN", "NYC", "SF"} {
		add("order_count.count", map[string]string{"city": city, "service": "orders"}, func(i int) float64 {
			return float64(20 + 15*c + (i*7+c*3)%11)
		})
	}
	for b, le := range leBuckets {
		add("http.request.duration.bucket", map[string]string{"le": le, "handler": "/hello"}, func(i int) float64 { return float64((b + 1) * i) })
	}
	last := int(fixtureSpan / fixtureStep)
	add("big.bytes", map[string]string{"host": "web1"}, func(i int) float64 { return bigValue - float64(last-i)*1000 })
	add("apptuit.reporter.send.total", map[string]string{"host": "web1"}, func(i int) float64 { return float64(i * 10) })
	add(longMetric, map[string]string{"host": "web1"}, func(i int) float64 { return math.Sin(float64(i)/5) * 3 })
	for k := 0; k < 60; k++ {
		add("many.series", map[string]string{"i": fmt.Sprint(k)}, func(i int) float64 { return float64(k) + math.Sin(float64(i+k)/6) })
	}
	for len(pts) > 0 {
		n := min(len(pts), 5000)
		body, _ := json.Marshal(pts[:n])
		if code, b := post(t, srv, "", string(body)); code/100 != 2 {
			t.Fatalf("put: %d %s", code, b)
		}
		pts = pts[n:]
	}
	return end
}

// openPage starts a server with the web page and the fixture, and loads
// the page at path (with its query) in a browser of the given size.
func openPage(t *testing.T, path string, width, height int) (*browsertest.Page, *testServer) {
	t.Helper()
	p := browsertest.New(t, width, height)
	srv := newServer(t, WithWebPage())
	pageFixture(t, srv)
	p.Navigate(srv.URL() + path)
	p.Wait(`document.getElementById('stats').textContent.includes('series')`)
	return p, srv
}

// pageQuery is the page's path for a query over the last 15 minutes,
// refresh off (so that the chart holds still).
func pageQuery(lang, q string) string {
	return "/?" + url.Values{"q": {q}, "lang": {lang}, "range": {"15m"}, "refresh": {"off"}}.Encode()
}

// chartShown waits until the chart shows n series.
func chartShown(p *browsertest.Page, n int) {
	p.Wait(fmt.Sprintf(`document.getElementById('chart').dataset.state === 'chart' && document.getElementById('chart').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#chart .legend button').length === %d`, n))
}

// pageState is what the page shows of its query, read from the DOM.
type pageState struct {
	URL, Query, Lang, Range, From, To, Refresh, Step string
	ChartState, ChartLang                            string
	Start, End                                       int64
	Legend                                           []string
}

func readState(p *browsertest.Page) pageState {
	var st pageState
	p.Eval(`(() => { const c = document.getElementById('chart'); const v = (id) => document.getElementById(id).value; return {
		URL: location.search, Query: v('q'), Lang: v('lang'), Range: v('range'), From: v('from'), To: v('to'), Refresh: v('refresh'), Step: v('step'),
		ChartState: c.dataset.state, ChartLang: c.dataset.lang || '', Start: +(c.dataset.start || 0), End: +(c.dataset.end || 0),
		Legend: [...c.querySelectorAll('.legend button')].map(b => b.dataset.series) }; })()`, &st)
	return st
}

// runTyped clears the query box, types q and runs it with Ctrl+Enter.
func runTyped(p *browsertest.Page, q string) {
	p.Eval(`(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); })()`, nil)
	p.Type("#q", q)
	p.Eval(`document.getElementById('q-complete').hidden = true`, nil) // no suggestion taken by the Enter
	p.Key(kb.Enter, chromedp.ModifierCtrl)
}

// selectOption picks value in the <select> id, as a person would.
func selectOption(p *browsertest.Page, id, value string) {
	p.Eval(`(() => { const s = document.getElementById(`+browsertest.JS(id)+`); s.focus(); s.value = `+browsertest.JS(value)+`; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
}

// TestPageURLState: the query, its language, the time range and the
// refresh are in the URL; a reload and a shared link restore them, and
// back and forward step through them.
func TestPageURLState(t *testing.T) {
	p, srv := openPage(t, "/", 1360, 900)
	p.Wait(`document.getElementById('chart').dataset.state === 'initial'`)
	if st := readState(p); st.URL != "" {
		t.Errorf("before any query the URL has %q", st.URL)
	}

	// 1: an Apptuit query over the default 15 minutes.
	const qa = "fetch('order_count.count')"
	runTyped(p, qa)
	chartShown(p, 3)
	st := readState(p)
	want := "?" + url.Values{"q": {qa}, "lang": {"apptuit"}, "range": {"15m"}, "refresh": {"5s"}}.Encode()
	if u, _ := url.ParseQuery(st.URL[1:]); st.URL == "" || u.Encode() != want[1:] {
		t.Errorf("URL after the first query: %q, want the parameters of %q", st.URL, want)
	}
	// 2: the last hour.
	selectOption(p, "range", "1h")
	p.Wait(`location.search.includes('range=1h') && document.getElementById('chart').getAttribute('aria-busy') === 'false'`)
	// 3: PromQL with a step.
	selectOption(p, "lang", "promql")
	p.Eval(`document.getElementById('step').value = '30s'`, nil)
	const qb = `sum by (city) ({__name__="order_count.count"})`
	runTyped(p, qb)
	p.Wait(`document.getElementById('chart').dataset.lang === 'promql'`)
	chartShown(p, 3)
	st = readState(p)
	u, _ := url.ParseQuery(st.URL[1:])
	if u.Get("q") != qb || u.Get("lang") != "promql" || u.Get("range") != "1h" || u.Get("step") != "30s" || u.Get("refresh") != "5s" {
		t.Errorf("URL after the PromQL query: %q", st.URL)
	}
	// The refresh replaces the entry rather than adding one.
	n := p.HistoryLength()
	selectOption(p, "refresh", "0")
	p.Wait(`location.search.includes('refresh=off')`)
	if m := p.HistoryLength(); m != n {
		t.Errorf("changing the refresh added %d history entries", m-n)
	}
	p.Screenshot("web-url-state.png")

	// A reload restores all of it.
	p.Reload()
	p.Wait(`document.getElementById('chart').dataset.lang === 'promql'`)
	chartShown(p, 3)
	st = readState(p)
	if st.Query != qb || st.Lang != "promql" || st.Range != "1h" || st.Step != "30s" || st.Refresh != "0" || st.End-st.Start != 3600e3 {
		t.Errorf("after a reload: %+v", st)
	}

	// Back: the Apptuit query over the last hour, then over 15 minutes.
	p.Back()
	p.Wait(`document.getElementById('chart').dataset.lang === 'apptuit' && document.getElementById('range').value === '1h'`)
	chartShown(p, 3)
	if st = readState(p); st.Query != qa || st.Lang != "apptuit" || st.End-st.Start != 3600e3 {
		t.Errorf("one step back: %+v", st)
	}
	p.Back()
	p.Wait(`document.getElementById('range').value === '15m' && +document.getElementById('chart').dataset.end - +document.getElementById('chart').dataset.start === 900e3`)
	if st = readState(p); st.Query != qa || st.Lang != "apptuit" {
		t.Errorf("two steps back: %+v", st)
	}
	// Forward: the last hour again.
	p.Forward()
	p.Wait(`document.getElementById('range').value === '1h' && +document.getElementById('chart').dataset.end - +document.getElementById('chart').dataset.start === 3600e3`)
	// Back to the page without a query.
	p.Back()
	p.Back()
	p.Wait(`document.getElementById('chart').dataset.state === 'initial' && document.getElementById('q').value === ''`)

	// A shared link: an absolute range, PromQL, a step, refresh off.
	from, to := time.Now().Add(-20*time.Minute).UTC().Truncate(time.Second), time.Now().Add(-5*time.Minute).UTC().Truncate(time.Second)
	link := "/?" + url.Values{"q": {`{__name__="big.bytes"}`}, "lang": {"promql"}, "from": {from.Format(time.RFC3339)},
		"to": {to.Format(time.RFC3339)}, "step": {"1m"}, "refresh": {"off"}}.Encode()
	p.Navigate(srv.URL() + link)
	chartShown(p, 1)
	st = readState(p)
	// A datetime-local field leaves out seconds that are 0.
	local := func(t time.Time) string { return strings.TrimSuffix(t.Format("2006-01-02T15:04:05"), ":00") }
	if st.Lang != "promql" || st.Range != "custom" || st.Start != from.UnixMilli() || st.End != to.UnixMilli() || st.Step != "1m" || st.Refresh != "0" ||
		strings.TrimSuffix(st.From, ":00") != local(from) || strings.TrimSuffix(st.To, ":00") != local(to) {
		t.Errorf("the shared link %s shows %+v", link, st)
	}
	var step string
	p.Eval(`document.getElementById('chart').dataset.step`, &step)
	if step != "60" {
		t.Errorf("the shared link's step: %s s, want 60", step)
	}
	// A link with a value the page cannot read says so, and uses the default.
	p.Navigate(srv.URL() + "/?q=fetch('big.bytes')&range=3w&refresh=off")
	chartShown(p, 1)
	var status string
	p.Eval(`document.getElementById('query-status').textContent`, &status)
	if st = readState(p); st.Range != "15m" || !strings.Contains(status, "range=3w") {
		t.Errorf("a link with range=3w: range %q, status %q", st.Range, status)
	}
	p.NoProblems()
}

// plotBox is the plot area of the chart (uPlot's overlay), in viewport
// pixels.
func plotBox(p *browsertest.Page) (x, y, w, h float64) {
	return p.Rect("#chart .u-over")
}

// TestPageZoom: dragging across the chart zooms into that time range (a
// new query, a history entry); a double-click goes back to the range the
// zoom started from.
func TestPageZoom(t *testing.T) {
	p, _ := openPage(t, pageQuery("apptuit", "fetch('order_count.count')"), 1360, 900)
	chartShown(p, 3)
	before := readState(p)
	x, y, w, h := plotBox(p)
	x0, x1 := x+w*0.25, x+w*0.75
	p.Mouse(chromedp.MouseMoved, x0, y+h/2, 0)
	p.Mouse(chromedp.MousePressed, x0, y+h/2, 1)
	for i := 1; i <= 10; i++ {
		p.Mouse(chromedp.MouseMoved, x0+(x1-x0)*float64(i)/10, y+h/2, 1)
	}
	p.Mouse(chromedp.MouseReleased, x1, y+h/2, 1)
	p.Wait(`document.getElementById('range').value === 'custom' && location.search.includes('from=')`)
	chartShown(p, 3)
	st := readState(p)
	span := float64(before.End - before.Start)
	wantStart, wantEnd := float64(before.Start)+span*0.25, float64(before.Start)+span*0.75
	if math.Abs(float64(st.Start)-wantStart) > span/w*2 || math.Abs(float64(st.End)-wantEnd) > span/w*2 {
		t.Errorf("zoomed to %d..%d, want about %.0f..%.0f (2 pixels %.0f ms)", st.Start, st.End, wantStart, wantEnd, span/w*2)
	}
	u, _ := url.ParseQuery(st.URL[1:])
	if from, _ := time.Parse(time.RFC3339Nano, u.Get("from")); from.UnixMilli() != st.Start {
		t.Errorf("URL from=%s, chart starts %d", u.Get("from"), st.Start)
	}
	// The zoomed chart holds only the points inside the range: a point
	// every 15 s over half of 15 minutes.
	var points []int
	p.Eval(`[...document.querySelectorAll('#chart .legend button')].map(b => +b.dataset.points)`, &points)
	for _, n := range points {
		if n < 28 || n > 32 {
			t.Errorf("a zoomed series has %d points, want about 30 (%v)", n, points)
		}
	}
	p.Screenshot("web-zoom.png")

	// Zooming again, then a double-click: the 15 minutes of before.
	x, y, w, h = plotBox(p)
	p.Mouse(chromedp.MouseMoved, x+w*0.2, y+h/2, 0)
	p.Mouse(chromedp.MousePressed, x+w*0.2, y+h/2, 1)
	p.Mouse(chromedp.MouseMoved, x+w*0.4, y+h/2, 1)
	p.Mouse(chromedp.MouseReleased, x+w*0.4, y+h/2, 1)
	p.Wait(fmt.Sprintf(`+document.getElementById('chart').dataset.start > %d`, st.Start+int64(span/20)))
	chartShown(p, 3)
	x, y, w, h = plotBox(p)
	p.Mouse(chromedp.MouseMoved, x+w/2, y+h/2, 0)
	p.Mouse(chromedp.MousePressed, x+w/2, y+h/2, 1)
	p.Mouse(chromedp.MouseReleased, x+w/2, y+h/2, 1)
	p.Mouse(chromedp.MousePressed, x+w/2, y+h/2, 2)
	p.Mouse(chromedp.MouseReleased, x+w/2, y+h/2, 2)
	p.Wait(`document.getElementById('range').value === '15m' && location.search.includes('range=15m')`)
	chartShown(p, 3)
	if st := readState(p); st.End-st.Start != 900e3 {
		t.Errorf("after the double-click the chart spans %d ms", st.End-st.Start)
	}
	// Back: the second zoom, then the first.
	p.Back()
	p.Wait(fmt.Sprintf(`document.getElementById('range').value === 'custom' && +document.getElementById('chart').dataset.start > %d`, st.Start+int64(span/20)))
	p.Back()
	p.Wait(fmt.Sprintf(`+document.getElementById('chart').dataset.start === %d`, st.Start))
	p.NoProblems()
}

// recordCanvasText makes every page the tab loads keep the text it draws
// on a canvas (the chart's axes) in window.canvasText.
func recordCanvasText(p *browsertest.Page) {
	p.OnNewDocument(`window.canvasText = [];
		const fill = CanvasRenderingContext2D.prototype.fillText;
		CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) { window.canvasText.push(String(text)); return fill.call(this, text, ...rest); };`)
}

// suggestions waits for the autocompletion list of kind and returns it.
func suggestions(p *browsertest.Page, kind string) []string {
	p.Wait(`!document.getElementById('q-complete').hidden && document.getElementById('q-complete').dataset.kind === ` + browsertest.JS(kind) +
		` && document.getElementById('q').getAttribute('aria-expanded') === 'true'`)
	var items []string
	p.Eval(`[...document.querySelectorAll('#q-complete li[role=option]')].map(li => li.textContent)`, &items)
	return items
}

func queryText(p *browsertest.Page) string {
	var q string
	p.Eval(`document.getElementById('q').value`, &q)
	return q
}

// TestPageAutocomplete: typing in the query box suggests metric names,
// tag keys and tag values from the server's label API, for both query
// languages; Tab or Enter takes one.
func TestPageAutocomplete(t *testing.T) {
	p, _ := openPage(t, "/?refresh=off", 1360, 900)
	p.Eval(`document.getElementById('q').focus()`, nil)

	// Apptuit: a metric, a tag key, a tag value.
	p.Type("#q", "fetch('ord")
	if got := suggestions(p, "metric"); !slices.Equal(got, []string{"order_count.count"}) {
		t.Errorf("fetch('ord suggests %q", got)
	}
	p.Key(kb.Tab)
	if q := queryText(p); q != "fetch('order_count.count'" {
		t.Errorf("after Tab: %q", q)
	}
	p.Type("#q", ", {'")
	if got := suggestions(p, "key"); !slices.Equal(got, []string{"city", "service"}) {
		t.Errorf("tag keys: %q", got)
	}
	p.Type("#q", "ci")
	if got := suggestions(p, "key"); !slices.Equal(got, []string{"city"}) {
		t.Errorf("tag keys after ci: %q", got)
	}
	p.Key(kb.Enter)
	if q := queryText(p); q != "fetch('order_count.count', {'city': '" {
		t.Errorf("after Enter on a key: %q", q)
	}
	if got := suggestions(p, "value"); !slices.Equal(got, []string{"LDN", "NYC", "SF"}) {
		t.Errorf("tag values: %q", got)
	}
	p.Screenshot("web-autocomplete.png")
	p.Key(kb.ArrowDown)
	p.Key(kb.Enter)
	if q := queryText(p); q != "fetch('order_count.count', {'city': 'NYC'" {
		t.Errorf("after ArrowDown, Enter on a value: %q", q)
	}
	p.Type("#q", "})")
	p.Wait(`document.getElementById('q-complete').hidden`)
	p.Key(kb.Enter, chromedp.ModifierCtrl)
	chartShown(p, 1)
	if st := readState(p); !slices.Equal(st.Legend, []string{"order_count.count{city=NYC, service=orders}"}) {
		t.Errorf("the completed query charts %q", st.Legend)
	}
	// Escape closes the list; a value after | is completed on its own.
	p.Eval(`document.getElementById('q').value = ''`, nil)
	p.Type("#q", "fetch('order_count.count', {'city': 'LDN|S")
	if got := suggestions(p, "value"); !slices.Equal(got, []string{"SF"}) {
		t.Errorf("values after |: %q", got)
	}
	p.Key(kb.Escape)
	p.Wait(`document.getElementById('q-complete').hidden`)

	// PromQL: a dotted metric name becomes {"name"}; labels and values.
	selectOption(p, "lang", "promql")
	p.Eval(`(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); })()`, nil)
	p.Type("#q", "rate(http")
	if got := suggestions(p, "metric"); !slices.Equal(got, []string{"http.request.duration.bucket"}) {
		t.Errorf("rate(http suggests %q", got)
	}
	p.Key(kb.Enter)
	if q := queryText(p); q != `rate({"http.request.duration.bucket"}` {
		t.Errorf("a dotted name taken in PromQL: %q", q)
	}
	p.Eval(`document.getElementById('q').value = ''`, nil)
	p.Type("#q", `{"order`)
	if got := suggestions(p, "metric"); !slices.Equal(got, []string{"order_count.count"}) {
		t.Errorf(`{"order suggests %q`, got)
	}
	p.Key(kb.Tab)
	p.Type("#q", ", se")
	if got := suggestions(p, "key"); !slices.Equal(got, []string{"service"}) {
		t.Errorf("label names after se: %q", got)
	}
	p.Key(kb.Tab)
	if got := suggestions(p, "value"); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("values of service: %q", got)
	}
	p.Key(kb.Tab)
	p.Type("#q", ", city=~\"")
	if got := suggestions(p, "value"); !slices.Equal(got, []string{"LDN", "NYC", "SF"}) {
		t.Errorf("values of city: %q", got)
	}
	p.Type("#q", "S")
	p.Key(kb.Tab)
	p.Type("#q", "}")
	if q := queryText(p); q != `{"order_count.count", service="orders", city=~"SF"}` {
		t.Errorf("the completed PromQL query: %q", q)
	}
	p.Key(kb.Enter, chromedp.ModifierCtrl)
	p.Wait(`document.getElementById('chart').dataset.lang === 'promql'`)
	chartShown(p, 1)
	// Every control keeps a label, the list too.
	var unlabelled []string
	p.Eval(`[...document.querySelectorAll('input, select, textarea, button, [role=listbox]')].filter(e =>
		!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.outerHTML.slice(0, 80))`, &unlabelled)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q", unlabelled)
	}
	p.NoProblems()
}

// TestPageValueFormat: the legend and the tooltip write values as the
// value axis does (SI prefixes, 4 significant digits), and the exact value
// on hover.
func TestPageValueFormat(t *testing.T) {
	p := browsertest.New(t, 1360, 900)
	recordCanvasText(p)
	srv := newServer(t, WithWebPage())
	pageFixture(t, srv)
	p.Navigate(srv.URL() + pageQuery("apptuit", "fetch('big.bytes')"))
	chartShown(p, 1)
	// What the canvas shows: draw it again, recording its text.
	p.Eval(`(window.canvasText.length = 0, window.dispatchEvent(new Event('resize')))`, nil)
	p.Wait(`window.canvasText.length > 0 && document.getElementById('chart').dataset.drawn === 'true'`)
	var drawn []string
	p.Eval(`window.canvasText`, &drawn)
	var yLabels []string
	for _, s := range drawn {
		if strings.HasSuffix(s, "G") {
			yLabels = append(yLabels, s)
		} else if !regexp.MustCompile(`^(\d\d:\d\d|[A-Z][a-z]{2} \d{1,2})$`).MatchString(s) {
			t.Errorf("the chart drew %q: neither a value in G nor a time or a date", s)
		}
	}
	if len(yLabels) < 3 {
		t.Errorf("value axis labels %q: want at least 3, in G", yLabels)
	}
	for _, l := range yLabels {
		if !regexp.MustCompile(`^2\.3\d*G$`).MatchString(l) {
			t.Errorf("value axis label %q, want 2.3...G", l)
		}
	}
	type shown struct{ Text, Title, Value string }
	var legend shown
	p.Eval(`(() => { const v = document.querySelector('#chart .legend .val'); return {Text: v.textContent, Title: v.title, Value: v.dataset.value}; })()`, &legend)
	if legend != (shown{"2.357G", "2356541274", "2356541274"}) {
		t.Errorf("the legend shows the last value as %+v, want 2.357G and 2356541274 on hover", legend)
	}
	var listed shown
	p.Eval(`(() => { const v = document.querySelector('#metrics li[data-metric="big.bytes"] .metric-last'); return {Text: v.textContent, Title: v.title}; })()`, &listed)
	if listed.Text != "2.357G" || !strings.HasPrefix(listed.Title, "2356541274, at ") {
		t.Errorf("the metrics list shows big.bytes's last value as %+v", listed)
	}

	// Hover over the last point: the tooltip and the legend show its value.
	x, y, w, h := plotBox(p)
	p.Mouse(chromedp.MouseMoved, x+w-2, y+h/2, 0) // the last point is the nearest
	p.Wait(`!document.querySelector('#chart .tooltip').hidden`)
	var tip struct {
		When                   string
		Val, Full, DataValue   string
		LegendVal, LegendTitle string
	}
	p.Eval(`(() => { const t = document.querySelector('#chart .tooltip'); const r = t.querySelector('.row.focus'); const l = document.querySelector('#chart .legend .val'); return {
		When: t.querySelector('.when').textContent, Val: r.querySelector('.val').textContent, Full: r.querySelector('.full').textContent, DataValue: r.dataset.value,
		LegendVal: l.textContent, LegendTitle: l.title}; })()`, &tip)
	if tip.Val != "2.357G" || tip.Full != "2356541274" || tip.DataValue != "2356541274" || tip.LegendVal != "2.357G" || tip.LegendTitle != "2356541274" {
		t.Errorf("hovering the last point: %+v", tip)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(tip.When) {
		t.Errorf("the tooltip's time: %q", tip.When)
	}
	p.Screenshot("web-value-format.png")

	// Small and negative values: 4 significant digits, the exact value on hover.
	runTyped(p, "fetch('"+longMetric+"')")
	chartShown(p, 1)
	p.Eval(`(() => { const v = document.querySelector('#chart .legend .val'); return {Text: v.textContent, Title: v.title, Value: v.dataset.value}; })()`, &legend)
	want := math.Sin(float64(int(fixtureSpan/fixtureStep))/5) * 3
	if legend.Title != fmt.Sprint(want) || legend.Text != fmt.Sprint(math.Round(want*1000)/1000) {
		t.Errorf("the legend shows %v as %+v", want, legend)
	}
	p.NoProblems()
}

// lineBreaks returns, for each element selector matches, the characters
// before which its text wraps onto a new line, each with the character
// before it: "x|y" for a break between x and y.
func lineBreaks(p *browsertest.Page, selector string) [][]string {
	var out [][]string
	p.Eval(`[...document.querySelectorAll(`+browsertest.JS(selector)+`)].map(el => {
		const breaks = []; let prevTop = null, prev = '';
		const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			for (let i = 0; i < n.length; i++) {
				const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
				const rect = [...r.getClientRects()].find(b => b.width > 0);
				if (!rect || n.data[i] === ' ') { prev = n.data[i]; continue; }
				if (prevTop !== null && rect.top > prevTop + 2) breaks.push(prev + '|' + n.data[i]);
				prevTop = rect.top; prev = n.data[i];
			}
		}
		return breaks;
	})`, &out)
	return out
}

// checkBreaks fails t for a line break that is not after a space or one
// of . _ , { = /.
func checkBreaks(t *testing.T, what string, breaks [][]string) int {
	t.Helper()
	n := 0
	for _, bs := range breaks {
		for _, b := range bs {
			n++
			if !strings.ContainsAny(b[:1], " ._,{=/") {
				t.Errorf("%s wraps inside a word: %q", what, b)
			}
		}
	}
	return n
}

type rgb [3]float64

func parseHex(t *testing.T, s string) rgb {
	t.Helper()
	var c rgb
	var r, g, b int
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		t.Fatalf("colour %q: %v", s, err)
	}
	c[0], c[1], c[2] = float64(r), float64(g), float64(b)
	return c
}

func parseCSSColor(t *testing.T, s string) rgb {
	t.Helper()
	var c rgb
	if _, err := fmt.Sscanf(s, "rgb(%g, %g, %g)", &c[0], &c[1], &c[2]); err != nil {
		t.Fatalf("colour %q: %v", s, err)
	}
	return c
}

func linear(v float64) float64 {
	v /= 255
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func luminance(c rgb) float64 {
	return 0.2126*linear(c[0]) + 0.7152*linear(c[1]) + 0.0722*linear(c[2])
}

// contrast is WCAG's contrast ratio.
func contrast(a, b rgb) float64 {
	x, y := luminance(a), luminance(b)
	return (max(x, y) + 0.05) / (min(x, y) + 0.05)
}

// deltaE is the CIE76 colour difference, in CIELAB (D65).
func deltaE(a, b rgb) float64 {
	lab := func(c rgb) [3]float64 {
		r, g, bl := linear(c[0]), linear(c[1]), linear(c[2])
		x := (0.4124564*r + 0.3575761*g + 0.1804375*bl) / 0.95047
		y := 0.2126729*r + 0.7151522*g + 0.072175*bl
		z := (0.0193339*r + 0.119192*g + 0.9503041*bl) / 1.08883
		f := func(t float64) float64 {
			if t > math.Pow(6.0/29, 3) {
				return math.Cbrt(t)
			}
			return t/(3*(6.0/29)*(6.0/29)) + 4.0/29
		}
		return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
	}
	p, q := lab(a), lab(b)
	return math.Hypot(math.Hypot(p[0]-q[0], p[1]-q[1]), p[2]-q[2])
}

// checkColours checks the legend's colours: all distinct, each pair at
// least ΔE 15 apart, each at least 3:1 against the panel; it returns how
// many there are.
func checkColours(t *testing.T, p *browsertest.Page) int {
	t.Helper()
	var got struct {
		Colors []string
		Panel  string
	}
	p.Eval(`({Colors: [...document.querySelectorAll('#chart .legend button')].map(b => b.dataset.color),
		Panel: getComputedStyle(document.querySelector('#chart').closest('.panel')).backgroundColor})`, &got)
	panel := parseCSSColor(t, got.Panel)
	n := min(len(got.Colors), 64) // the palette's size; more series repeat it
	minD, at := math.Inf(1), ""
	for i := 0; i < n; i++ {
		ci := parseHex(t, got.Colors[i])
		if c := contrast(ci, panel); c < 3 {
			t.Errorf("series %d's colour %s has a contrast of %.2f against the panel %s, want 3 or more", i, got.Colors[i], c, got.Panel)
		}
		for j := 0; j < i; j++ {
			if d := deltaE(ci, parseHex(t, got.Colors[j])); d < minD {
				minD, at = d, got.Colors[j]+" and "+got.Colors[i]
			}
		}
	}
	if minD < 15 {
		t.Errorf("the closest of %d colours, %s, are ΔE %.1f apart; want 15 or more", n, at, minD)
	}
	t.Logf("%d colours, the closest ΔE %.1f apart (%s)", n, minD, at)
	return n
}

// canvasColours counts the chart's pixels of each colour of colors.
func canvasColours(p *browsertest.Page, colors []string) map[string]int {
	var counts map[string]int
	want, _ := json.Marshal(colors) // strings: cannot fail
	p.Eval(`(() => { const want = new Set(`+string(want)+`); const counts = {}; for (const c of want) counts[c] = 0;
		for (const cv of document.querySelectorAll('#chart canvas')) {
			const copy = document.createElement('canvas'); copy.width = cv.width; copy.height = cv.height;
			const ctx = copy.getContext('2d', {willReadFrequently: true}); ctx.drawImage(cv, 0, 0);
			const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
			for (let i = 0; i < d.length; i += 4) {
				if (d[i + 3] !== 255) continue;
				const hex = '#' + [d[i], d[i + 1], d[i + 2]].map(v => v.toString(16).padStart(2, '0')).join('');
				if (want.has(hex)) counts[hex]++;
			}
		}
		return counts; })()`, &counts)
	return counts
}

// TestPageSeriesOrderAndColours: series in natural order (le numerically,
// +Inf last), the user's metrics before the meta metrics, names wrapping
// between words, a distinct colour for each of 60 series, and a legend
// that isolates a series with a click.
func TestPageSeriesOrderAndColours(t *testing.T) {
	p, _ := openPage(t, pageQuery("promql", `{__name__=~"apptuit.reporter.send.total|http.request.duration.bucket|big.bytes"}`), 1360, 900)
	chartShown(p, 14)
	var want []string
	want = append(want, `big.bytes{host="web1"}`)
	for _, le := range leBuckets {
		want = append(want, `http.request.duration.bucket{handler="/hello", le="`+le+`"}`)
	}
	want = append(want, `apptuit.reporter.send.total{host="web1"}`)
	if st := readState(p); !slices.Equal(st.Legend, want) {
		t.Errorf("legend:\n%s\nwant:\n%s", strings.Join(st.Legend, "\n"), strings.Join(want, "\n"))
	}
	// The metrics list: the user's first, le values in order.
	var listed []string
	p.Eval(`[...document.querySelectorAll('#metrics li.metric')].map(li => li.dataset.metric)`, &listed)
	if wantList := []string{longMetric, "big.bytes", "http.request.duration.bucket", "many.series", "order_count.count", "apptuit.reporter.send.total"}; !slices.Equal(listed, wantList) {
		t.Errorf("metrics list %q, want %q", listed, wantList)
	}
	var meta string
	p.Eval(`document.querySelector('#metrics li[data-metric="http.request.duration.bucket"] .metric-meta').textContent`, &meta)
	if !strings.Contains(meta, "le: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, …") {
		t.Errorf("the histogram's summary: %q", meta)
	}
	// The long name wraps in the list, between words only.
	if n := checkBreaks(t, "the metrics list", lineBreaks(p, `#metrics li[data-metric="`+longMetric+`"] .metric-name`)); n == 0 {
		t.Errorf("the long metric name did not wrap in the list")
	}
	// The series of the histogram expanded: in le order too.
	p.Eval(`document.querySelector('#metrics li[data-metric="http.request.duration.bucket"] .expand').click()`, nil)
	p.Wait(`document.querySelectorAll('#metrics li[data-metric="http.request.duration.bucket"] .series-list li').length === 12`)
	var les []string
	p.Eval(`[...document.querySelectorAll('#metrics li[data-metric="http.request.duration.bucket"] .series-list li')].map(li => [...li.querySelectorAll('.tag')].map(t => t.textContent).find(t => t.startsWith('le=')).slice(3))`, &les)
	if !slices.Equal(les, leBuckets) {
		t.Errorf("the histogram's series in the list: %q", les)
	}

	// 60 series: 60 colours, told apart; and each drawn in its own colour.
	selectOption(p, "lang", "apptuit")
	runTyped(p, "fetch('many.series')")
	chartShown(p, 60)
	if st := readState(p); st.Legend[0] != "many.series{i=0}" || st.Legend[9] != "many.series{i=9}" || st.Legend[10] != "many.series{i=10}" {
		t.Errorf("many.series in the legend: %q", st.Legend[:12])
	}
	checkColours(t, p)
	var colors []string
	p.Eval(`[...document.querySelectorAll('#chart .legend button')].map(b => b.dataset.color)`, &colors)
	counts := canvasColours(p, colors)
	drawn := 0
	for _, c := range colors {
		if counts[c] > 0 {
			drawn++
		}
	}
	if drawn < 55 { // a line may be hidden under others
		t.Errorf("only %d of 60 colours are on the canvas: %v", drawn, counts)
	}
	p.Screenshot("web-60-series.png")

	// A click isolates a series: only its colour is on the canvas.
	p.Eval(`document.querySelector('#chart .legend button[data-series="many.series{i=7}"]').click()`, nil)
	p.Wait(`[...document.querySelectorAll('#chart .legend button')].filter(b => b.getAttribute('aria-pressed') === 'true').map(b => b.dataset.series).join() === 'many.series{i=7}'`)
	counts = canvasColours(p, colors)
	for i, c := range colors {
		if (i == 7) != (counts[c] > 0) {
			t.Errorf("after isolating series 7, series %d's colour %s has %d pixels", i, c, counts[c])
		}
	}
	p.Screenshot("web-isolated.png")
	// Again: all of them. Ctrl+click: one hidden.
	p.Eval(`document.querySelector('#chart .legend button[data-series="many.series{i=7}"]').click()`, nil)
	p.Wait(`[...document.querySelectorAll('#chart .legend button')].every(b => b.getAttribute('aria-pressed') === 'true')`)
	p.Eval(`document.querySelector('#chart .legend button[data-series="many.series{i=3}"]').dispatchEvent(new MouseEvent('click', {ctrlKey: true, bubbles: true}))`, nil)
	p.Wait(`[...document.querySelectorAll('#chart .legend button')].filter(b => b.getAttribute('aria-pressed') === 'false').map(b => b.dataset.series).join() === 'many.series{i=3}'`)
	if counts = canvasColours(p, colors); counts[colors[3]] != 0 || counts[colors[4]] == 0 {
		t.Errorf("after hiding series 3: its colour has %d pixels, series 4's %d", counts[colors[3]], counts[colors[4]])
	}
	p.NoProblems()
}

// TestPageStates: a loading state while a query runs, an error state that
// replaces the chart, an empty state when the query matched nothing.
func TestPageStates(t *testing.T) {
	p, _ := openPage(t, "/?refresh=off", 1360, 900)
	var text string
	p.Wait(`document.getElementById('chart').dataset.state === 'initial'`)
	p.Eval(`document.querySelector('#chart .chart-state').textContent`, &text)
	if text != "Run a query, or pick one of the metrics received, to chart it here." {
		t.Errorf("the initial state says %q", text)
	}

	// Loading: the answer held back until the page shows it waits.
	held, release := p.Hold("*/api/query?*")
	runTyped(p, "fetch('order_count.count')")
	p.Wait(`document.getElementById('chart').getAttribute('aria-busy') === 'true' && !document.querySelector('#chart .chart-loading').hidden`)
	p.Wait(`getComputedStyle(document.querySelector('#chart .chart-loading')).opacity === '1'`) // it fades in after 150 ms
	var loading struct {
		Text    string
		Opacity string
	}
	p.Eval(`(() => { const l = document.querySelector('#chart .chart-loading'); return {Text: l.textContent, Opacity: getComputedStyle(l).opacity}; })()`, &loading)
	if loading.Text != "Loading…" || loading.Opacity != "1" || held() != 1 {
		t.Errorf("while the query runs: %+v, %d requests held", loading, held())
	}
	p.Screenshot("web-loading.png")
	release()
	chartShown(p, 3)

	// Error: the chart is gone, the server's message is shown.
	runTyped(p, "fetch('order_count.count').rate(")
	p.Wait(`document.getElementById('chart').dataset.state === 'error'`)
	var errState struct {
		Role, Title, Detail string
		Charts, Legend      int
		Status              string
	}
	p.Eval(`(() => { const c = document.getElementById('chart'); const s = c.querySelector('.chart-state'); return {
		Role: s.getAttribute('role'), Title: s.querySelector('.title').textContent, Detail: s.querySelector('.detail').textContent,
		Charts: c.querySelectorAll('canvas').length, Legend: c.querySelectorAll('.legend li').length,
		Status: document.getElementById('query-status').textContent}; })()`, &errState)
	if errState.Role != "alert" || errState.Title != "Query error (HTTP 400)" || !strings.Contains(errState.Detail, "line 1") ||
		errState.Charts != 0 || errState.Legend != 0 || strings.Contains(errState.Status, "Run a query") {
		t.Errorf("after a bad query: %+v", errState)
	}
	p.Screenshot("web-error.png")

	// Empty: a query that matches nothing.
	runTyped(p, "fetch('no.such.metric')")
	p.Wait(`document.getElementById('chart').dataset.state === 'empty'`)
	p.Eval(`document.querySelector('#chart .chart-state').textContent`, &text)
	if !strings.HasPrefix(text, "No series in this time range.The query ran and matched no points") {
		t.Errorf("the empty state says %q", text)
	}
	p.Screenshot("web-empty.png")
	// And back to a chart.
	runTyped(p, "fetch('order_count.count')")
	chartShown(p, 3)
	p.NoProblems("the server responded with a status of 400 (Bad Request)")
}

// TestPageRequestLog: the request log shows each request's query decoded,
// its full text on hover.
func TestPageRequestLog(t *testing.T) {
	p, srv := openPage(t, "/?refresh=off", 1360, 900)
	q := "fetch('order_count.count', {'city': 'NYC|SF'}).rate().series_sum() # " + strings.Repeat("a long comment ", 10)
	target := "/api/query?" + url.Values{"start": {"1700000000"}, "q": {q}}.Encode()
	if code, body, _ := do(t, "GET", srv.URL()+target, nil, map[string]string{"User-Agent": "test-agent/1"}); code != 200 {
		t.Fatalf("%s: %d %s", target, code, body)
	}
	p.Eval(`document.getElementById('refresh').value = '2', document.getElementById('refresh').dispatchEvent(new Event('change'))`, nil)
	p.Wait(`[...document.querySelectorAll('#requests td.request')].some(td => td.dataset.text.startsWith('/api/query'))`)
	var row struct {
		Text, Shown, Title string
		Clipped            bool
		Width, ScrollWidth float64
	}
	p.Eval(`(() => { const td = [...document.querySelectorAll('#requests td.request')].find(td => td.dataset.text.startsWith('/api/query'));
		return {Text: td.dataset.text, Shown: td.textContent, Title: td.title, Width: td.clientWidth, ScrollWidth: td.scrollWidth}; })()`, &row)
	wantText := "/api/query?q=" + q + "&start=1700000000"
	if row.Text != wantText || row.Shown != wantText || row.Title != wantText+"\n\ntest-agent/1" {
		t.Errorf("the request's row: %+v\nwant the text %q", row, wantText)
	}
	if row.ScrollWidth <= row.Width {
		t.Errorf("the long request is not clipped (%v of %v px): the test does not test the hover", row.Width, row.ScrollWidth)
	}
	// The page's own PromQL queries, decoded too.
	p.Eval(`document.getElementById('hide-page').click()`, nil)
	selectOption(p, "lang", "promql")
	runTyped(p, `rate({__name__="order_count.count", city=~"NYC|SF"}[1m])`)
	chartShown(p, 2)
	p.Wait(`[...document.querySelectorAll('#requests td.request')].some(td => td.dataset.text.startsWith('/api/v1/query_range?query=rate({__name__="order_count.count", city=~"NYC|SF"}[1m])&start='))`)
	var shown []string
	p.Eval(`[...document.querySelectorAll('#requests td.request')].map(td => td.textContent)`, &shown)
	for _, s := range shown {
		if strings.Contains(s, "%") {
			t.Errorf("a request shown still encoded: %q", s)
		}
	}
	p.Screenshot("web-requests.png")
	p.NoProblems()
}

// colours reads computed colours of the page: its background, its text,
// a panel's background and its muted text.
type pageColours struct{ Body, Ink, Panel, Muted, Theme string }

func readColours(p *browsertest.Page) pageColours {
	var c pageColours
	p.Eval(`(() => { const b = getComputedStyle(document.body); const panel = getComputedStyle(document.querySelector('.panel'));
		return {Body: b.backgroundColor, Ink: b.color, Panel: panel.backgroundColor,
			Muted: getComputedStyle(document.getElementById('query-status')).color, Theme: document.getElementById('chart').dataset.theme || ''}; })()`, &c)
	return c
}

// TestPageDarkMode: the page follows the system's colour scheme, the
// chart's colours too, and switches when the setting does.
func TestPageDarkMode(t *testing.T) {
	p := browsertest.New(t, 1360, 900)
	p.ColorScheme("dark")
	srv := newServer(t, WithWebPage())
	pageFixture(t, srv)
	p.Navigate(srv.URL() + pageQuery("apptuit", "fetch('many.series')"))
	chartShown(p, 60)
	c := readColours(p)
	body, ink, panel, muted := parseCSSColor(t, c.Body), parseCSSColor(t, c.Ink), parseCSSColor(t, c.Panel), parseCSSColor(t, c.Muted)
	if luminance(body) > 0.02 || luminance(panel) > 0.03 || c.Theme != "dark" {
		t.Errorf("dark scheme: background %s, panel %s, chart theme %q", c.Body, c.Panel, c.Theme)
	}
	if r := contrast(ink, panel); r < 7 {
		t.Errorf("dark scheme: text %s on %s, contrast %.1f, want 7 or more", c.Ink, c.Panel, r)
	}
	if r := contrast(muted, panel); r < 4.5 {
		t.Errorf("dark scheme: muted text %s on %s, contrast %.1f, want 4.5 or more", c.Muted, c.Panel, r)
	}
	checkColours(t, p)
	var first string
	p.Eval(`document.querySelector('#chart .legend button').dataset.color`, &first)
	if first != "#4c8df6" {
		t.Errorf("dark scheme: the first series is %s, want the dark palette's #4c8df6", first)
	}
	p.Screenshot("web-dark.png")

	// The setting changes: the page and the chart follow without a reload.
	p.ColorScheme("light")
	p.Wait(`document.getElementById('chart').dataset.theme === 'light' && document.querySelector('#chart .legend button').dataset.color === '#1f6feb'`)
	c = readColours(p)
	body, ink, panel, muted = parseCSSColor(t, c.Body), parseCSSColor(t, c.Ink), parseCSSColor(t, c.Panel), parseCSSColor(t, c.Muted)
	if luminance(body) < 0.8 || contrast(ink, panel) < 7 || contrast(muted, panel) < 4.5 {
		t.Errorf("light scheme: %+v", c)
	}
	checkColours(t, p)
	p.Screenshot("web-light.png")
	p.NoProblems()
}

// TestPageNarrow: the page works 390 pixels wide (a phone): nothing is
// wider than the screen, the chart fits and draws, names wrap between
// words, and a query can be typed and run.
func TestPageNarrow(t *testing.T) {
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			p := browsertest.New(t, 390, 844)
			p.Viewport(390, 844, true)
			p.ColorScheme(scheme)
			srv := newServer(t, WithWebPage())
			pageFixture(t, srv)
			p.Navigate(srv.URL() + pageQuery("apptuit", "fetch('"+longMetric+"')"))
			chartShown(p, 1)
			var layout struct {
				Width, ScrollWidth float64
				Wide               []string
				Chart              float64
				Run                struct{ X, Y, W, H float64 }
			}
			p.Eval(`(() => { const vw = document.documentElement.clientWidth;
				const wide = [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
					return r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5) && !e.closest('.table-wrap, .legend, .metrics, .tooltip'); })
					.map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right));
				const run = document.getElementById('run').getBoundingClientRect();
				return {Width: vw, ScrollWidth: document.documentElement.scrollWidth, Wide: wide,
					Chart: document.querySelector('#chart canvas').getBoundingClientRect().width, Run: {X: run.x, Y: run.y, W: run.width, H: run.height}}; })()`, &layout)
			if layout.Width != 390 || layout.ScrollWidth > 390 || len(layout.Wide) > 0 {
				t.Errorf("at 390 px: the page is %v px wide (scrolls to %v); wider than the screen: %q", layout.Width, layout.ScrollWidth, layout.Wide)
			}
			if layout.Chart < 300 || layout.Chart > 390 {
				t.Errorf("the chart is %v px wide", layout.Chart)
			}
			// The legend's long name wraps between words.
			if n := checkBreaks(t, "the legend", lineBreaks(p, "#chart .legend .name")); n == 0 {
				t.Errorf("the long name did not wrap in the legend")
			}
			checkBreaks(t, "the metrics list", lineBreaks(p, "#metrics .metric-name"))
			p.Screenshot("web-390-" + scheme + ".png")

			// A tap on the Run button runs the query typed.
			p.Eval(`(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); })()`, nil)
			p.Type("#q", "fetch('order_count.count')")
			p.Eval(`document.getElementById('q-complete').hidden = true`, nil)
			x, y, w, h := p.Rect("#run")
			p.Mouse(chromedp.MousePressed, x+w/2, y+h/2, 1)
			p.Mouse(chromedp.MouseReleased, x+w/2, y+h/2, 1)
			chartShown(p, 3)
			checkBreaks(t, "the legend", lineBreaks(p, "#chart .legend .name"))
			p.Eval(`window.scrollTo(0, 0)`, nil)
			p.Screenshot("web-390-" + scheme + "-query.png")
			p.NoProblems()
		})
	}
}

// TestPageChartCost: 50 series of 1,000 points each are drawn, and
// hovering over them draws the canvas no more: uPlot's cursor and the
// page's tooltip and legend values are HTML over it (with more than 12
// series the page turns off uPlot's focus, which dims the other series by
// drawing them all again). It logs the render time; bench/RESULTS.md has
// the measurements that chose uPlot.
func TestPageChartCost(t *testing.T) {
	end := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	start := end.Add(-999 * 900 * time.Millisecond)
	link := "/?" + url.Values{"q": {`{__name__="many.series", i=~"[0-9]|[1-4][0-9]"}`}, "lang": {"promql"}, "step": {"0.9s"},
		"from": {start.Format(time.RFC3339Nano)}, "to": {end.Format(time.RFC3339Nano)}, "refresh": {"off"}}.Encode()
	p, _ := openPage(t, link, 1360, 900)
	chartShown(p, 50)
	var drawn struct {
		Points []int
		DrawMs string
	}
	p.Eval(`({Points: [...document.querySelectorAll('#chart .legend button')].map(b => +b.dataset.points), DrawMs: document.getElementById('chart').dataset.drawMs})`, &drawn)
	for i, n := range drawn.Points {
		if n != 1000 {
			t.Errorf("series %d has %d points, want 1000", i, n)
		}
	}
	var draws string
	p.Eval(`document.getElementById('chart').dataset.draws`, &draws)
	x, y, w, h := plotBox(p)
	began := time.Now()
	for i := 0; i <= 20; i++ {
		p.Mouse(chromedp.MouseMoved, x+w*(float64(i)+0.5)/21, y+h/3, 0)
	}
	p.Eval(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`, nil)
	hover := time.Since(began)
	var result struct {
		Draws   string
		Tooltip bool
		Rows    int
	}
	p.Eval(`({Draws: document.getElementById('chart').dataset.draws, Tooltip: !document.querySelector('#chart .tooltip').hidden, Rows: document.querySelectorAll('#chart .tooltip .row').length})`, &result)
	if result.Draws != draws || !result.Tooltip || result.Rows != 12 {
		t.Errorf("hovering: %+v (drawn %s times before); want no drawing, and the tooltip with 12 rows", result, draws)
	}
	t.Logf("50 series × 1,000 points drawn in %s ms (render() to uPlot's first draw); 21 mouse moves and a frame in %v", drawn.DrawMs, hover)
	p.Screenshot("web-50x1000.png")
	p.NoProblems()
}

// TestPageFunctions checks the page's pure functions in the browser,
// table by table with exact values: format.js's numbers, ticks, order and
// times, and complete.js's reading of the query before the cursor.
func TestPageFunctions(t *testing.T) {
	p, _ := openPage(t, "/?refresh=off", 800, 600)
	eval := func(expr string) string {
		t.Helper()
		var out any
		p.Eval(expr, &out)
		b, _ := json.Marshal(out)
		return string(b)
	}
	for _, tt := range []struct{ expr, want string }{
		// si: 4 significant digits, an SI prefix from a thousand up and below a thousandth.
		{`ApptuitFormat.si(2356541274)`, `"2.357G"`},
		{`ApptuitFormat.si(43)`, `"43"`},
		{`ApptuitFormat.si(-2.7173)`, `"-2.717"`},
		{`ApptuitFormat.si(0.1 + 0.2)`, `"0.3"`},
		{`ApptuitFormat.si(999.96)`, `"1k"`},
		{`ApptuitFormat.si(1234.6)`, `"1.235k"`},
		{`ApptuitFormat.si(0.00042)`, `"420µ"`},
		{`ApptuitFormat.si(0.001234)`, `"0.001234"`},
		{`ApptuitFormat.si(0)`, `"0"`},
		{`ApptuitFormat.si(5e20)`, `"500E"`},
		{`ApptuitFormat.si(1e21)`, `"1e+21"`},
		{`ApptuitFormat.si(NaN)`, `"NaN"`},
		{`ApptuitFormat.si(-Infinity)`, `"-Inf"`},
		{`ApptuitFormat.si("+Inf")`, `"+Inf"`},
		{`ApptuitFormat.si(null)`, `"–"`},
		// full: the exact value.
		{`[2356541274, 0.1 + 0.2, -0, 1e21, NaN].map(ApptuitFormat.full)`, `["2356541274","0.30000000000000004","0","1e+21","NaN"]`},
		// ticks: one prefix for the axis, the decimals its step needs.
		{`ApptuitFormat.ticks([0, 5e8, 1e9, 1.5e9])`, `["0","0.5G","1.0G","1.5G"]`},
		{`ApptuitFormat.ticks([2356480000, 2356500000, 2356520000])`, `["2.35648G","2.35650G","2.35652G"]`},
		{`ApptuitFormat.ticks([-2, 0, 2])`, `["-2","0","2"]`},
		{`ApptuitFormat.ticks([0, 0.0001, 0.0002])`, `["0","100µ","200µ"]`},
		{`ApptuitFormat.ticks([0.5, 0.75, 1])`, `["0.50","0.75","1.00"]`},
		{`ApptuitFormat.ticks([0, 25, 50])`, `["0","25","50"]`},
		{`ApptuitFormat.ticks([0, 2500, 5000])`, `["0","2.5k","5.0k"]`},
		// naturalCompare and compareSeries.
		{`["+Inf", "10", "0.5", "2.5", "1e-3", "NaN", "-Inf"].sort(ApptuitFormat.naturalCompare)`, `["-Inf","1e-3","0.5","2.5","10","+Inf","NaN"]`},
		{`["host10", "host2", "host", "host02", "a_b", "a.b"].sort(ApptuitFormat.naturalCompare)`, `["a.b","a_b","host","host2","host02","host10"]`},
		{`[{metric: "apptuit.reporter.send.total"}, {metric: "zeta"}, {metric: "h", labels: {le: "+Inf"}}, {metric: "h", labels: {le: "10"}}, {metric: "a", group: 1}]
			.sort(ApptuitFormat.compareSeries).map(s => s.metric + (s.labels ? s.labels.le : ''))`, `["h10","h+Inf","zeta","apptuit.reporter.send.total","a"]`},
		// timeTicks (the tab's zone is UTC): the date under the first tick of a day.
		{`ApptuitFormat.timeTicks([1700006400, 1700092740, 1700092800], 60)`, `["00:00\nNov 15","23:59","00:00\nNov 16"]`},
		{`ApptuitFormat.timeTicks([1700006400.5], 0.5)`, `["00:00:00.500\nNov 15"]`},
		{`ApptuitFormat.timeTicks([1700006400, 1700092800], 86400)`, `["Nov 15","Nov 16"]`},
		{`ApptuitFormat.fullTime(1700006400123)`, `"2023-11-15 00:00:00.123 UTC"`},
		{`[59e3, 60e3, 90e3, 3600e3, 86400e3 + 60e3].map(ApptuitFormat.duration)`, `["59 s","1 min","1 min 30 s","1 h","1 d 1 min"]`},
		// complete.js: what the text before the cursor asks for.
		{`ApptuitComplete.contextApptuit("fetch('ord")`, `{"kind":"metric","prefix":"ord","quote":"'"}`},
		{`ApptuitComplete.contextApptuit("a = fetch(\"m.x\", {\"ci")`, `{"kind":"key","metric":"m.x","prefix":"ci","quote":"\""}`},
		{`ApptuitComplete.contextApptuit("fetch('m', {'city': 'LDN|N")`, `{"key":"city","kind":"value","metric":"m","prefix":"N","quote":"'"}`},
		{`ApptuitComplete.contextApptuit("fetch('m').rate()")`, `null`},
		{`ApptuitComplete.contextPromQL("sum(rate(http_re")`, `{"bare":true,"kind":"metric","prefix":"http_re","quote":"\""}`},
		{`ApptuitComplete.contextPromQL("up{jo")`, `{"kind":"key","metric":"up","prefix":"jo","quote":"\""}`},
		{`ApptuitComplete.contextPromQL("{\"a.b\", city=~\"N")`, `{"key":"city","kind":"value","metric":"a.b","prefix":"N","quote":"\""}`},
		{`ApptuitComplete.contextPromQL("{__name__=\"or")`, `{"inString":true,"kind":"metric","prefix":"or","quote":"\""}`},
		{`ApptuitComplete.contextPromQL("up{job=\"a\"} + 1")`, `null`},
		{`["city", "a.b", "x_y", "1a"].map(ApptuitComplete.labelPath)`, `["city","U__a_2e_b","x_y","U__1a"]`},
	} {
		if got := eval(tt.expr); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
		}
	}
	// The label path escapes as Prometheus unescapes.
	for _, name := range []string{"a.b", "x.y_z", "ünï", "1a"} {
		var path string
		p.Eval(`ApptuitComplete.labelPath(`+browsertest.JS(name)+`)`, &path)
		if got := model.UnescapeName(path, model.ValueEncodingEscaping); got != name {
			t.Errorf("labelPath(%q) = %q, which Prometheus reads as %q", name, path, got)
		}
	}
	p.NoProblems()
}
