package promql

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

func arith(op string, l, r float64) (float64, bool) {
	switch op {
	case "+":
		return l + r, true
	case "-":
		return l - r, true
	case "*":
		return l * r, true
	case "/":
		return l / r, true
	case "%":
		return math.Mod(l, r), true
	case "^":
		return math.Pow(l, r), true
	case "==":
		return l, l == r
	case "!=":
		return l, l != r
	case ">":
		return l, l > r
	case "<":
		return l, l < r
	case ">=":
		return l, l >= r
	case "<=":
		return l, l <= r
	}
	return 0, false
}

func (ev *evaluator) binary(e *BinaryExpr, t int64) (any, error) {
	lv, err := ev.eval(e.LHS, t)
	if err != nil {
		return nil, err
	}
	rv, err := ev.eval(e.RHS, t)
	if err != nil {
		return nil, err
	}
	cmp := isComparison(e.Op)
	result := func(l, r float64) (float64, bool) {
		v, keep := arith(e.Op, l, r)
		if cmp && e.ReturnBool {
			if keep {
				return 1, true
			}
			return 0, true
		}
		return v, keep
	}
	dropName := !cmp || e.ReturnBool
	ls, lIsScalar := lv.(scalar)
	rs, rIsScalar := rv.(scalar)
	switch {
	case lIsScalar && rIsScalar:
		v, _ := result(float64(ls), float64(rs))
		return scalar(v), nil
	case lIsScalar || rIsScalar:
		vec, _ := lv.(vector)
		s := float64(rs)
		swap := false
		if lIsScalar {
			vec, s, swap = rv.(vector), float64(ls), true
		}
		out := make(vector, 0, len(vec))
		for _, el := range vec {
			l, r := el.v, s
			if swap {
				l, r = r, l
			}
			v, keep := result(l, r)
			if cmp && !e.ReturnBool && swap {
				v = el.v // the vector's value, even on the right
			}
			if !keep {
				continue
			}
			lbl := el.l
			if dropName {
				lbl = lbl.without("__name__")
			}
			out = append(out, elem{lbl, v})
		}
		return out, checkDuplicates(out)
	}
	lvec, rvec := lv.(vector), rv.(vector)
	ignoring := append([]string{"__name__"}, e.Labels...)
	var buf []byte
	sig := func(l Labels) []byte { // valid until the next call
		if e.On {
			buf = l.only(e.Labels).appendKey(buf[:0])
		} else {
			buf = l.without(ignoring...).appendKey(buf[:0])
		}
		return buf
	}
	right := make(map[string]int, len(rvec)) // by signature, the index in rvec
	for i, el := range rvec {
		k := string(sig(el.l))
		if _, dup := right[k]; dup {
			return nil, &ExecError{Msg: fmt.Sprintf("found duplicate series for the match group %s on the right hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side", fmtLabels(el.l))}
		}
		right[k] = i
	}
	matched := make([]bool, len(rvec)) // by a series on the left
	out := make(vector, 0, len(lvec))
	for _, el := range lvec {
		i, ok := right[string(sig(el.l))]
		if !ok {
			continue
		}
		if matched[i] {
			return nil, &ExecError{Msg: fmt.Sprintf("multiple matches for labels %s: many-to-one matching must be explicit (group_left/group_right), which is unsupported", fmtLabels(el.l))}
		}
		matched[i] = true
		r := rvec[i]
		v, keep := result(el.v, r.v)
		if !keep {
			continue
		}
		lbl := el.l
		if dropName {
			lbl = lbl.without("__name__")
		}
		if e.On {
			lbl = lbl.only(e.Labels)
		} else if len(e.Labels) > 0 {
			lbl = lbl.without(e.Labels...)
		}
		out = append(out, elem{lbl, v})
	}
	return out, checkDuplicates(out)
}

func fmtLabels(l Labels) string {
	b := []byte{'{'}
	for i, x := range l {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, x.Name...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, x.Value)
	}
	return string(append(b, '}'))
}

func (ev *evaluator) call(c *Call, t int64) (any, error) {
	switch c.Func {
	case "time":
		return scalar(float64(t) / 1000), nil
	case "vector":
		v, err := ev.eval(c.Args[0], t)
		if err != nil {
			return nil, err
		}
		return vector{{Labels{}, float64(v.(scalar))}}, nil
	case "scalar":
		v, err := ev.eval(c.Args[0], t)
		if err != nil {
			return nil, err
		}
		if vec := v.(vector); len(vec) == 1 {
			return scalar(vec[0].v), nil
		}
		return scalar(math.NaN()), nil
	case "abs", "ceil", "floor", "round":
		v, err := ev.eval(c.Args[0], t)
		if err != nil {
			return nil, err
		}
		to := 1.0
		if len(c.Args) == 2 {
			s, err := ev.eval(c.Args[1], t)
			if err != nil {
				return nil, err
			}
			to = float64(s.(scalar))
		}
		vec := v.(vector)
		out := make(vector, len(vec))
		for i, el := range vec {
			x := el.v
			switch c.Func {
			case "abs":
				x = math.Abs(x)
			case "ceil":
				x = math.Ceil(x)
			case "floor":
				x = math.Floor(x)
			case "round":
				// As Prometheus: ties up, to a multiple of to (by its
				// inverse, for precision).
				inv := 1 / to
				x = math.Floor(x*inv+0.5) / inv
			}
			out[i] = elem{el.l.without("__name__"), x}
		}
		return out, checkDuplicates(out)
	case "histogram_quantile":
		q, err := ev.eval(c.Args[0], t)
		if err != nil {
			return nil, err
		}
		v, err := ev.eval(c.Args[1], t)
		if err != nil {
			return nil, err
		}
		return histogramQuantile(float64(q.(scalar)), v.(vector)), nil
	}
	ms := c.Args[0].(*MatrixSelector)
	m := ev.rangeWindow(ms, t)
	end := satSub(t, ms.VS.Offset)
	out := make(vector, 0, len(m))
	for _, w := range m {
		v, ok := overTime(c.Func, w.s, end, ms.Range)
		if !ok {
			continue
		}
		l := w.l
		if c.Func != "last_over_time" {
			l = l.without("__name__")
		}
		out = append(out, elem{l, v})
	}
	return out, checkDuplicates(out)
}

// overTime applies a range-vector function to the samples of one series in
// (end-rng, end].
func overTime(fn string, s []Sample, end, rng int64) (float64, bool) {
	switch fn {
	case "rate":
		return extrapolatedRate(s, satSub(end, rng), end, true, true)
	case "increase":
		return extrapolatedRate(s, satSub(end, rng), end, true, false)
	case "delta":
		return extrapolatedRate(s, satSub(end, rng), end, false, false)
	case "irate", "idelta":
		if len(s) < 2 {
			return 0, false
		}
		a, b := s[len(s)-2], s[len(s)-1]
		v := b.V - a.V
		if fn == "irate" {
			if b.V < a.V {
				v = b.V // a counter reset
			}
			if b.T == a.T {
				return 0, false
			}
			v /= float64(b.T-a.T) / 1000
		}
		return v, true
	case "count_over_time":
		return float64(len(s)), true
	case "last_over_time":
		return s[len(s)-1].V, true
	case "sum_over_time", "avg_over_time":
		var sum, c float64
		for _, p := range s {
			sum, c = kahanSumInc(p.V, sum, c)
		}
		if fn == "avg_over_time" {
			if math.IsInf(sum, 0) { // overflowed: an incremental mean, as Prometheus
				var mean, mc float64
				for i, p := range s {
					mean, mc = kahanSumInc(p.V/float64(i+1)-(mean+mc)/float64(i+1), mean, mc)
				}
				return mean + mc, true
			}
			return (sum + c) / float64(len(s)), true
		}
		return sum + c, true
	case "min_over_time", "max_over_time":
		v := s[0].V
		for _, p := range s[1:] {
			if (fn == "min_over_time" && p.V < v) || (fn == "max_over_time" && p.V > v) || math.IsNaN(v) {
				v = p.V
			}
		}
		return v, true
	}
	return 0, false
}

// kahanSumInc adds inc to sum with compensation c, as Prometheus.
func kahanSumInc(inc, sum, c float64) (float64, float64) {
	t := sum + inc
	switch {
	case math.IsInf(t, 0):
		c = 0
	case math.Abs(sum) >= math.Abs(inc):
		c += (sum - t) + inc
	default:
		c += (inc - t) + sum
	}
	return t, c
}

// extrapolatedRate is Prometheus's: the increase over the samples of the
// range (rangeStart, rangeEnd], corrected for counter resets, extrapolated
// to the boundaries (or half an average interval short of them), for
// counters not below zero; per second when isRate.
func extrapolatedRate(s []Sample, rangeStart, rangeEnd int64, isCounter, isRate bool) (float64, bool) {
	if len(s) < 2 {
		return 0, false
	}
	first, last := s[0], s[len(s)-1]
	result := last.V - first.V
	if isCounter {
		prev := first.V
		for _, p := range s[1:] {
			if p.V < prev {
				result += prev
			}
			prev = p.V
		}
	}
	durationToStart := float64(first.T-rangeStart) / 1000
	durationToEnd := float64(rangeEnd-last.T) / 1000
	sampled := float64(last.T-first.T) / 1000
	avg := sampled / float64(len(s)-1)
	threshold := avg * 1.1
	if durationToStart >= threshold {
		durationToStart = avg / 2
	}
	if isCounter && result > 0 && first.V >= 0 {
		if toZero := sampled * (first.V / result); toZero < durationToStart {
			durationToStart = toZero
		}
	}
	if durationToEnd >= threshold {
		durationToEnd = avg / 2
	}
	factor := (sampled + durationToStart + durationToEnd) / sampled
	if isRate {
		factor /= float64(rangeEnd-rangeStart) / 1000
	}
	return result * factor, true
}

type bucket struct {
	upper float64
	count float64
}

// histogramQuantile is Prometheus's histogram_quantile over classic
// buckets: the series are grouped by their labels but le (and __name__).
func histogramQuantile(q float64, v vector) vector {
	type group struct {
		l       Labels
		buckets []bucket
	}
	groups := map[string]*group{}
	var order []*group // as first seen
	var buf []byte
	for _, el := range v {
		le, err := strconv.ParseFloat(el.l.Get("le"), 64)
		if err != nil {
			continue // no or a bad le: not a bucket
		}
		l := el.l.without("__name__", "le")
		buf = l.appendKey(buf[:0])
		g := groups[string(buf)]
		if g == nil {
			g = &group{l: l}
			groups[string(buf)] = g
			order = append(order, g)
		}
		g.buckets = append(g.buckets, bucket{le, el.v})
	}
	out := make(vector, 0, len(order))
	for _, g := range order {
		out = append(out, elem{g.l, bucketQuantile(q, g.buckets)})
	}
	return out
}

func bucketQuantile(q float64, buckets []bucket) float64 {
	if math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	sort.SliceStable(buckets, func(i, j int) bool { return buckets[i].upper < buckets[j].upper })
	if !math.IsInf(buckets[len(buckets)-1].upper, 1) {
		return math.NaN()
	}
	// Coalesce buckets with the same upper bound.
	co := buckets[:1]
	for _, b := range buckets[1:] {
		if b.upper == co[len(co)-1].upper {
			co[len(co)-1].count += b.count
		} else {
			co = append(co, b)
		}
	}
	buckets = co
	// Force monotonicity, ignoring differences within 1e-12 (relative).
	prev := buckets[0].count
	for i := 1; i < len(buckets); i++ {
		cur := buckets[i].count
		if cur == prev {
			continue
		}
		if almostEqual(prev, cur, 1e-12) || cur < prev {
			buckets[i].count = prev
			continue
		}
		prev = cur
	}
	if len(buckets) < 2 {
		return math.NaN()
	}
	observations := buckets[len(buckets)-1].count
	if observations == 0 {
		return math.NaN()
	}
	rank := q * observations
	b := sort.Search(len(buckets)-1, func(i int) bool { return buckets[i].count >= rank })
	if b == len(buckets)-1 {
		return buckets[len(buckets)-2].upper
	}
	if b == 0 && buckets[0].upper <= 0 {
		return buckets[0].upper
	}
	var start float64
	end := buckets[b].upper
	count := buckets[b].count
	if b > 0 {
		start = buckets[b-1].upper
		count -= buckets[b-1].count
		rank -= buckets[b-1].count
	}
	return start + (end-start)*(rank/count)
}

// almostEqual is Prometheus's almost.Equal.
func almostEqual(a, b, epsilon float64) bool {
	const minNormal = 2.2250738585072014e-308
	if a == b {
		return true
	}
	absSum := math.Abs(a) + math.Abs(b)
	diff := math.Abs(a - b)
	if a == 0 || b == 0 || absSum < minNormal {
		return diff < epsilon*minNormal
	}
	return diff/math.Min(absSum, math.MaxFloat64) < epsilon
}

func (ev *evaluator) aggregate(a *AggregateExpr, t int64) (any, error) {
	v, err := ev.eval(a.Expr, t)
	if err != nil {
		return nil, err
	}
	vec := v.(vector)
	var k int64
	if a.Param != nil {
		p, err := ev.eval(a.Param, t)
		if err != nil {
			return nil, err
		}
		f := float64(p.(scalar))
		if math.IsNaN(f) {
			return nil, &ExecError{Msg: fmt.Sprintf("parameter value is NaN for %s", a.Op)}
		}
		if f > float64(math.MaxInt64) || f < float64(math.MinInt64) {
			return nil, &ExecError{Msg: fmt.Sprintf("scalar value %v overflows int64", f)}
		}
		k = int64(f)
		if k < 1 {
			return vector{}, nil
		}
	}
	without := append([]string{"__name__"}, a.Grouping...)
	groupLabels := func(l Labels) Labels {
		if a.Without {
			return l.without(without...)
		}
		return l.only(a.Grouping)
	}
	type group struct {
		l       Labels
		v, c    float64 // value and Kahan compensation
		n       int
		members vector // topk, bottomk
	}
	groups := map[string]*group{}
	var order []string
	var buf []byte
	for _, el := range vec {
		gl := groupLabels(el.l)
		buf = gl.appendKey(buf[:0])
		g := groups[string(buf)]
		if g == nil {
			key := string(buf)
			g = &group{l: gl, v: el.v}
			groups[key] = g
			order = append(order, key)
			g.n = 1
			switch a.Op {
			case "count":
				g.v = 1
			case "topk", "bottomk":
				g.members = vector{el}
			}
			continue
		}
		g.n++
		switch a.Op {
		case "sum", "avg":
			g.v, g.c = kahanSumInc(el.v, g.v, g.c)
		case "count":
			g.v++
		case "min":
			if el.v < g.v || math.IsNaN(g.v) {
				g.v = el.v
			}
		case "max":
			if el.v > g.v || math.IsNaN(g.v) {
				g.v = el.v
			}
		case "topk", "bottomk":
			g.members = append(g.members, el)
		}
	}
	var out vector
	for _, key := range order {
		g := groups[key]
		switch a.Op {
		case "avg":
			if math.IsInf(g.v, 0) {
				g.v, g.c = incrementalMean(vec, groupLabels, key)
			} else {
				g.v /= float64(g.n)
				g.c /= float64(g.n)
			}
			out = append(out, elem{g.l, g.v + g.c})
		case "sum":
			out = append(out, elem{g.l, g.v + g.c})
		case "topk", "bottomk":
			out = append(out, selectK(g.members, k, a.Op == "topk")...)
		default:
			out = append(out, elem{g.l, g.v})
		}
	}
	return out, nil
}

func incrementalMean(vec vector, groupLabels func(Labels) Labels, key string) (float64, float64) {
	var mean, c float64
	n := 0
	for _, el := range vec {
		if groupLabels(el.l).key() != key {
			continue
		}
		n++
		mean, c = kahanSumInc(el.v/float64(n)-(mean+c)/float64(n), mean, c)
	}
	return mean, c
}

// selectK keeps the k largest (top) or smallest values of members, in
// their order: of equal values the earlier ones (by labels) win, and NaN
// loses to any number.
func selectK(members vector, k int64, top bool) vector {
	if int64(len(members)) <= k {
		return members
	}
	idx := make([]int, len(members))
	for i := range idx {
		idx[i] = i
	}
	better := func(a, b float64) bool {
		if math.IsNaN(b) {
			return !math.IsNaN(a)
		}
		if top {
			return a > b
		}
		return a < b
	}
	sort.SliceStable(idx, func(i, j int) bool { return better(members[idx[i]].v, members[idx[j]].v) })
	keep := idx[:k]
	sort.Ints(keep)
	out := make(vector, len(keep))
	for i, j := range keep {
		out[i] = members[j]
	}
	return out
}
