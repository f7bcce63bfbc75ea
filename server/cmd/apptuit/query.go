package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
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
	synopsis: "apptuit query [--start -1h] [--end T] [--format table|csv|json|chart] [--promql [--step D] [--promql-path P] [--strict]] QUERY",
	about: `Query runs QUERY, in the Apptuit query language (GET /api/query), or in
PromQL with --promql (a range query on /prometheus/api/v1/query_range, or
--promql-path: /api/v1/query_range for Prometheus or VictoriaMetrics), over
[--start, --end], and prints the result. QUERY "-" is read from standard
input.

Times are "now", relative to it (-1h, +1m, now-2d, -1h30m, 1h-ago; units
ms, s, m, h, d, w), Unix seconds (milliseconds when 2^32 or more) or RFC 3339
(2026-11-25T15:04:05Z). An empty --end means now. Durations (--step,
--timeout) are written the same way: 30s, 1m, 1h30m, 7d.

Formats:

  table  one table per output: a time column (UTC) and one column per series,
         named metric{k:v, ...}; "-" where a series has no point
  csv    as pandas' DataFrame.to_csv() writes apptuit-py's to_df()
  json   one line: {"outputs":[{"id":…,"series":[{"metric":…,"tags":{…},
         "points":[[unix_seconds,value],…]}]}]}, null for NaN
  chart  a line chart of each series drawn with braille characters, as wide
         as the terminal (80 columns when not a terminal) unless --width

With several outputs, table, csv and chart print "# <output id>" before each.
Server warnings and notes are printed on standard error, and so is a line
saying that a PromQL answer is partial (a VictoriaMetrics cluster with a
storage node down marks it so); --strict refuses such an answer instead: it
asks the server for none (deny_partial_response=1) and exits with status 1
when it gets one anyway. When a request goes unanswered for a few seconds and
standard error is a terminal, a line says what the command waits for and how
to change --timeout. Ctrl-C stops the command at once, with exit status 130.`,
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
	strict     bool
}

func queryFlags() (*flag.FlagSet, *queryOpts) {
	o := &queryOpts{}
	fs := newFlagSet("query")
	o.register(fs, false)
	fs.StringVar(&o.start, "start", "-1h", "start `time`")
	fs.StringVar(&o.end, "end", "", "end `time` (default now)")
	choiceVar(fs, &o.format, "format", []string{"table", "csv", "json", "chart"}, "output `format`: table, csv, json or chart")
	fs.BoolVar(&o.promql, "promql", false, "QUERY is PromQL: run a range query")
	durationVar(fs, &o.step, "step", 0, "PromQL resolution step, a `duration` such as 15s or 1m (0: about 1,000 points over the range)")
	fs.StringVar(&o.promPath, "promql-path", "", "`path` of the PromQL range API below the endpoint (default $"+EnvPromQLPath+", else "+apptuit.DefaultPromQLPath+"; /api/v1/query_range for Prometheus or VictoriaMetrics)")
	fs.BoolVar(&o.strict, "strict", false, "with --promql: refuse a partial answer (exit status 1) instead of printing it with a warning")
	intVar(fs, &o.width, "width", 0, minWidth, maxWidth, fmt.Sprintf("%d to %d columns", minWidth, maxWidth),
		fmt.Sprintf("chart width in `columns`, %d to %d (default: the terminal's width, else 80)", minWidth, maxWidth))
	intVar(fs, &o.height, "height", 10, minHeight, maxHeight, fmt.Sprintf("%d to %d rows", minHeight, maxHeight), fmt.Sprintf("chart height in `rows`, %d to %d", minHeight, maxHeight))
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
	promPath, err := o.check(pos)
	if err != nil {
		return usageError(stderr, "query", fs, "%v", err)
	}
	if o.width == 0 {
		o.width = chartWidth(stdout)
	}
	start, end, err := o.timeRange(time.Now())
	if err != nil {
		return usageError(stderr, "query", fs, "%v", err)
	}
	q, code, ok := readQuery(ctx, pos[0], stdin, stderr)
	if !ok {
		return code
	}
	if len(q) > maxLine {
		return usageError(stderr, "query", fs, "the query is longer than %d bytes (1 MiB)", maxLine)
	}
	if strings.TrimSpace(q) == "" {
		return usageError(stderr, "query", fs, "empty QUERY")
	}
	res, code := o.query(ctx, stderr, q, promPath, start, end)
	if res == nil {
		return code
	}
	return o.print(stdout, stderr, res)
}

// check checks the arguments and the flags that go with --promql, and
// returns the PromQL path: --promql-path, else $APPTUIT_PROMQL_PATH, else
// "" (the library's default).
func (o *queryOpts) check(pos []string) (promPath string, err error) {
	switch {
	case len(pos) != 1:
		return "", fmt.Errorf("want one QUERY, got %d arguments", len(pos))
	case o.step != 0 && !o.promql:
		return "", errors.New("--step is for --promql")
	case o.promPath != "" && !o.promql:
		return "", errors.New("--promql-path is for --promql")
	case o.strict && !o.promql:
		return "", errors.New("--strict is for --promql (Apptuit query-language answers carry no partial flag)")
	}
	promPath, from := o.promPath, "--promql-path"
	if promPath == "" {
		promPath, from = os.Getenv(EnvPromQLPath), EnvPromQLPath
	}
	if promPath != "" && !strings.HasPrefix(promPath, "/") {
		return "", fmt.Errorf("%s %s: want a path starting with '/'", from, quoteArg(promPath))
	}
	return promPath, nil
}

// readQuery returns the query arg, read from stdin when arg is "-" (up to
// one byte more than maxLine). When it cannot, it says why on stderr and
// returns the exit status.
func readQuery(ctx context.Context, arg string, stdin io.Reader, stderr io.Writer) (q string, code int, ok bool) {
	if arg != "-" {
		return arg, exitOK, true
	}
	if isTerminal(stdin) {
		fmt.Fprintln(stderr, "reading the query from the terminal; end with Ctrl-D, stop with Ctrl-C")
	}
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, stdin}, maxLine+1))
	if code, ok := interrupted(ctx); ok {
		return "", code, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "apptuit query: reading the query: %s\n", escapeText(err.Error()))
		return "", exitFail, false
	}
	return string(b), exitOK, true
}

// query runs q over [start, end], saying on stderr what it waits for. When
// it fails, it says why on stderr and returns a nil result and the exit
// status.
func (o *queryOpts) query(ctx context.Context, stderr io.Writer, q, promPath string, start, end time.Time) (*apptuit.QueryResult, int) {
	opts := []apptuit.Option{apptuit.WithIgnoreEnvTags()}
	if o.promql && promPath != "" {
		opts = append(opts, apptuit.WithPromQLPath(promPath))
	}
	if o.strict {
		opts = append(opts, apptuit.WithDenyPartial())
	}
	client, err := o.client(opts...)
	if err != nil {
		return nil, clientError(stderr, "query", err)
	}
	var res *apptuit.QueryResult
	target := client.Endpoint() + "/api/query"
	if o.promql {
		target = client.Endpoint() + cmp.Or(promPath, apptuit.DefaultPromQLPath)
	}
	err = o.await(stderr, "query", target, func() (err error) {
		if o.promql {
			res, err = client.QueryRange(ctx, q, start, end, o.step)
		} else {
			res, err = client.Query(ctx, q, start, end)
		}
		return err
	})
	if code, ok := interrupted(ctx); ok {
		return nil, code
	}
	if err != nil {
		fmt.Fprintln(stderr, o.explain(err)) // the library's errors say "apptuit: query: …"
		return nil, exitFail
	}
	return res, exitOK
}

// print writes res to stdout in --format, and the server's warnings and
// notes to stderr; it returns the exit status.
func (o *queryOpts) print(stdout, stderr io.Writer, res *apptuit.QueryResult) int {
	if res.Partial {
		fmt.Fprintln(stderr, "warning: partial answer: the server says some of its storage did not answer, so series or points may be missing (--strict refuses such answers)")
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", clipText(w))
	}
	for _, i := range res.Infos {
		fmt.Fprintf(stderr, "info: %s\n", clipText(i))
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

// timeRange reads --start and --end, relative to now; an empty --end is
// the zero time (now, for the library).
func (o *queryOpts) timeRange(now time.Time) (start, end time.Time, err error) {
	start, err = parseTime(o.start, now)
	if err != nil {
		return start, end, &valueError{flag: "start", value: o.start, why: err.Error()}
	}
	if start.IsZero() {
		return start, end, errors.New("--start must not be empty")
	}
	end, err = parseTime(o.end, now)
	if err != nil {
		return start, end, &valueError{flag: "end", value: o.end, why: err.Error()}
	}
	if !end.IsZero() && end.Before(start) {
		return start, end, fmt.Errorf("--end %s is before --start %s", quoteArg(o.end), quoteArg(o.start))
	}
	return start, end, nil
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
