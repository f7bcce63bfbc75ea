package ql

import (
	"math"
	"sort"
	"strings"
)

// Point is one value at a Unix time in seconds.
type Point struct {
	T int64
	V float64
}

// Series is a metric, its tags and its points sorted by time, with no two
// points at the same second. AggregatedTags lists the tag keys that a
// series_* function folded away (sorted); it is empty for stored series.
type Series struct {
	Metric         string
	Tags           map[string]string
	AggregatedTags []string
	Points         []Point
}

// Store is what Eval reads from.
type Store interface {
	// Fetch returns every series of metric that has at least one point in
	// [start, end] (Unix seconds, inclusive), with only those points, sorted
	// by time, one point per second. Eval does not modify what it returns.
	Fetch(metric string, start, end int64) []Series
}

// Output is the result of one output id.
type Output struct {
	ID     string
	Series []Series
}

// Eval runs p over st for the Unix-second range [start, end]. Without an
// output() statement it returns one Output per statement, in order;
// otherwise one per output() argument, in that order. Its cost is linear in
// the number of points fetched (series_* functions add a sort of the merged
// timestamps).
func Eval(p *Program, st Store, start, end int64) []Output {
	vars := map[string][]Series{}
	var outs []Output
	for _, s := range p.Stmts {
		res := evalExpr(s.Expr, st, vars, start, end)
		if s.Name != "" {
			vars[s.Name] = res
		}
		if p.Outputs == nil {
			outs = append(outs, Output{ID: s.ID(), Series: res})
		}
	}
	for _, name := range p.Outputs {
		outs = append(outs, Output{ID: name, Series: vars[name]})
	}
	return outs
}

func evalExpr(e *Expr, st Store, vars map[string][]Series, start, end int64) []Series {
	var ss []Series
	if e.Fetch != nil {
		ss = fetch(e.Fetch, st, start, end)
	} else {
		ss = vars[e.Var] // ops never modify their input
	}
	for _, op := range e.Ops {
		ss = apply(op, ss)
	}
	return ss
}

func fetch(f *Fetch, st Store, start, end int64) []Series {
	var out []Series
	for _, s := range st.Fetch(f.Metric, start, end) {
		if s.Metric == f.Metric && matches(f.Filters, s.Tags) && len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return TagKey(out[i].Tags) < TagKey(out[j].Tags) })
	return out
}

func matches(fs []TagFilter, tags map[string]string) bool {
	for _, f := range fs {
		v, ok := tags[f.Key]
		if !ok {
			return false
		}
		hit := false
		for _, alt := range f.Values {
			if alt == "*" || alt == v {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// TagKey returns a canonical string for a tag set (sorted k=v pairs), used to
// order series deterministically.
func TagKey(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}

func apply(op *Op, in []Series) []Series {
	switch op.Name {
	case "series_sum", "series_avg", "series_min", "series_max":
		return seriesAgg(op.Name, in)
	}
	out := make([]Series, 0, len(in))
	for _, s := range in {
		ns := s
		switch op.Name {
		case "downsample":
			ns.Points = downsample(s.Points, op.Interval, op.Agg)
		case "rate":
			ns.Points = rate(s.Points)
		case "div", "mul", "add", "sub":
			ns.Points = arith(s.Points, op.Name, op.N)
		}
		out = append(out, ns)
	}
	return out
}

// floorDiv is floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func downsample(ps []Point, iv int64, agg string) []Point {
	var out []Point
	for i := 0; i < len(ps); {
		b := floorDiv(ps[i].T, iv) * iv
		j := i
		sum, mn, mx := 0.0, math.Inf(1), math.Inf(-1)
		for ; j < len(ps) && floorDiv(ps[j].T, iv)*iv == b; j++ {
			v := ps[j].V
			sum += v
			mn = math.Min(mn, v)
			mx = math.Max(mx, v)
		}
		n := float64(j - i)
		var v float64
		switch agg {
		case "avg":
			v = sum / n
		case "sum":
			v = sum
		case "min":
			v = mn
		case "max":
			v = mx
		case "count":
			v = n
		}
		out = append(out, Point{T: b, V: v})
		i = j
	}
	return out
}

func rate(ps []Point) []Point {
	var out []Point
	for i := 1; i < len(ps); i++ {
		dv := ps[i].V - ps[i-1].V
		dt := ps[i].T - ps[i-1].T
		if dv < 0 || dt <= 0 {
			continue // counter reset
		}
		out = append(out, Point{T: ps[i].T, V: dv / float64(dt)})
	}
	return out
}

func arith(ps []Point, name string, n float64) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		v := p.V
		switch name {
		case "div":
			v /= n
		case "mul":
			v *= n
		case "add":
			v += n
		case "sub":
			v -= n
		}
		out[i] = Point{T: p.T, V: v}
	}
	return out
}

// seriesAgg folds all series into one: at each timestamp present in any
// series, the aggregate over the series that have a value there (no
// interpolation). Tags common to all series (same key and value) are kept;
// every other key is listed in AggregatedTags.
func seriesAgg(name string, in []Series) []Series {
	if len(in) == 0 {
		return nil
	}
	type acc struct {
		sum, mn, mx float64
		n           int
	}
	byT := map[int64]*acc{}
	var ts []int64
	for _, s := range in {
		for _, p := range s.Points {
			a := byT[p.T]
			if a == nil {
				a = &acc{mn: p.V, mx: p.V}
				byT[p.T] = a
				ts = append(ts, p.T)
			}
			a.sum += p.V
			a.mn = math.Min(a.mn, p.V)
			a.mx = math.Max(a.mx, p.V)
			a.n++
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	pts := make([]Point, len(ts))
	for i, t := range ts {
		a := byT[t]
		var v float64
		switch name {
		case "series_sum":
			v = a.sum
		case "series_avg":
			v = a.sum / float64(a.n)
		case "series_min":
			v = a.mn
		case "series_max":
			v = a.mx
		}
		pts[i] = Point{T: t, V: v}
	}
	common := map[string]string{}
	for k, v := range in[0].Tags {
		common[k] = v
	}
	aggSet := map[string]bool{}
	for _, s := range in {
		for _, k := range s.AggregatedTags {
			aggSet[k] = true
		}
		for k, v := range s.Tags {
			if cv, ok := common[k]; !ok || cv != v {
				aggSet[k] = true
			}
		}
		for k := range common {
			if v, ok := s.Tags[k]; !ok || v != common[k] {
				delete(common, k)
				aggSet[k] = true
			}
		}
	}
	for k := range common {
		delete(aggSet, k)
	}
	aggTags := make([]string, 0, len(aggSet))
	for k := range aggSet {
		aggTags = append(aggTags, k)
	}
	sort.Strings(aggTags)
	return []Series{{Metric: in[0].Metric, Tags: common, AggregatedTags: aggTags, Points: pts}}
}
