package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/server/internal/browsertest"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// envScreenshot names the environment variable giving a path to also write
// the screenshot of a longer demo to, for the README.
const envScreenshot = "APPTUIT_WEB_SCREENSHOT"

// webDemo runs "apptuit demo --web" until the test ends and returns the
// URL of its page once the demo is done (its data complete).
func webDemo(t *testing.T, duration time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--web", "--duration", duration.String(), "--interval", "250ms",
			"--listen", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo --web: exit %d after Ctrl-C, stderr %q", code, stderr.String())
			}
			if !strings.HasSuffix(stdout.String(), "stopped\n") {
				t.Errorf("demo --web did not say it stopped:\n%s", stdout.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("demo --web did not stop on Ctrl-C")
		}
	})
	urlRE := regexp.MustCompile(`the web page keeps serving at (http://127\.0\.0\.1:\d+)/ \(API token: ` + demoToken + `\); Ctrl-C to stop\n`)
	deadline := time.Now().Add(duration + 90*time.Second)
	for !urlRE.MatchString(stdout.String()) {
		select {
		case code := <-done:
			t.Fatalf("demo --web ended early: exit %d, stderr %q, stdout:\n%s", code, stderr.String(), stdout.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo --web did not finish its demo:\n%s", stdout.String())
		}
	}
	return urlRE.FindStringSubmatch(stdout.String())[1]
}

// apiGet GETs path from the server with the demo's token and decodes the
// JSON answer into v.
func apiGet(t *testing.T, base, path string, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// seriesName is how the page names a series of an Apptuit query answer
// whose output id is its metric.
func seriesName(metric string, tags map[string]string) string {
	var kv []string
	for k, v := range tags {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	if len(kv) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(kv, ", ") + "}"
}

// TestWebPageInBrowser loads the page of "apptuit demo --web" in headless
// Chromium and uses it as a person would: enters the token, reads the
// metrics list, filters it, types a query, hovers over the chart, reads the
// request log; then checks that the page logged no error and holds the
// token nowhere but in sessionStorage, and writes a screenshot.
func TestWebPageInBrowser(t *testing.T) {
	cleanEnv(t)
	leakcheck.AtCleanup(t)
	duration, width, height := 4*time.Second, 1360, 900
	readme := os.Getenv(envScreenshot)
	if readme != "" {
		duration = 40 * time.Second // a chart worth showing
	}
	p := browsertest.New(t, width, height)
	base := webDemo(t, duration)
	eval, wait, type_ := p.Eval, p.Wait, p.Type

	p.Navigate(base + "/")
	// Without the token the page says how to give it, and lists nothing.
	wait(`!document.getElementById('auth-banner').hidden`)
	wait(`document.getElementById('metrics-summary').textContent === 'Needs the API token.'`)
	var focused string
	eval(`document.activeElement.id`, &focused)
	if focused != "token" {
		t.Errorf("the focus is on %q, want the token field", focused)
	}

	// The token, typed and entered with the keyboard.
	type_("#token", demoToken)
	p.Key(kb.Enter)
	wait(`document.getElementById('auth-banner').hidden`)

	// The metrics list holds what the server holds.
	var want struct {
		MetricsTotal int `json:"metricsTotal"`
		SeriesTotal  int `json:"seriesTotal"`
	}
	apiGet(t, base, "/apptuittest/series?limit=1", &want)
	if want.MetricsTotal < 10 {
		t.Fatalf("the demo stored %d metrics, want more", want.MetricsTotal)
	}
	wait(fmt.Sprintf(`document.querySelectorAll('#metrics li.metric').length === %d`, want.MetricsTotal))
	var listed []struct {
		Metric, Meta string
	}
	eval(`[...document.querySelectorAll('#metrics li.metric')].map(li => ({Metric: li.dataset.metric, Meta: li.querySelector('.metric-meta').textContent}))`, &listed)
	metas := map[string]string{}
	for _, m := range listed {
		metas[m.Metric] = m.Meta
	}
	for metric, meta := range map[string]string{
		"order_count.count":         `^3 series · \d+ points · city: LDN, NYC, SF · service: orders$`,
		"order.processing.time.avg": `^1 series · \d+ points · service: orders$`,
		"order.queue.size.value":    `^1 series · \d+ points · service: orders$`,
		"go.goroutines":             `^1 series · \d+ points · service: orders$`,
	} {
		if !regexp.MustCompile(meta).MatchString(metas[metric]) {
			t.Errorf("the list shows %s as %q, want %s", metric, metas[metric], meta)
		}
	}
	var summary string
	eval(`document.getElementById('metrics-summary').textContent`, &summary)
	if w := fmt.Sprintf("%d metrics, %d series", want.MetricsTotal, want.SeriesTotal); summary != w {
		t.Errorf("metrics summary %q, want %q", summary, w)
	}

	// The filter matches names and tags.
	type_("#filter", "city=NYC")
	wait(`document.querySelectorAll('#metrics li.metric').length === 1`)
	var one []string
	eval(`[...document.querySelectorAll('#metrics li.metric')].map(li => li.dataset.metric + ' | ' + li.querySelector('.metric-meta').textContent)`, &one)
	if len(one) != 1 || !strings.HasPrefix(one[0], "order_count.count | 1 series · ") {
		t.Errorf("filtered by city=NYC: %q, want order_count.count with 1 series", one)
	}
	eval(`(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()`, nil)
	wait(fmt.Sprintf(`document.querySelectorAll('#metrics li.metric').length === %d`, want.MetricsTotal))

	// A query typed into the box, run with Ctrl+Enter, over the last minute.
	eval(`(() => { const r = document.getElementById('range'); r.value = '1m'; r.dispatchEvent(new Event('change')); })()`, nil)
	const query = "fetch('order_count.count').rate()"
	eval(`document.getElementById('q').focus()`, nil)
	type_("#q", query)
	eval(`document.getElementById('q-complete').hidden = true`, nil)
	p.Key(kb.Enter, chromedp.ModifierCtrl)
	chartDrawn := func(lang string, n int) {
		t.Helper()
		wait(fmt.Sprintf(`(() => { const c = document.getElementById('chart'); return c.dataset.state === 'chart' && c.dataset.lang === %q &&
			c.getAttribute('aria-busy') === 'false' && c.querySelectorAll('.legend button').length === %d; })()`, lang, n))
	}
	chartDrawn("apptuit", 3)
	var drawn struct {
		Start, End string
		Legend     []struct{ Series, Points, Value string }
		Status     string
		URL        string
	}
	eval(`(() => { const c = document.getElementById('chart'); return {
		Start: c.dataset.start, End: c.dataset.end,
		Legend: [...c.querySelectorAll('.legend button')].map(b => ({Series: b.dataset.series, Points: b.dataset.points, Value: b.querySelector('.val').dataset.value})),
		Status: document.getElementById('query-status').textContent, URL: location.search,
	}; })()`, &drawn)
	// The same query from Go over the page's range gives the points drawn.
	var ans struct {
		Outputs []struct {
			Result []struct {
				Metric string
				Tags   map[string]string
				Dps    [][2]*float64
			}
		}
	}
	startMs, endMs := mustAtoi(t, drawn.Start), mustAtoi(t, drawn.End)
	apiGet(t, base, "/api/query?"+url.Values{"start": {fmt.Sprint(startMs / 1000)}, "end": {fmt.Sprint((endMs + 999) / 1000)}, "q": {query}}.Encode(), &ans)
	wantPoints := map[string]int{}
	lastValue := map[string]float64{}
	values := map[string]map[int64]float64{}
	total := 0
	for _, o := range ans.Outputs {
		for _, r := range o.Result {
			name := seriesName(r.Metric, r.Tags)
			values[name] = map[int64]float64{}
			for _, dp := range r.Dps {
				if dp[1] != nil {
					wantPoints[name]++
					values[name][int64(*dp[0])*1000] = *dp[1]
					lastValue[name] = *dp[1]
					total++
				}
			}
		}
	}
	if len(drawn.Legend) != len(wantPoints) {
		t.Errorf("the legend lists %d series, want %d", len(drawn.Legend), len(wantPoints))
	}
	for _, l := range drawn.Legend {
		n, ok := wantPoints[l.Series]
		if !ok || l.Points != fmt.Sprint(n) || n < 2 || l.Value != fmt.Sprint(lastValue[l.Series]) {
			t.Errorf("the legend shows %q with %s points and last value %s; the server %d points, last %v", l.Series, l.Points, l.Value, n, lastValue[l.Series])
		}
	}
	if w := fmt.Sprintf("3 series, %d points over the last 1 min, in ", total); !strings.HasPrefix(drawn.Status, w) {
		t.Errorf("query status %q, want it to start %q", drawn.Status, w)
	}
	if u, _ := url.ParseQuery(strings.TrimPrefix(drawn.URL, "?")); u.Get("q") != query || u.Get("range") != "1m" {
		t.Errorf("the page's URL is %q", drawn.URL)
	}

	// Hovering shows the values at the nearest timestamp.
	var plot struct{ X, Y, W, H float64 }
	eval(`(() => { const r = document.querySelector('#chart .u-over').getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`, &plot)
	// The middle of the data, not of the range: the demo filled part of it.
	var first, last int64
	for _, m := range values {
		for ts := range m {
			if first == 0 || ts < first {
				first = ts
			}
			last = max(last, ts)
		}
	}
	midX := plot.X + plot.W*float64((first+last)/2-startMs)/float64(endMs-startMs)
	p.Mouse(chromedp.MouseMoved, midX, plot.Y+plot.H/2, 0)
	wait(`!document.querySelector('#chart .tooltip').hidden && document.querySelectorAll('#chart .tooltip .row').length === 3`)
	var tip struct {
		Time, When string
		Rows       []struct{ Series, Value string }
	}
	eval(`(() => { const t = document.querySelector('#chart .tooltip'); return {Time: t.dataset.time, When: t.querySelector('.when').textContent,
		Rows: [...t.querySelectorAll('.row')].map(r => ({Series: r.dataset.series, Value: r.dataset.value}))}; })()`, &tip)
	at := mustAtoi(t, tip.Time)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`).MatchString(tip.When) {
		t.Errorf("the tooltip's time is %q", tip.When)
	}
	for _, r := range tip.Rows {
		v, ok := values[r.Series][at]
		if !ok || fmt.Sprint(v) != r.Value {
			t.Errorf("the tooltip shows %s = %s at %d, the server %v (present %v)", r.Series, r.Value, at, v, ok)
		}
	}

	// PromQL: the same metric through /api/v1/query_range, with the step
	// the page chose for the chart's width.
	p.Mouse(chromedp.MouseMoved, 5, 5, 0)
	eval(`(() => { const l = document.getElementById('lang'); l.value = 'promql'; l.dispatchEvent(new Event('change')); document.getElementById('q').value = ''; })()`, nil)
	wait(`!document.getElementById('step-label').hidden`)
	const promQuery = `{__name__="order_count.count"}`
	type_("#q", promQuery)
	eval(`document.getElementById('q-complete').hidden = true`, nil)
	p.Key(kb.Enter, chromedp.ModifierCtrl)
	chartDrawn("promql", 3)
	var prom struct {
		Start, End, Step string
		Points           []int
	}
	eval(`(() => { const c = document.getElementById('chart'); return {Start: c.dataset.start, End: c.dataset.end, Step: c.dataset.step,
		Points: [...c.querySelectorAll('.legend button')].map(b => +b.dataset.points).sort((a, b) => a - b)}; })()`, &prom)
	var pans struct {
		Data struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	apiGet(t, base, "/api/v1/query_range?"+url.Values{"query": {promQuery}, "start": {fmt.Sprintf("%.3f", float64(mustAtoi(t, prom.Start))/1000)},
		"end": {fmt.Sprintf("%.3f", float64(mustAtoi(t, prom.End))/1000)}, "step": {prom.Step}}.Encode(), &pans)
	var promWant []int
	for _, r := range pans.Data.Result {
		promWant = append(promWant, len(r.Values))
	}
	sort.Ints(promWant)
	if fmt.Sprint(prom.Points) != fmt.Sprint(promWant) || len(promWant) != 3 || promWant[0] < 2 {
		t.Errorf("PromQL chart: %v points per series (step %s), the server %v", prom.Points, prom.Step, promWant)
	}
	// A bad query is an error the page shows in place of the chart, as the
	// server words it.
	eval(`document.getElementById('q').value = ''`, nil)
	type_("#q", "rate(")
	eval(`document.getElementById('q-complete').hidden = true`, nil)
	p.Key(kb.Enter, chromedp.ModifierCtrl)
	wait(`document.getElementById('chart').dataset.state === 'error'`)
	var promErr string
	eval(`document.querySelector('#chart .chart-state').textContent`, &promErr)
	if !strings.HasPrefix(promErr, "PromQL error (HTTP 400)bad_data: ") {
		t.Errorf("the chart after a bad PromQL query: %q", promErr)
	}
	// Back to the Apptuit query, run with the Run button from the keyboard.
	eval(`(() => { const l = document.getElementById('lang'); l.value = 'apptuit'; l.dispatchEvent(new Event('change'));
		document.getElementById('q').value = `+jsString(query)+`; document.getElementById('run').focus(); })()`, nil)
	p.Key(kb.Enter)
	chartDrawn("apptuit", 3)

	// The request log shows why points were rejected.
	put, err := http.NewRequest("POST", base+"/api/put", strings.NewReader(`[{"metric":"bad metric!","timestamp":1700000000,"value":1,"tags":{"k":"v"}},`+
		`{"metric":"good.one","timestamp":1700000000,"value":1,"tags":{"k":"v"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	put.Header.Set("Authorization", "Bearer "+demoToken)
	put.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eval(`document.getElementById('only-failures').click()`, nil)
	wait(`[...document.querySelectorAll('#requests tbody tr')].some(tr => tr.textContent.includes('bad metric!'))`)
	var row []string
	eval(`(() => { const tr = [...document.querySelectorAll('#requests tbody tr')].find(tr => tr.nextElementSibling && tr.nextElementSibling.textContent.includes('bad metric!'));
		return [...tr.cells].map(c => c.textContent).concat([tr.nextElementSibling.textContent]); })()`, &row)
	if len(row) != 9 || row[1] != "POST" || row[2] != "/api/put" || row[3] != "400" || row[4] != "1" || row[5] != "1" ||
		!strings.HasPrefix(row[8], `bad metric!: Invalid metric name ("bad metric!")`) {
		t.Errorf("the failed put's row and its errors: %q", row)
	}
	eval(`document.getElementById('only-failures').click()`, nil)
	wait(`[...document.querySelectorAll('#requests tbody tr')].some(tr => tr.cells[2] && tr.cells[2].textContent === '/api/put?details' && tr.cells[3].textContent === '200')`)

	// A screenshot, as a CI artifact (and for the README when asked).
	eval(`(() => { const r = document.getElementById('range'); r.focus(); document.getElementById('metrics').scrollTop = 0; })()`, nil)
	type_("#filter", "order.")
	wait(`document.querySelector('#metrics li[data-metric="order.queue.size.value"]') && [...document.querySelectorAll('#metrics li.metric')].every(li => li.dataset.metric.startsWith('order.'))`)
	eval(`(() => { const r = document.querySelector('#chart .u-over').getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`, &plot)
	p.Mouse(chromedp.MouseMoved, midX, plot.Y+plot.H/3, 0)
	wait(`!document.querySelector('#chart .tooltip').hidden`)
	_, png := p.Screenshot("web-page.png")
	if readme != "" {
		if err := os.WriteFile(readme, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("README screenshot: %s", readme)
	}

	eval(`(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()`, nil)

	// The list refreshes: the put's good point shows up.
	wait(`document.querySelector('#metrics li[data-metric="good.one"]')`)

	// Every control has a label.
	var unlabelled []string
	eval(`[...document.querySelectorAll('input, select, textarea, button')].filter(e =>
		!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.outerHTML.slice(0, 80))`, &unlabelled)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q", unlabelled)
	}

	// A custom range: the query runs again over it.
	eval(`(() => { const r = document.getElementById('range'); r.value = 'custom'; r.dispatchEvent(new Event('change')); })()`, nil)
	wait(`!document.getElementById('custom-range').hidden && document.getElementById('from').value !== ''`)
	eval(`(() => { const f = document.getElementById('from'); f.value = '2023-11-14T22:13:00'; f.dispatchEvent(new Event('change')); })()`, nil)
	wait(`document.getElementById('chart').dataset.start === String(new Date('2023-11-14T22:13:00').getTime())`)
	eval(`(() => { const r = document.getElementById('range'); r.value = '1m'; r.dispatchEvent(new Event('change')); })()`, nil)
	wait(`document.getElementById('custom-range').hidden`)

	// Live: every 2 s while the tab is visible, not at all while it is hidden.
	pageQueries := func() int {
		var ans struct {
			Requests []struct {
				Path string
				Page bool
			}
		}
		apiGet(t, base, "/apptuittest/requests?limit=10000", &ans)
		n := 0
		for _, r := range ans.Requests {
			if r.Page && r.Path == "/api/query" {
				n++
			}
		}
		return n
	}
	eval(`(() => { const r = document.getElementById('refresh'); r.value = '2'; r.dispatchEvent(new Event('change')); })()`, nil)
	n0 := pageQueries()
	time.Sleep(4500 * time.Millisecond)
	n1 := pageQueries()
	if n1-n0 < 1 || n1-n0 > 4 { // 2 unless the machine is slow
		t.Errorf("%d queries in 4.5 s of refreshing every 2 s, want 1 to 4", n1-n0)
	}
	eval(`(() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});
		Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
		document.dispatchEvent(new Event('visibilitychange')); })()`, nil)
	wait(`document.getElementById('live-text').textContent === 'paused while the tab is hidden'`)
	time.Sleep(300 * time.Millisecond) // a refresh under way ends
	n2 := pageQueries()
	time.Sleep(4500 * time.Millisecond)
	if n3 := pageQueries(); n3 != n2 {
		t.Errorf("%d queries in 4.5 s while the tab was hidden, want none", n3-n2)
	}
	eval(`(() => { delete document.hidden; delete document.visibilityState; document.dispatchEvent(new Event('visibilitychange')); })()`, nil)
	wait(`document.getElementById('live-text').textContent === 'live, every 2 s'`)
	waitFor(t, "a refresh when the tab shows again", func() bool { return pageQueries() > n2 })
	eval(`(() => { const r = document.getElementById('refresh'); r.value = '5'; r.dispatchEvent(new Event('change')); })()`, nil)

	// The token is in sessionStorage and nowhere else the page can reach.
	var leak struct {
		HTML, URL, Cookie, Resources bool
		Local                        int
		Session                      string
	}
	eval(`(() => { const tok = `+jsString(demoToken)+`; return {
		HTML: document.documentElement.outerHTML.includes(tok), URL: location.href.includes(tok),
		Cookie: document.cookie.includes(tok), Local: localStorage.length,
		Resources: performance.getEntriesByType('resource').some(e => e.name.includes(tok)),
		Session: sessionStorage.getItem('apptuit.token'),
	}; })()`, &leak)
	if leak.HTML || leak.URL || leak.Cookie || leak.Resources || leak.Local != 0 || leak.Session != demoToken {
		t.Errorf("the token's whereabouts: %+v; want only sessionStorage", leak)
	}
	var log json.RawMessage
	apiGet(t, base, "/apptuittest/requests?limit=10000", &log)
	if strings.Contains(string(log), demoToken) {
		t.Errorf("the request log holds the token")
	}

	// No console error, warning or exception but the browser's note of the
	// bad query's 400.
	p.NoProblems("the server responded with a status of 400 (Bad Request)")
}

var jsString = browsertest.JS

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
