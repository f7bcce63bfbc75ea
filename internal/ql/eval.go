package ql

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
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
	// When those series hold more than max points in all, Fetch stops as
	// soon as it has seen more than max and returns ok false (and what it
	// has, which Eval drops).
	Fetch(metric string, start, end int64, max int) (ss []Series, ok bool)
}

// Output is the result of one output id.
type Output struct {
	ID     string
	Series []Series
}

// LimitError is Eval's error for a query that needs more points than its
// bound.
type LimitError struct {
	Max int // the bound: points fetched, computed and answered, in all
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("query too expensive: it needs more than %d points fetched, computed and answered", e.Max)
}

// Eval runs p over st for the Unix-second range [start, end]. Without an
// output() statement it returns one Output per statement, in order;
// otherwise one per output() argument, in that order. Its cost is linear in
// the number of points fetched (series_* functions add a sort of the merged
// points).
//
// It holds at most maxPoints points (no bound when maxPoints is 0): each
// point fetched counts, each point a function computes, and each point of
// an output that repeats one already answered ("b = a", or output(a, a),
// which writes a's points twice). A function is charged the most points it can make before
// it runs (series_* twice that, for the merge), and refunded what it did
// not use. Past the bound Eval stops with a *LimitError before fetching or
// computing more; when ctx ends it stops with ctx.Err() (checked before
// each fetch and function). Neither leaves a partial answer.
func Eval(ctx context.Context, p *Program, st Store, start, end int64, maxPoints int) ([]Output, error) {
	b := budget{max: maxPoints, left: maxPoints}
	if maxPoints == 0 {
		b.left = math.MaxInt
	}
	vars := map[string][]Series{}
	var outs []Output
	for _, s := range p.Stmts {
		res, err := evalExpr(ctx, s.Expr, st, vars, start, end, &b)
		if err != nil {
			return nil, err
		}
		if s.Name != "" {
			vars[s.Name] = res
		}
		if p.Outputs == nil {
			outs = append(outs, Output{ID: s.ID(), Series: res})
		}
	}
	answered := map[string]bool{}
	for _, name := range p.Outputs {
		if answered[name] {
			if err := b.spend(countPoints(vars[name])); err != nil {
				return nil, err
			}
		}
		answered[name] = true
		outs = append(outs, Output{ID: name, Series: vars[name]})
	}
	return outs, nil
}

// budget counts the points an evaluation holds against its bound.
type budget struct {
	max  int // 0: no bound
	left int
}

// spend takes n points, or fails with a *LimitError when fewer are left.
func (b *budget) spend(n int) error {
	if n > b.left {
		return &LimitError{Max: b.max}
	}
	b.left -= n
	return nil
}

func countPoints(ss []Series) int {
	n := 0
	for _, s := range ss {
		n += len(s.Points)
	}
	return n
}

func evalExpr(ctx context.Context, e *Expr, st Store, vars map[string][]Series, start, end int64, b *budget) ([]Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ss []Series
	if e.Fetch != nil {
		var err error
		if ss, err = fetch(e.Fetch, st, start, end, b); err != nil {
			return nil, err
		}
	} else {
		ss = vars[e.Var] // ops never modify their input
		if len(e.Ops) == 0 {
			// "b = a" answers a's points once more.
			if err := b.spend(countPoints(ss)); err != nil {
				return nil, err
			}
		}
	}
	for _, op := range e.Ops {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Every function makes at most as many points as it is given;
		// series_* also merges them all first.
		in := countPoints(ss)
		charge := in
		if strings.HasPrefix(op.Name, "series_") {
			charge = 2 * in
		}
		if err := b.spend(charge); err != nil {
			return nil, err
		}
		ss = apply(op, ss)
		b.left += charge - countPoints(ss)
	}
	return ss, nil
}

func fetch(f *Fetch, st Store, start, end int64, b *budget) ([]Series, error) {
	got, ok := st.Fetch(f.Metric, start, end, b.left)
	if !ok {
		return nil, &LimitError{Max: b.max}
	}
	if err := b.spend(countPoints(got)); err != nil {
		return nil, err // a Store that returned more than asked
	}
	var out []Series
	for _, s := range got {
		if s.Metric == f.Metric && matches(f.Filters, s.Tags) && len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return TagKey(out[i].Tags) < TagKey(out[j].Tags) })
	return out, nil
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
	common, aggTags := splitTags(in)
	return []Series{{Metric: in[0].Metric, Tags: common, AggregatedTags: aggTags, Points: foldByTime(name, in)}}
}

// foldByTime returns, at each timestamp present in any series of in, the
// aggregate name ("series_sum", "series_avg", "series_min", "series_max")
// of the values there.
func foldByTime(name string, in []Series) []Point {
	// All points merged by time, stably: at each time the values are
	// folded in the order of the series.
	all := make([]Point, 0, countPoints(in))
	for _, s := range in {
		all = append(all, s.Points...)
	}
	slices.SortStableFunc(all, func(a, b Point) int { return cmp.Compare(a.T, b.T) })
	k := 0 // the aggregates are written over all[:k], k <= i
	for i := 0; i < len(all); {
		t := all[i].T
		sum, mn, mx, n := 0.0, all[i].V, all[i].V, 0
		for ; i < len(all) && all[i].T == t; i++ {
			v := all[i].V
			sum += v
			mn = math.Min(mn, v)
			mx = math.Max(mx, v)
			n++
		}
		var v float64
		switch name {
		case "series_sum":
			v = sum
		case "series_avg":
			v = sum / float64(n)
		case "series_min":
			v = mn
		case "series_max":
			v = mx
		}
		all[k] = Point{T: t, V: v}
		k++
	}
	return slices.Clone(all[:k])
}

// splitTags returns the tags common to all series of in (same key and
// value) and, sorted, every other key, with the keys the series had
// already aggregated.
func splitTags(in []Series) (common map[string]string, aggregated []string) {
	common = make(map[string]string, len(in[0].Tags))
	maps.Copy(common, in[0].Tags)
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
	aggregated = make([]string, 0, len(aggSet))
	for k := range aggSet {
		aggregated = append(aggregated, k)
	}
	sort.Strings(aggregated)
	return common, aggregated
}
