// Command promqllatency times PromQL queries over HTTP on the same data in
// three servers at once: this tree's `apptuit serve` (Prometheus's engine
// over our store), the `apptuit serve` of an older commit (e.g. e2f8286,
// our hand-written engine, internal/promql) and Prometheus 2.42 (Debian's
// prometheus and promtool). It loads 1,000 series × 10,000 points (10 s
// apart, values with two decimals) into each — /api/put for the apptuit
// servers, promtool tsdb create-blocks-from openmetrics for Prometheus —
// checks that all three hold every sample, then asks a fixed set of
// instant and range queries in rounds, each query of each round once per
// server in a rotating order, and prints as Markdown the median latency of
// each query per server and the ratios of this tree's to the others'.
//
// Every answer must be a success, and the three answers to a query must
// have the same series and points (values are compared too, and the
// largest relative difference reported): a query one server refuses or
// answers differently is not timed like for like, and the command fails.
//
//	git worktree add --detach /tmp/old e2f8286 && (cd /tmp/old && go build -o /tmp/apptuit-old ./cmd/apptuit)
//	go build -o /tmp/apptuit-new ./server/cmd/apptuit
//	cd bench && go run ./promqllatency -old /tmp/apptuit-old -new /tmp/apptuit-new
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// t0 is the first sample's second (on the hour); samples are interval
// apart. Query times are at .500 s, so that no range boundary falls on a
// sample (Prometheus 2.42 includes a range's start, 3 excludes it).
const t0 = 1_699_999_200

var (
	oldBin     = flag.String("old", "", "the `apptuit` command of the previous engine (required)")
	newBin     = flag.String("new", "", "the `apptuit` command of this tree (required)")
	promBin    = flag.String("prometheus", "prometheus", "the prometheus `command` (2.42)")
	promtool   = flag.String("promtool", "promtool", "the promtool `command`")
	oldFlags   = flag.String("old-flags", "--max-points 0", "extra serve `flags` of the previous apptuit (space-separated)")
	newFlags   = flag.String("new-flags", "--max-memory 0", "extra serve `flags` of this tree's apptuit (space-separated)")
	nSeries    = flag.Int("series", 1000, "series (a multiple of 10: half gauges, 40 % counters, 10 % histogram buckets)")
	nPoints    = flag.Int("points", 10000, "points per series")
	interval   = flag.Duration("interval", 10*time.Second, "time between two points of a series (whole seconds)")
	rounds     = flag.Int("rounds", 15, "timed rounds (after one warm-up round)")
	settleWait = flag.Duration("settle", 75*time.Second, "how long Prometheus's block count must stay unchanged (its compactions done; it plans them every minute) before timing")
)

// query is one timed query: instant at end-back, or a range of back..end
// (ms before the data's end) every step.
type query struct {
	name, q string
	rng     time.Duration // 0: an instant query
	step    time.Duration
}

// queries are what the previous engine also answers (its subset: no
// subqueries, @, and/or/unless, group_left, label_replace...).
var queries = []query{
	{"one series, instant", `pq_gauge{job="j1", instance="i042"}`, 0, 0},
	{"one series, 24h range", `pq_gauge{job="j1", instance="i042"}`, 24 * time.Hour, time.Minute},
	{"sum by job of rate, instant", `sum by (job) (rate(pq_requests_total[5m]))`, 0, 0},
	{"sum by job of rate, 6h range", `sum by (job) (rate(pq_requests_total[5m]))`, 6 * time.Hour, time.Minute},
	{"sum of rate, 24h range", `sum(rate(pq_requests_total[5m]))`, 24 * time.Hour, 5 * time.Minute},
	{"avg_over_time 1h, instant", `avg_over_time(pq_gauge[1h])`, 0, 0},
	{"topk of max_over_time 6h, instant", `topk(5, max_over_time(pq_gauge[6h]))`, 0, 0},
	{"histogram_quantile, 6h range", `histogram_quantile(0.9, sum by (le) (rate(pq_latency_seconds_bucket[5m])))`, 6 * time.Hour, time.Minute},
	{"filter > 100, instant", `pq_gauge > 100`, 0, 0},
	{"arithmetic on 100 series, 1h range", `pq_gauge{job="j2"} * 2 + 1`, time.Hour, 15 * time.Second},
	{"count by job, instant", `count by (job) (pq_gauge)`, 0, 0},
	{"max by job, 24h range", `max by (job) (pq_gauge)`, 24 * time.Hour, time.Minute},
}

// server is one of the three under test.
type server struct {
	name string
	url  string
	cmd  *exec.Cmd
	done chan error
}

func main() {
	flag.Parse()
	if *oldBin == "" || *newBin == "" {
		fmt.Fprintln(os.Stderr, "promqllatency: -old and -new are required (see go doc ./promqllatency)")
		os.Exit(2)
	}
	if *nSeries%10 != 0 || *nSeries <= 0 || *nPoints < 2 || *interval%time.Second != 0 || *interval <= 0 {
		fmt.Fprintln(os.Stderr, "promqllatency: -series must be a positive multiple of 10, -points at least 2, -interval whole seconds")
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "promqllatency:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "promqllatency")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("load average %s; %d CPUs; %s", loadavg(), runtime.NumCPU(), runtime.Version())
	data := newDataset(*nSeries, *nPoints)
	tsdb, err := data.prometheusBlocks(dir)
	if err != nil {
		return err
	}
	servers, err := startServers(dir, tsdb)
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	if err != nil {
		return err
	}
	prom, ours, old := servers[0], servers[1], servers[2]
	logf("Prometheus %s at %s, this tree's apptuit at %s, the previous at %s", promVersion(prom), prom.url, ours.url, old.url)
	for _, s := range []*server{ours, old} {
		start := time.Now()
		if err := data.put(s.url); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		logf("%s: %d points put in %s", s.name, data.samples(), time.Since(start).Round(time.Millisecond))
	}
	blocks, err := settle(prom)
	if err != nil {
		return err
	}
	for _, s := range servers {
		logf("%s: resident memory %s", s.name, rss(s.cmd.Process.Pid))
	}
	if err := data.check(servers); err != nil {
		return err
	}
	logf("all three hold the %d samples of %d series", data.samples(), *nSeries)
	times, shape, err := timeQueries(servers, data.end())
	if err != nil {
		return err
	}
	logf("load average %s", loadavg())
	if now, err := blockCount(prom); err != nil || now != blocks {
		return fmt.Errorf("the blocks of Prometheus changed while queries were timed (%s, then %s, %v): run again with a longer -settle", blocks, now, err)
	}
	printTable(times, shape)
	return nil
}

// prometheusBlocks writes the data as Prometheus's blocks (promtool tsdb
// create-blocks-from openmetrics) into dir/tsdb, and returns that path.
func (d *dataset) prometheusBlocks(dir string) (string, error) {
	start := time.Now()
	om := filepath.Join(dir, "data.om")
	if err := writeFile(om, d.writeOpenMetrics); err != nil {
		return "", err
	}
	tsdb := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(*promtool, "tsdb", "create-blocks-from", "openmetrics", om, tsdb).CombinedOutput(); err != nil {
		return "", fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, tail(out))
	}
	os.Remove(om)
	logf("promtool made the blocks of %d samples in %s", d.samples(), time.Since(start).Round(time.Millisecond))
	return tsdb, nil
}

// startServers starts Prometheus over the blocks in tsdb, this tree's
// apptuit and the previous one, in that order; it returns those started
// even when one fails.
func startServers(dir, tsdb string) ([]*server, error) {
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o644); err != nil {
		return nil, err
	}
	var servers []*server
	for _, s := range []struct {
		name, bin string
		args      []string
	}{
		{"Prometheus 2.42", *promBin, []string{"--config.file=" + cfg, "--storage.tsdb.path=" + tsdb, "--storage.tsdb.retention.time=100y"}},
		{"apptuit (this tree)", *newBin, append([]string{"serve"}, strings.Fields(*newFlags)...)},
		{"apptuit (previous engine)", *oldBin, append([]string{"serve"}, strings.Fields(*oldFlags)...)},
	} {
		srv, err := startServer(dir, s.name, s.bin, s.args)
		if err != nil {
			return servers, err
		}
		servers = append(servers, srv)
	}
	return servers, nil
}

// check checks that every server holds every sample: it counts them 100
// series at a time (the previous engine reads at most 5,000,000 samples
// per query).
func (d *dataset) check(servers []*server) error {
	for _, s := range servers {
		total := 0
		for j := range *nSeries / 100 {
			for _, metric := range []string{"pq_gauge", "pq_requests_total", "pq_latency_seconds_bucket"} {
				q := fmt.Sprintf(`sum(count_over_time(%s{shard="%d"}[%ds]))`, metric, j, d.span()/1000+60)
				a, err := ask(s.url, url.Values{"query": {q}, "time": {fmtTime(d.end() + 30_000)}}, "/api/v1/query")
				if err != nil {
					return fmt.Errorf("%s: %s: %w", s.name, q, err)
				}
				if len(a.series) > 1 || (len(a.series) == 1 && len(a.series[0].vals) != 1) {
					return fmt.Errorf("%s: %s: %d series", s.name, q, len(a.series))
				}
				if len(a.series) == 1 {
					total += int(a.series[0].vals[0])
				}
			}
		}
		if total != d.samples() {
			return fmt.Errorf("%s holds %d samples, want %d", s.name, total, d.samples())
		}
	}
	return nil
}

// timeQueries asks every query of a warm-up round, whose answers must
// agree, then of -rounds timed rounds, once per server in a rotating
// order. It returns the latencies, times[q][s] of query q on server s,
// and the description of each query's answer.
func timeQueries(servers []*server, end int64) (times [][][]time.Duration, shape []string, err error) {
	times = make([][][]time.Duration, len(queries))
	shape = make([]string, len(queries))
	for qi := range queries {
		times[qi] = make([][]time.Duration, len(servers))
	}
	for round := range *rounds + 1 {
		for qi, q := range queries {
			answers, took, err := askAll(servers, q, end, round+qi)
			if err != nil {
				return nil, nil, err
			}
			if round > 0 {
				for si, d := range took {
					times[qi][si] = append(times[qi][si], d)
				}
				continue
			}
			if shape[qi], err = compare(answers); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", q.q, err)
			}
		}
		if round == 0 {
			logf("warm-up round done; the answers agree; %d timed rounds follow", *rounds)
		}
	}
	return times, shape, nil
}

// askAll asks q of the three servers, starting with server first (mod 3),
// and returns their answers and latencies.
func askAll(servers []*server, q query, end int64, first int) (answers [3]answer, took [3]time.Duration, err error) {
	form, path := q.form(end)
	for k := range servers {
		si := (first + k) % len(servers)
		start := time.Now()
		answers[si], err = ask(servers[si].url, form, path)
		took[si] = time.Since(start)
		if err != nil {
			return answers, took, fmt.Errorf("%s: %s: %w", servers[si].name, q.q, err)
		}
	}
	return answers, took, nil
}

// printTable prints the median latencies as Markdown, with the ratios of
// this tree's to the others' and their geometric means.
func printTable(times [][][]time.Duration, shape []string) {
	fmt.Printf("\n| query | PromQL | answer (agreement with Prometheus) | Prometheus 2.42 | this tree | previous engine | this/previous | this/Prometheus |\n")
	fmt.Printf("|---|---|---|--:|--:|--:|--:|--:|\n")
	var logOld, logProm float64
	for qi, q := range queries {
		m := make([]time.Duration, len(times[qi]))
		for si := range m {
			m[si] = median(times[qi][si])
		}
		rOld, rProm := float64(m[1])/float64(m[2]), float64(m[1])/float64(m[0])
		logOld += math.Log(rOld)
		logProm += math.Log(rProm)
		kind := "instant"
		if q.rng > 0 {
			kind = fmt.Sprintf("%s range, step %s", short(q.rng), short(q.step))
		}
		fmt.Printf("| %s | `%s` (%s) | %s | %s | %s | %s | %.2f | %.2f |\n", q.name, q.q, kind, shape[qi], ms(m[0]), ms(m[1]), ms(m[2]), rOld, rProm)
	}
	n := float64(len(queries))
	fmt.Printf("| **geometric mean** | | | | | | **%.2f** | **%.2f** |\n", math.Exp(logOld/n), math.Exp(logProm/n))
	fmt.Printf("\nMedians of %d interleaved rounds (after a warm-up round), milliseconds per query over HTTP (request sent to answer read).\n", *rounds)
}

func (q query) form(end int64) (url.Values, string) {
	at := end - 60_000 + 500 // a minute before the last sample, at .500 s
	if q.rng == 0 {
		return url.Values{"query": {q.q}, "time": {fmtTime(at)}}, "/api/v1/query"
	}
	return url.Values{"query": {q.q}, "start": {fmtTime(at - q.rng.Milliseconds())}, "end": {fmtTime(at)},
		"step": {strconv.FormatFloat(q.step.Seconds(), 'f', -1, 64)}}, "/api/v1/query_range"
}

// dataset is the generated data: a seed per series and the shapes.
type dataset struct {
	series []seriesDef
	points int
	step   int64 // ms
}

type seriesDef struct {
	metric string
	labels [][2]string // sorted by name
	kind   byte        // 'g' gauge, 'c' counter, 'h' bucket
	le     float64
}

var les = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, math.Inf(1)}

// newDataset has n series: n/2 gauges pq_gauge{job, instance, shard}, 2n/5
// counters pq_requests_total{job, instance, shard} and n/10 classic
// histogram buckets pq_latency_seconds_bucket{job, le, shard} (10 per job).
// shard (0..n/100-1) splits the series into hundreds.
func newDataset(n, points int) *dataset {
	d := &dataset{points: points, step: interval.Milliseconds()}
	add := func(metric string, kind byte, le float64, labels ...string) {
		s := seriesDef{metric: metric, kind: kind, le: le}
		for i := 0; i < len(labels); i += 2 {
			s.labels = append(s.labels, [2]string{labels[i], labels[i+1]})
		}
		s.labels = append(s.labels, [2]string{"shard", strconv.Itoa(len(d.series) / 100)})
		slices.SortFunc(s.labels, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		d.series = append(d.series, s)
	}
	for i := range n / 2 {
		add("pq_gauge", 'g', 0, "job", fmt.Sprintf("j%d", i%5), "instance", fmt.Sprintf("i%03d", i/5))
	}
	for i := range n * 2 / 5 {
		add("pq_requests_total", 'c', 0, "job", fmt.Sprintf("j%d", i%5), "instance", fmt.Sprintf("i%03d", i/5))
	}
	for i := range n / 10 {
		le := les[i%10]
		add("pq_latency_seconds_bucket", 'h', le, "job", fmt.Sprintf("j%d", i/10), "le", formatLe(le))
	}
	return d
}

func (d *dataset) samples() int { return len(d.series) * d.points }
func (d *dataset) span() int64  { return int64(d.points-1) * d.step }
func (d *dataset) end() int64   { return t0*1000 + d.span() }

// values calls f with every value of series i, in time order: gauges are
// random walks with two decimals, counters grow by 0-20 (resetting once),
// bucket j of a histogram counts the observations of 0-30 a step at or
// below its bound.
func (d *dataset) values(i int, f func(k int, v float64)) {
	s := d.series[i]
	r := rand.New(rand.NewPCG(uint64(i), 7))
	switch s.kind {
	case 'g':
		v := 50 + float64(r.IntN(5000))/100
		for k := range d.points {
			v = math.Round((v+r.NormFloat64())*100) / 100
			f(k, v)
		}
	case 'c':
		v, reset := float64(r.IntN(100000)), r.IntN(d.points)
		for k := range d.points {
			if k == reset {
				v = 0
			}
			v += float64(r.IntN(21))
			f(k, v)
		}
	case 'h':
		// All buckets of a job draw the same observations (same seed).
		job := i - slices.Index(les, s.le)
		r = rand.New(rand.NewPCG(uint64(job), 7))
		v := 0.0
		for k := range d.points {
			for range r.IntN(31) {
				if r.ExpFloat64()*0.2 <= s.le {
					v++
				}
			}
			f(k, v)
		}
	}
}

// writeOpenMetrics writes every sample as OpenMetrics text (timestamps in
// seconds).
func (d *dataset) writeOpenMetrics(w *bufio.Writer) error {
	for i, s := range d.series {
		var lb strings.Builder
		lb.WriteString(s.metric)
		lb.WriteByte('{')
		for j, l := range s.labels {
			if j > 0 {
				lb.WriteByte(',')
			}
			fmt.Fprintf(&lb, "%s=%q", l[0], l[1])
		}
		lb.WriteString("} ")
		prefix := lb.String()
		d.values(i, func(k int, v float64) {
			w.WriteString(prefix)
			w.Write(strconv.AppendFloat(nil, v, 'g', -1, 64))
			w.WriteByte(' ')
			w.Write(strconv.AppendInt(nil, (t0*1000+int64(k)*d.step)/1000, 10))
			w.WriteByte('\n')
		})
	}
	_, err := w.WriteString("# EOF\n")
	return err
}

// put sends every sample to an apptuit server's /api/put, time-major (all
// series at one time, then the next), 20,000 points a request.
func (d *dataset) put(base string) error {
	vals := make([][]float64, len(d.series))
	for i := range d.series {
		vals[i] = make([]float64, 0, d.points)
		d.values(i, func(_ int, v float64) { vals[i] = append(vals[i], v) })
	}
	tags := make([]string, len(d.series))
	for i, s := range d.series {
		var b []byte
		b = append(b, `,"tags":{`...)
		for j, l := range s.labels {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, l[0])
			b = append(b, ':')
			b = strconv.AppendQuote(b, l[1])
		}
		tags[i] = string(append(b, "}}"...))
	}
	perBody := max(1, 20000/len(d.series))
	var body []byte
	for k0 := 0; k0 < d.points; k0 += perBody {
		body = append(body[:0], '[')
		for k := k0; k < min(d.points, k0+perBody); k++ {
			ts := t0*1000 + int64(k)*d.step
			for i, s := range d.series {
				if len(body) > 1 {
					body = append(body, ',')
				}
				body = append(body, `{"metric":`...)
				body = strconv.AppendQuote(body, s.metric)
				body = append(body, `,"timestamp":`...)
				body = strconv.AppendInt(body, ts, 10)
				body = append(body, `,"value":`...)
				body = strconv.AppendFloat(body, vals[i][k], 'g', -1, 64)
				body = append(body, tags[i]...)
			}
		}
		body = append(body, ']')
		resp, err := client.Post(base+"/api/put", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("put: %d %s", resp.StatusCode, b)
		}
	}
	return nil
}

// client asks without gzip (Prometheus would compress, the apptuit servers
// do not) and without a proxy.
var client = &http.Client{Transport: &http.Transport{DisableCompression: true, Proxy: nil, MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Minute}

// startServer starts bin with args and --listen/--web.listen-address on a
// free loopback port, and waits until it answers a query.
func startServer(dir, name, bin string, args []string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	if strings.HasPrefix(name, "Prometheus") {
		args = append(args, "--web.listen-address="+addr)
	} else {
		args = append(args, "--listen", addr)
	}
	logPath := filepath.Join(dir, strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name)+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s := &server{name: name, url: "http://" + addr, cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { s.done <- s.cmd.Wait(); lf.Close() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited: %v\n%s", name, err, tail(b))
		default:
		}
		if _, err := ask(s.url, url.Values{"query": {"1"}, "time": {"1"}}, "/api/v1/query"); err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s does not answer at %s after 2 minutes", name, s.url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

func promVersion(s *server) string {
	resp, err := client.Get(s.url + "/api/v1/status/buildinfo")
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	var v struct{ Data struct{ Version string } }
	json.NewDecoder(resp.Body).Decode(&v)
	return v.Data.Version
}

var blocksRe = regexp.MustCompile(`(?m)^prometheus_tsdb_blocks_loaded (\S+)$`)

// settle waits until Prometheus has loaded the blocks and its block count
// has not changed for -settle (its start-up compactions are over), so
// that no compaction runs while queries are timed; it returns the count.
func settle(s *server) (string, error) {
	last, since := "", time.Now()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		cur, err := blockCount(s)
		if err != nil {
			return "", err
		}
		if cur != last {
			last, since = cur, time.Now()
		} else if cur != "0" && time.Since(since) >= *settleWait {
			logf("Prometheus: %s blocks loaded, unchanged for %s", cur, *settleWait)
			return cur, nil
		}
		time.Sleep(time.Second)
	}
	return "", errors.New("the block count of Prometheus did not settle in 10 minutes")
}

// blockCount reads prometheus_tsdb_blocks_loaded from Prometheus's metrics.
func blockCount(s *server) (string, error) {
	resp, err := client.Get(s.url + "/metrics")
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := blocksRe.FindSubmatch(b)
	if m == nil {
		return "", errors.New("no prometheus_tsdb_blocks_loaded in Prometheus's metrics")
	}
	return string(m[1]), nil
}

// rss is the resident memory of process pid (VmRSS), or "?".
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// answer is a decoded query answer: series (label set) → values in time
// order, and timestamps.
type answer struct {
	series []answerSeries
}

type answerSeries struct {
	key  string
	ts   []int64
	vals []float64
}

// ask POSTs form to path and decodes the answer; an error answer is an
// error.
func ask(base string, form url.Values, path string) (answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	var r struct {
		Status, ErrorType, Error string
		Data                     struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return answer{}, fmt.Errorf("%d %.300s: %v", resp.StatusCode, b, err)
	}
	if r.Status != "success" {
		return answer{}, fmt.Errorf("%d %s: %s", resp.StatusCode, r.ErrorType, r.Error)
	}
	res, err := decodeResult(r.Data.ResultType, r.Data.Result)
	if err != nil {
		return answer{}, err
	}
	var a answer
	for _, s := range res {
		as, err := s.series()
		if err != nil {
			return answer{}, err
		}
		a.series = append(a.series, as)
	}
	slices.SortFunc(a.series, func(x, y answerSeries) int { return strings.Compare(x.key, y.key) })
	return a, nil
}

// resultSeries is a series of a vector, a matrix or a scalar (Value
// alone) as the HTTP API writes it.
type resultSeries struct {
	Metric map[string]string
	Value  []json.RawMessage
	Values [][]json.RawMessage
}

// decodeResult decodes the result of an answer of type typ.
func decodeResult(typ string, result json.RawMessage) ([]resultSeries, error) {
	var res []resultSeries
	switch typ {
	case "vector", "matrix":
		if err := json.Unmarshal(result, &res); err != nil {
			return nil, err
		}
	case "scalar":
		var v []json.RawMessage
		if err := json.Unmarshal(result, &v); err != nil {
			return nil, err
		}
		res = append(res, resultSeries{Value: v})
	default:
		return nil, fmt.Errorf("resultType %q", typ)
	}
	return res, nil
}

// series returns s keyed by its label set, its points' times in ms.
func (s resultSeries) series() (answerSeries, error) {
	keys := make([]string, 0, len(s.Metric))
	for k, v := range s.Metric {
		keys = append(keys, k+"="+strconv.Quote(v))
	}
	slices.Sort(keys)
	as := answerSeries{key: "{" + strings.Join(keys, ",") + "}"}
	pts := s.Values
	if s.Value != nil {
		pts = [][]json.RawMessage{s.Value}
	}
	for _, p := range pts {
		if len(p) != 2 {
			return answerSeries{}, fmt.Errorf("a point of %d elements", len(p))
		}
		sec, err1 := strconv.ParseFloat(string(p[0]), 64)
		var vs string
		err2 := json.Unmarshal(p[1], &vs)
		v, err3 := strconv.ParseFloat(vs, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return answerSeries{}, err
		}
		as.ts = append(as.ts, int64(math.Round(sec*1000)))
		as.vals = append(as.vals, v)
	}
	return as, nil
}

// compare checks that the three answers (Prometheus, this tree, the
// previous engine) have the same series and timestamps, and describes the
// answer and the largest relative difference of each apptuit's values
// from Prometheus's.
func compare(a [3]answer) (string, error) {
	names := []string{"Prometheus", "this tree", "the previous engine"}
	points := 0
	for _, s := range a[0].series {
		points += len(s.ts)
	}
	desc := fmt.Sprintf("%d series, %d points", len(a[0].series), points)
	for i := 1; i < 3; i++ {
		if len(a[i].series) != len(a[0].series) {
			return "", fmt.Errorf("%s answers %d series, Prometheus %d", names[i], len(a[i].series), len(a[0].series))
		}
		worst := 0.0
		for j, s := range a[i].series {
			p := a[0].series[j]
			if s.key != p.key || !slices.Equal(s.ts, p.ts) {
				return "", fmt.Errorf("%s answers %s with %d points, Prometheus %s with %d", names[i], s.key, len(s.ts), p.key, len(p.ts))
			}
			for k, v := range s.vals {
				if d := relDiff(v, p.vals[k]); d > worst {
					worst = d
				}
			}
		}
		if worst == 0 {
			desc += "; " + strings.TrimPrefix(names[i], "the ") + ": equal"
		} else {
			desc += fmt.Sprintf("; %s: within %.0e", strings.TrimPrefix(names[i], "the "), worst)
		}
	}
	return desc, nil
}

func relDiff(a, b float64) float64 {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func short(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

func fmtTime(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }

func formatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}

func writeFile(path string, f func(*bufio.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	return errors.Join(f(w), w.Flush(), fh.Close())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func tail(b []byte) string { return string(b[max(0, len(b)-3000):]) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
