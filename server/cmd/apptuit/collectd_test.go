package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// collectdConf is the configuration of the collectd the test runs: the
// cpu, memory and load plugins every second, written both to apptuit
// serve by write_tsdb (telnet put lines) and to CSV files by the csv
// plugin, collectd's own record of what it sent.
const collectdConf = `Hostname "apptuit-ci"
FQDNLookup false
BaseDir "@DIR@"
PIDFile "@DIR@/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin csv
<Plugin csv>
  DataDir "@DIR@/csv"
  StoreRates false
</Plugin>
<LoadPlugin write_tsdb>
  FlushInterval 1
</LoadPlugin>
<Plugin write_tsdb>
  <Node "apptuit">
    Host "127.0.0.1"
    Port "@PORT@"
  </Node>
</Plugin>
`

// collectdPoint is a value collectd recorded in its CSV files, under the
// metric name write_tsdb gives it.
type collectdPoint struct {
	metric string
	sec    int64 // write_tsdb's timestamp: the time rounded to the second
	tie    bool  // the time was at a half second: write_tsdb may round down
	value  float64
}

// readCollectdCSV reads the csv plugin's files of the cpu, memory and load
// plugins, naming each value as write_tsdb does:
// plugin[.plugin_instance].type[.type_instance][.ds] (the data source's
// name only when the type has several; with a type instance and no
// plugin instance, plugin.type_instance.type).
func readCollectdCSV(t *testing.T, dir string) []collectdPoint {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "apptuit-ci", "*", "*-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CSV files of collectd in %s: %v", dir, err)
	}
	dated := regexp.MustCompile(`-\d{4}-\d\d-\d\d$`)
	var pts []collectdPoint
	for _, f := range files {
		pluginDir, file := filepath.Base(filepath.Dir(f)), dated.ReplaceAllString(filepath.Base(f), "")
		plugin, pinst, _ := strings.Cut(pluginDir, "-")
		typ, tinst, _ := strings.Cut(file, "-")
		rows := readCSV(t, f)
		header := rows[0][1:]
		for _, row := range rows[1:] {
			at, err := strconv.ParseFloat(row[0], 64)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			sec := math.Round(at)
			for i, ds := range header {
				v, err := strconv.ParseFloat(row[1+i], 64)
				if err != nil || math.IsNaN(v) {
					continue // write_tsdb skips NaN
				}
				var name string
				switch {
				case pinst == "" && tinst == "":
					name = plugin + "." + typ
				case pinst == "":
					name = plugin + "." + tinst + "." + typ
				case tinst == "":
					name = plugin + "." + pinst + "." + typ
				default:
					name = plugin + "." + pinst + "." + typ + "." + tinst
				}
				if len(header) > 1 {
					name += "." + ds
				}
				pts = append(pts, collectdPoint{metric: name, sec: int64(sec), tie: math.Abs(at-math.Trunc(at)-0.5) < 1e-9, value: v})
			}
		}
	}
	return pts
}

func readCSV(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rows = append(rows, strings.Split(sc.Text(), ","))
	}
	if len(rows) < 2 {
		t.Fatalf("%s: %d rows", path, len(rows))
	}
	return rows
}

// TestCollectdWriteTSDB: a real client of the telnet protocol, Debian's
// collectd with its write_tsdb plugin, pushes cpu, memory and load values
// into apptuit serve's port every second; every value collectd recorded
// (its csv plugin) is then read back exactly through the Apptuit query
// language and through PromQL.
func TestCollectdWriteTSDB(t *testing.T) {
	cleanEnv(t)
	bin, err := exec.LookPath("collectd")
	if err != nil {
		bin = "/usr/sbin/collectd"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("collectd is not installed (Debian: apt-get install collectd-core); CI installs it")
	}
	if _, err := os.Stat("/usr/lib/collectd/write_tsdb.so"); err != nil {
		t.Skip("collectd's write_tsdb plugin is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr safeBuffer
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`listening on http://(127\.0\.0\.1:(\d+)) `)
	waitFor(t, "the listening line", func() bool { return urlRE.MatchString(stdout.String()) })
	m := urlRE.FindStringSubmatch(stdout.String())
	addr, port := m[1], m[2]

	dir := t.TempDir()
	conf := filepath.Join(dir, "collectd.conf")
	text := strings.NewReplacer("@DIR@", dir, "@PORT@", port).Replace(collectdConf)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var cdOut safeBuffer
	cd := exec.Command(bin, "-f", "-C", conf)
	cd.Stdout, cd.Stderr = &cdOut, &cdOut
	if err := cd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cd.Process.Kill()
			cd.Wait()
		}
	}()

	c, err := apptuit.New(apptuit.WithEndpoint("http://"+addr), apptuit.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	load := func() int {
		res, err := c.Query(ctx, "fetch('load.load.shortterm', {'fqdn': 'apptuit-ci'})", began.Add(-time.Minute), time.Now().Add(time.Minute))
		if err != nil || res.Len() == 0 || len(res.Output(0).Series) == 0 {
			return 0
		}
		return res.Output(0).Series[0].Len()
	}
	deadline := time.Now().Add(30 * time.Second)
	for load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, apptuit serve has %d load values; collectd says:\n%s\nserve says:\n%s", load(), cdOut.String(), stdout.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Stopped, collectd flushes what write_tsdb holds.
	cd.Process.Signal(syscall.SIGTERM)
	if err := cd.Wait(); err != nil {
		t.Fatalf("collectd: %v\n%s", err, cdOut.String())
	}
	stopped = true
	if strings.Contains(cdOut.String(), "write_tsdb plugin: ") && strings.Contains(cdOut.String(), "failed") {
		t.Errorf("collectd's write_tsdb failed:\n%s", cdOut.String())
	}

	want := readCollectdCSV(t, filepath.Join(dir, "csv"))
	byMetric := map[string][]collectdPoint{}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, p := range want {
		byMetric[p.metric] = append(byMetric[p.metric], p)
		lo, hi = min(lo, p.sec), max(hi, p.sec)
	}
	for _, must := range []string{"load.load.shortterm", "load.load.midterm", "load.load.longterm", "memory.used.memory", "memory.free.memory", "cpu.0.cpu.idle", "cpu.0.cpu.user"} {
		if len(byMetric[must]) == 0 {
			t.Fatalf("collectd recorded no %s; it recorded %d metrics", must, len(byMetric))
		}
	}
	start, end := time.Unix(lo-1, 0), time.Unix(hi+1, 0)

	// The Apptuit query language: every metric, every value, at its second.
	// The last lines, sent as collectd stopped, may still be on their way.
	var stored map[string]map[int64]float64
	deadline = time.Now().Add(10 * time.Second)
	for {
		stored = map[string]map[int64]float64{}
		for metric := range byMetric {
			res, err := c.Query(ctx, fmt.Sprintf("fetch('%s', {'fqdn': 'apptuit-ci'})", metric), start, end)
			if err != nil {
				t.Fatalf("query %s: %v", metric, err)
			}
			stored[metric] = map[int64]float64{}
			if res.Len() == 1 && len(res.Output(0).Series) == 1 {
				for at, v := range res.Output(0).Series[0].Points() {
					stored[metric][at.Unix()] = v
				}
			}
		}
		if missing := missingPoints(byMetric, stored); len(missing) == 0 || time.Now().After(deadline) {
			for _, m := range missing {
				t.Error(m)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	extra := 0
	for metric, pts := range stored {
		extra += len(pts) - len(byMetric[metric])
	}
	if extra != 0 {
		t.Errorf("apptuit serve holds %d points more than collectd recorded", extra)
	}

	// PromQL, Prometheus's engine: each series at each of its own seconds,
	// and the sum of the memory states at the last second all report.
	for _, metric := range []string{"load.load.shortterm", "memory.used.memory", "cpu.0.cpu.idle"} {
		pts := byMetric[metric]
		res, err := c.QueryRange(ctx, fmt.Sprintf(`{__name__=%q, fqdn="apptuit-ci"}`, metric), start, end, time.Second)
		if err != nil {
			t.Fatalf("PromQL %s: %v", metric, err)
		}
		if res.Len() != 1 || len(res.Output(0).Series) != 1 {
			t.Fatalf("PromQL %s: %d outputs", metric, res.Len())
		}
		at := map[int64]float64{}
		for ts, v := range res.Output(0).Series[0].Points() {
			at[ts.Unix()] = v
		}
		for _, p := range pts {
			if v, ok := at[p.sec]; !p.tie && (!ok || !sameValue(v, p.value)) {
				t.Errorf("PromQL %s at %d: %v (%v), collectd recorded %v", metric, p.sec, v, ok, p.value)
			}
		}
	}
	memSec, memSum, memN := memoryTotal(byMetric)
	res, err := c.QueryRange(ctx, `sum({__name__=~"memory[.].*[.]memory", fqdn="apptuit-ci"})`, time.Unix(memSec, 0), time.Unix(memSec, 0), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Len() != 1 || len(res.Output(0).Series) != 1 {
		t.Fatalf("PromQL sum of memory: %d outputs", res.Len())
	}
	if _, v := res.Output(0).Series[0].At(0); math.Abs(v-memSum) > 1e-9*memSum {
		t.Errorf("PromQL sum of the %d memory states at %d: %v, collectd recorded %v in all", memN, memSec, v, memSum)
	}

	lines := 0
	for _, r := range regexp.MustCompile(`TELNET put accepted=(\d+) failed=0 status=204`).FindAllStringSubmatch(stdout.String(), -1) {
		n, _ := strconv.Atoi(r[1])
		lines += n
	}
	if lines < len(want) || strings.Contains(stdout.String(), "TELNET put accepted=0") || regexp.MustCompile(`TELNET put .*failed=[1-9]`).MatchString(stdout.String()) {
		t.Errorf("serve logged %d lines accepted for the %d values collectd recorded:\n%s", lines, len(want), stdout.String())
	}
	t.Logf("collectd recorded %d values of %d metrics over %d s, read back by fetch() and PromQL; serve logged %d put lines accepted, none refused",
		len(want), len(byMetric), hi-lo+1, lines)

	cancel()
	if code := <-served; code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr.String())
	}
}

// sameValue reports whether v, as write_tsdb sent it (15 significant
// digits), is what the csv plugin recorded with 6 decimals.
func sameValue(v, recorded float64) bool { return math.Abs(v-recorded) <= 5.0000001e-7 }

// missingPoints lists the values collectd recorded that stored lacks or
// holds otherwise.
func missingPoints(want map[string][]collectdPoint, stored map[string]map[int64]float64) []string {
	var out []string
	for metric, pts := range want {
		for _, p := range pts {
			v, ok := stored[metric][p.sec]
			if !ok && p.tie {
				v, ok = stored[metric][p.sec-1]
			}
			if !ok || !sameValue(v, p.value) {
				out = append(out, fmt.Sprintf("%s at %d: stored %v (%v), collectd recorded %v", metric, p.sec, v, ok, p.value))
			}
		}
	}
	sort.Strings(out)
	return out
}

// memoryTotal returns the last second at which every memory state has a
// value (no tie), the sum of those values and their number.
func memoryTotal(byMetric map[string][]collectdPoint) (sec int64, sum float64, n int) {
	at := map[int64]map[string]float64{}
	states := 0
	for metric, pts := range byMetric {
		if !strings.HasPrefix(metric, "memory.") {
			continue
		}
		states++
		for _, p := range pts {
			if p.tie {
				continue
			}
			if at[p.sec] == nil {
				at[p.sec] = map[string]float64{}
			}
			at[p.sec][metric] = p.value
		}
	}
	for s, vals := range at {
		if len(vals) == states && s > sec {
			sec = s
		}
	}
	for _, v := range at[sec] {
		sum += v
	}
	return sec, sum, len(at[sec])
}
