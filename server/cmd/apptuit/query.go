package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit"
)

var queryCmd = &command{
	name:     "query",
	summary:  "run a query and print the result as a table, CSV, JSON or a chart",
	synopsis: "apptuit query [--start -1h] [--end T] [--format table|csv|json|chart] [--promql [--step D] [--promql-path P]] QUERY",
	about: `Query runs QUERY, in the Apptuit query language (GET /api/query), or in
PromQL with --promql (a range query on /prometheus/api/v1/query_range, or
--promql-path: /api/v1/query_range for Prometheus or VictoriaMetrics), over
[--start, --end], and prints the result. QUERY "-" is read from standard
input.

Times are relative to now (-1h, -30m, -2d, -1w, -1h30m; units s, m, h, d, w),
Unix seconds (milliseconds when 2^32 or more), RFC 3339
(2026-11-25T15:04:05Z) or "now". An empty --end means now.

Formats:

  table  one table per output: a time column (UTC) and one column per series,
         named metric{k:v, ...}; "-" where a series has no point
  csv    as pandas' DataFrame.to_csv() writes apptuit-py's to_df()
  json   one line: {"outputs":[{"id":…,"series":[{"metric":…,"tags":{…},
         "points":[[unix_seconds,value],…]}]}]}, null for NaN
  chart  a line chart of each series drawn with braille characters

With several outputs, table, csv and chart print "# <output id>" before each.
Server warnings are printed on standard error.`,
	examples: `  apptuit query "fetch('proc.cpu.percent').downsample('1m', 'avg')"
  apptuit query --start -2d --format csv "fetch('nyc.taxi.rides', {'borough': 'bronx|queens'})"
  apptuit query --start 2026-11-25T00:00:00Z --end 2026-11-26T00:00:00Z --format json "x = fetch('cpu'); output(x)"
  apptuit query --format chart --width 100 "fetch('order_count.count').series_sum()"
  apptuit query --promql --step 1m 'sum(rate(http_requests_total[5m]))'
  apptuit query --endpoint http://127.0.0.1:9090 --promql --promql-path /api/v1/query_range 'up'`,
	flags: func() *flag.FlagSet { fs, _ := queryFlags(); return fs },
	run:   runQuery,
}

type queryOpts struct {
	clientFlags
	start, end string
	format     string
	promql     bool
	promPath   string
	step       time.Duration
	width      int
	height     int
}

func queryFlags() (*flag.FlagSet, *queryOpts) {
	o := &queryOpts{}
	fs := newFlagSet("query")
	o.register(fs, false)
	fs.StringVar(&o.start, "start", "-1h", "start `time`")
	fs.StringVar(&o.end, "end", "", "end `time` (default now)")
	fs.StringVar(&o.format, "format", "table", "output `format`: table, csv, json or chart")
	fs.BoolVar(&o.promql, "promql", false, "QUERY is PromQL: run a range query")
	fs.DurationVar(&o.step, "step", 0, "PromQL resolution step (0: about 1,000 points over the range)")
	fs.StringVar(&o.promPath, "promql-path", "", "`path` of the PromQL range API below the endpoint (default $"+EnvPromQLPath+", else "+apptuit.DefaultPromQLPath+"; /api/v1/query_range for Prometheus or VictoriaMetrics)")
	fs.IntVar(&o.width, "width", 80, fmt.Sprintf("chart width in columns, %d to %d", minWidth, maxWidth))
	fs.IntVar(&o.height, "height", 10, fmt.Sprintf("chart height in rows, %d to %d", minHeight, maxHeight))
	return fs, o
}

// Bounds of --width and --height: a chart needs room for its labels and a
// line, and a huge one would only fill memory.
const (
	minWidth, maxWidth   = 20, 1000
	minHeight, maxHeight = 2, 200
)

func runQuery(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := queryFlags()
	pos, code, done := parseFlags(fs, "query", args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "query", fs, "want one QUERY, got %d arguments", len(pos))
	}
	switch o.format {
	case "table", "csv", "json", "chart":
	default:
		return usageError(stderr, "query", fs, "unknown --format %q", o.format)
	}
	if o.step < 0 {
		return usageError(stderr, "query", fs, "--step must not be negative")
	}
	if o.step != 0 && !o.promql {
		return usageError(stderr, "query", fs, "--step is for --promql")
	}
	if o.promPath != "" && !o.promql {
		return usageError(stderr, "query", fs, "--promql-path is for --promql")
	}
	if o.width < minWidth || o.width > maxWidth {
		return usageError(stderr, "query", fs, "--width %d: want %d to %d columns", o.width, minWidth, maxWidth)
	}
	if o.height < minHeight || o.height > maxHeight {
		return usageError(stderr, "query", fs, "--height %d: want %d to %d rows", o.height, minHeight, maxHeight)
	}
	promPath, from := o.promPath, "--promql-path"
	if promPath == "" {
		promPath, from = os.Getenv(EnvPromQLPath), EnvPromQLPath
	}
	if promPath != "" && !strings.HasPrefix(promPath, "/") {
		return usageError(stderr, "query", fs, "%s %q: want a path starting with '/'", from, promPath)
	}
	now := time.Now()
	start, err := parseTime(o.start, now)
	if err != nil {
		return usageError(stderr, "query", fs, "--start: %v", err)
	}
	if start.IsZero() {
		return usageError(stderr, "query", fs, "--start must not be empty")
	}
	end, err := parseTime(o.end, now)
	if err != nil {
		return usageError(stderr, "query", fs, "--end: %v", err)
	}
	if !end.IsZero() && end.Before(start) {
		return usageError(stderr, "query", fs, "--end is before --start")
	}
	q := pos[0]
	if q == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "apptuit query: reading the query: %v\n", err)
			return exitFail
		}
		q = string(b)
	}
	if strings.TrimSpace(q) == "" {
		return usageError(stderr, "query", fs, "empty QUERY")
	}
	opts := []apptuit.Option{apptuit.WithIgnoreEnvTags()}
	if o.promql && promPath != "" {
		opts = append(opts, apptuit.WithPromQLPath(promPath))
	}
	client, err := o.client(opts...)
	if err != nil {
		return clientError(stderr, "query", err)
	}
	var res *apptuit.QueryResult
	if o.promql {
		res, err = client.QueryRange(ctx, q, start, end, o.step)
	} else {
		res, err = client.Query(ctx, q, start, end)
	}
	if err != nil {
		fmt.Fprintln(stderr, err) // the library's errors say "apptuit: query: …"
		return exitFail
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err := printResult(stdout, res, o.format, o.width, o.height); err != nil {
		fmt.Fprintf(stderr, "apptuit query: writing the result: %v\n", err)
		return exitFail
	}
	if countSeries(res) == 0 {
		fmt.Fprintln(stderr, "no data")
	}
	return exitOK
}

func countSeries(res *apptuit.QueryResult) int {
	n := 0
	for _, o := range res.Outputs() {
		n += len(o.Series)
	}
	return n
}

// printResult writes res in format (table, csv, json or chart).
func printResult(w io.Writer, res *apptuit.QueryResult, format string, width, height int) error {
	bw := bufio.NewWriter(w)
	outs := res.Outputs()
	if format == "json" {
		if err := writeJSON(bw, outs); err != nil {
			return err
		}
		return bw.Flush()
	}
	for i, out := range outs {
		if len(outs) > 1 {
			if i > 0 && format != "csv" {
				fmt.Fprintln(bw)
			}
			fmt.Fprintf(bw, "# %s\n", out.ID)
		}
		f := out.Frame()
		switch format {
		case "table":
			writeTable(bw, f)
		case "csv":
			if err := f.WriteCSV(bw); err != nil {
				return err
			}
		case "chart":
			writeCharts(bw, out, f, width, height)
		}
	}
	return bw.Flush()
}

// writeCharts draws each series of out (whose frame is f) as a chart over
// the time range of the whole output.
func writeCharts(w io.Writer, out *apptuit.Output, f *apptuit.Frame, width, height int) {
	var t0, t1 time.Time
	if len(f.Index) > 0 {
		t0, t1 = f.Index[0], f.Index[len(f.Index)-1]
	}
	for i, s := range out.Series {
		if i > 0 {
			fmt.Fprintln(w)
		}
		times := make([]time.Time, 0, s.Len())
		values := make([]float64, 0, s.Len())
		for t, v := range s.Points() {
			times = append(times, t)
			values = append(values, v)
		}
		drawChart(w, f.Columns[i], times, values, t0, t1, width, height)
	}
}

// frameTimes formats a frame's index in UTC, with milliseconds on every row
// when any row has them.
func frameTimes(idx []time.Time) []string {
	layout := "2006-01-02 15:04:05"
	for _, t := range idx {
		if t.Nanosecond() != 0 {
			layout += ".000"
			break
		}
	}
	s := make([]string, len(idx))
	for i, t := range idx {
		s[i] = t.UTC().Format(layout)
	}
	return s
}

// writeTable writes f as aligned columns: the time, then one right-aligned
// column per series.
func writeTable(w io.Writer, f *apptuit.Frame) {
	cells := make([][]string, len(f.Columns)+1)
	cells[0] = append([]string{"time"}, frameTimes(f.Index)...)
	for c, name := range f.Columns {
		col := make([]string, 0, len(f.Index)+1)
		col = append(col, name)
		for _, v := range f.Values[c] {
			col = append(col, formatValue(v))
		}
		cells[c+1] = col
	}
	widths := make([]int, len(cells))
	for c, col := range cells {
		for _, s := range col {
			widths[c] = max(widths[c], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for r := 0; r <= len(f.Index); r++ {
		b.Reset()
		for c, col := range cells {
			pad := strings.Repeat(" ", widths[c]-utf8.RuneCountInString(col[r]))
			switch {
			case c == 0:
				b.WriteString(col[r])
				b.WriteString(pad)
			default:
				b.WriteString("  ")
				b.WriteString(pad)
				b.WriteString(col[r])
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

type jsonSeries struct {
	Metric string            `json:"metric"`
	Tags   map[string]string `json:"tags"`
	Points [][2]any          `json:"points"`
}

type jsonOutput struct {
	ID     string       `json:"id"`
	Series []jsonSeries `json:"series"`
}

// writeJSON writes the outputs as {"outputs":[...]}, timestamps in Unix
// seconds (fractional when they have milliseconds), NaN and ±Inf as null.
func writeJSON(w io.Writer, outs []*apptuit.Output) error {
	doc := struct {
		Outputs []jsonOutput `json:"outputs"`
	}{Outputs: make([]jsonOutput, 0, len(outs))}
	for _, o := range outs {
		jo := jsonOutput{ID: o.ID, Series: make([]jsonSeries, 0, len(o.Series))}
		for _, s := range o.Series {
			tags := s.Tags()
			if tags == nil {
				tags = map[string]string{}
			}
			js := jsonSeries{Metric: s.Metric(), Tags: tags, Points: make([][2]any, 0, s.Len())}
			for t, v := range s.Points() {
				var ts any = t.Unix()
				if ms := t.UnixMilli(); ms%1000 != 0 {
					ts = json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
				}
				var val any
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					val = v
				}
				js.Points = append(js.Points, [2]any{ts, val})
			}
			jo.Series = append(jo.Series, js)
		}
		doc.Outputs = append(doc.Outputs, jo)
	}
	return json.NewEncoder(w).Encode(doc)
}
