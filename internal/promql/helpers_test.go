package promql

import (
	"context"
	"math"
	"strings"
	"testing"
)

// memStorage is a Storage of series held in memory.
type memStorage []Series

func (m memStorage) Select(ms []*Matcher, lo, hi int64, lim Limits, n int) ([]Series, error) {
	lim = lim.withDefaults()
	var out []Series
	for _, s := range m {
		ok := true
		for _, mt := range ms {
			if !mt.Matches(s.Labels.Get(mt.Name)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var w []Sample
		for _, p := range s.Samples {
			if p.T >= lo && p.T <= hi {
				w = append(w, p)
			}
		}
		if len(w) == 0 {
			continue
		}
		if len(out) == lim.MaxSeries {
			return nil, lim.TooManySeries("sel")
		}
		if n += len(w); n > lim.MaxSamples {
			return nil, lim.TooManySamples()
		}
		out = append(out, Series{s.Labels, w})
	}
	return out, nil
}

// T0 is a minute-aligned time, in milliseconds; at(s) is T0 + s seconds.
const T0 = 1_699_999_800_000

func at(s float64) int64 { return T0 + int64(s*1000) }

// ser makes a series from "name{k=v,…}" and time (s after T0), value pairs.
func ser(spec string, tv ...float64) Series {
	name, rest, _ := strings.Cut(spec, "{")
	tags := map[string]string{}
	rest = strings.TrimSuffix(rest, "}")
	if rest != "" {
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			tags[k] = v
		}
	}
	s := Series{Labels: FromMap(name, tags)}
	for i := 0; i+1 < len(tv); i += 2 {
		s.Samples = append(s.Samples, Sample{at(tv[i]), tv[i+1]})
	}
	return s
}

// fmtResult renders a result compactly: one line per series,
// "{labels} t:v t:v" with t in seconds after T0.
func fmtResult(r *Result) string {
	if r.Type == TypeScalar {
		return "scalar " + string(formatValue(nil, r.Scalar.V))
	}
	var lines []string
	for _, s := range r.Series {
		var b strings.Builder
		b.WriteString(fmtLabels(s.Labels))
		for _, p := range s.Points {
			b.WriteString(" ")
			b.Write(appendTimestamp(nil, p.T-T0))
			b.WriteString(":")
			b.Write(formatValue(nil, round12(p.V)))
		}
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// round12 rounds v to 12 significant digits, so that expectations can be
// written as decimals.
func round12(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	e := math.Pow(10, 11-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

func instant(t *testing.T, st Storage, q string, ts float64) string {
	t.Helper()
	e, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	r, err := EvalInstant(context.Background(), st, e, at(ts), Limits{})
	if err != nil {
		t.Fatalf("EvalInstant(%q): %v", q, err)
	}
	return fmtResult(r)
}
