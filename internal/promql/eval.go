package promql

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Label is one label of a series.
type Label struct{ Name, Value string }

// Labels are a series' labels, sorted by name, without empty values.
type Labels []Label

// Get returns the value of the label name, "" when absent. It costs a
// linear scan.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// key is a string identifying ls, for maps.
func (ls Labels) key() string {
	var buf [128]byte
	return string(ls.appendKey(buf[:0]))
}

// appendKey appends ls's key to b: m[string(ls.appendKey(buf[:0]))] looks
// a key up without allocating.
func (ls Labels) appendKey(b []byte) []byte {
	for _, l := range ls {
		b = append(b, l.Name...)
		b = append(b, 0xff)
		b = append(b, l.Value...)
		b = append(b, 0xff)
	}
	return b
}

// without returns ls without the labels names, ls itself (not a copy)
// when it has none of them: Labels are not modified once made.
func (ls Labels) without(names ...string) Labels {
	i := 0
	for i < len(ls) && !slices.Contains(names, ls[i].Name) {
		i++
	}
	if i == len(ls) {
		return ls
	}
	out := make(Labels, i, len(ls))
	copy(out, ls[:i])
	for _, l := range ls[i:] {
		if !slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

func (ls Labels) only(names []string) Labels {
	out := make(Labels, 0, len(names))
	for _, l := range ls {
		if slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

func compareLabels(a, b Labels) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// FromMap returns the labels of a metric name (as __name__, when not "")
// and tags, sorted, leaving out empty values. It costs a sort.
func FromMap(name string, tags map[string]string) Labels {
	ls := make(Labels, 0, len(tags)+1)
	if name != "" {
		ls = append(ls, Label{"__name__", name})
	}
	for k, v := range tags {
		if v != "" && k != "__name__" {
			ls = append(ls, Label{k, v})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// Sample is one point: T in Unix milliseconds.
type Sample struct {
	T int64
	V float64
}

// Series is a series' labels and samples, in timestamp order.
type Series struct {
	Labels  Labels
	Samples []Sample
}

// Storage gives the engine the series stored.
type Storage interface {
	// Select returns the series that all matchers match (a label a series
	// does not have reads as ""), each with its samples with
	// minMs <= T <= maxMs (one per timestamp, in order), leaving out series
	// without any. It must fail with an error from the given Limits
	// (Limits.TooManySeries, Limits.TooManySamples) rather than return more
	// than lim.MaxSeries series or lim.MaxSamples samples in all; samples
	// counts what the query has read before.
	Select(matchers []*Matcher, minMs, maxMs int64, lim Limits, samples int) ([]Series, error)
}

// Limits bound what one query may cost. A zero field takes its default.
type Limits struct {
	MaxSeries  int // series one selector may select (default 10,000)
	MaxSamples int // samples read by all the selectors of a query (default 5,000,000, 16 bytes each)
	MaxPoints  int // points in a result, all series (default 1,000,000)
}

// The defaults of Limits.
const (
	DefaultMaxSeries  = 10_000
	DefaultMaxSamples = 5_000_000
	DefaultMaxPoints  = 1_000_000
	// MaxStepsPerSeries is Prometheus's bound on a range query's points
	// per series.
	MaxStepsPerSeries = 11_000
	// LookbackDelta is how far back an instant vector selector looks for a
	// sample: 5 minutes, in milliseconds.
	LookbackDelta = 5 * 60 * 1000
)

func (l Limits) withDefaults() Limits {
	if l.MaxSeries <= 0 {
		l.MaxSeries = DefaultMaxSeries
	}
	if l.MaxSamples <= 0 {
		l.MaxSamples = DefaultMaxSamples
	}
	if l.MaxPoints <= 0 {
		l.MaxPoints = DefaultMaxPoints
	}
	return l
}

// TooManySeries is the error a Storage returns when a selector (sel, as
// written in messages) matches more than MaxSeries series: an *ExecError
// naming the limit.
func (l Limits) TooManySeries(sel string) error {
	return &ExecError{Msg: fmt.Sprintf("the selector %s matches more than %d series (the limit of series per selector)", sel, l.withDefaults().MaxSeries)}
}

// TooManySamples is the error a Storage returns when a query would read
// more than MaxSamples samples: an *ExecError naming the limit.
func (l Limits) TooManySamples() error {
	return &ExecError{Msg: fmt.Sprintf("the query reads more than %d samples (the limit of samples per query)", l.withDefaults().MaxSamples)}
}

func (l Limits) tooManyPoints() error {
	return &ExecError{Msg: fmt.Sprintf("the result has more than %d points (the limit of points per query)", l.MaxPoints)}
}

// ExecError is an error of evaluation (Prometheus's "execution" error
// type): a limit exceeded, the deadline passed, or series that collide.
type ExecError struct{ Msg string }

// Error returns the message.
func (e *ExecError) Error() string { return e.Msg }

// Result is the value of a query: a matrix for range queries; for instant
// queries a vector, a scalar, a string or a matrix.
type Result struct {
	Type   ValueType
	Series []ResultSeries // matrix and vector (a vector's series have one point)
	Scalar Sample         // scalar
	String string         // string, at Scalar.T
}

// ResultSeries is one series of a result.
type ResultSeries struct {
	Labels Labels
	Points []Sample
}

// EvalRange evaluates e at start, start+step, … up to end (Unix
// milliseconds, step > 0), as Prometheus's query_range does: e must be a
// scalar or an instant vector. The result is a matrix sorted by labels.
// Its cost is about the number of steps times the samples the selectors
// read in a step's window; ctx bounds it (its error is an *ExecError).
func EvalRange(ctx context.Context, st Storage, e Expr, start, end, step int64, lim Limits) (*Result, error) {
	if t := e.Type(); t != TypeScalar && t != TypeVector {
		return nil, &Error{Line: 1, Col: 1, Msg: fmt.Sprintf("invalid expression type %q for range query, must be Scalar or instant Vector", typeName(t))}
	}
	if step <= 0 || end < start {
		return nil, fmt.Errorf("promql: bad range [%d, %d] step %d", start, end, step)
	}
	ev, err := newEvaluator(ctx, st, e, start, end, lim)
	if err != nil {
		return nil, err
	}
	out := map[string]*ResultSeries{}
	points := 0
	var key []byte
	for t := start; t <= end; t += step {
		if err := ev.ctxErr(); err != nil {
			return nil, err
		}
		v, err := ev.eval(e, t)
		if err != nil {
			return nil, err
		}
		var vec vector
		switch v := v.(type) {
		case scalar:
			vec = vector{{l: Labels{}, v: float64(v)}}
		case vector:
			vec = v
		}
		for _, el := range vec {
			key = el.l.appendKey(key[:0])
			rs := out[string(key)]
			if rs == nil {
				rs = &ResultSeries{Labels: el.l}
				out[string(key)] = rs
			}
			rs.Points = append(rs.Points, Sample{t, el.v})
			if points++; points > ev.lim.MaxPoints {
				return nil, ev.lim.tooManyPoints()
			}
		}
		if t > math.MaxInt64-step {
			break
		}
	}
	res := &Result{Type: TypeMatrix, Series: make([]ResultSeries, 0, len(out))}
	for _, rs := range out {
		res.Series = append(res.Series, *rs)
	}
	sortSeries(res.Series)
	return res, nil
}

// EvalInstant evaluates e at t (Unix milliseconds), as Prometheus's query
// does. Its cost is that of one step of EvalRange.
func EvalInstant(ctx context.Context, st Storage, e Expr, t int64, lim Limits) (*Result, error) {
	ev, err := newEvaluator(ctx, st, e, t, t, lim)
	if err != nil {
		return nil, err
	}
	v, err := ev.eval(e, t)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case scalar:
		return &Result{Type: TypeScalar, Scalar: Sample{t, float64(v)}}, nil
	case stringV:
		return &Result{Type: TypeString, Scalar: Sample{T: t}, String: string(v)}, nil
	case vector:
		res := &Result{Type: TypeVector, Series: make([]ResultSeries, len(v))}
		for i, el := range v {
			res.Series[i] = ResultSeries{Labels: el.l, Points: []Sample{{t, el.v}}}
		}
		sortSeries(res.Series)
		return res, nil
	case matrix:
		res := &Result{Type: TypeMatrix, Series: make([]ResultSeries, len(v))}
		n := 0
		for i, s := range v {
			res.Series[i] = ResultSeries{Labels: s.l, Points: slices.Clone(s.s)}
			if n += len(s.s); n > ev.lim.MaxPoints {
				return nil, ev.lim.tooManyPoints()
			}
		}
		sortSeries(res.Series)
		return res, nil
	}
	return nil, fmt.Errorf("promql: unexpected value %T", v)
}

func sortSeries(s []ResultSeries) {
	slices.SortFunc(s, func(a, b ResultSeries) int { return compareLabels(a.Labels, b.Labels) })
}

// Values during evaluation.
type (
	scalar  float64
	stringV string
	elem    struct {
		l Labels
		v float64
	}
	vector []elem
	window struct {
		l Labels
		s []Sample
	}
	matrix []window
)

type evaluator struct {
	ctx     context.Context
	lim     Limits
	sel     map[*VectorSelector][]Series
	samples int
}

func newEvaluator(ctx context.Context, st Storage, e Expr, start, end int64, lim Limits) (*evaluator, error) {
	ev := &evaluator{ctx: ctx, lim: lim.withDefaults(), sel: map[*VectorSelector][]Series{}}
	var err error
	walk(e, func(n Expr) {
		if err != nil {
			return
		}
		var vs *VectorSelector
		var back int64
		switch n := n.(type) {
		case *VectorSelector:
			vs, back = n, LookbackDelta
		case *MatrixSelector:
			vs, back = n.VS, n.Range
		default:
			return
		}
		if _, done := ev.sel[vs]; done {
			return
		}
		lo := satSub(satSub(start, vs.Offset), back)
		hi := satSub(end, vs.Offset)
		if err = ev.ctxErr(); err != nil {
			return
		}
		var ss []Series
		ss, err = st.Select(vs.Matchers, lo, hi, ev.lim, ev.samples)
		if err != nil {
			return
		}
		if len(ss) > ev.lim.MaxSeries {
			err = ev.lim.TooManySeries(String(vs))
			return
		}
		for _, s := range ss {
			ev.samples += len(s.Samples)
		}
		if ev.samples > ev.lim.MaxSamples {
			err = ev.lim.TooManySamples()
			return
		}
		slices.SortFunc(ss, func(a, b Series) int { return compareLabels(a.Labels, b.Labels) })
		ev.sel[vs] = ss
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func satSub(a, b int64) int64 {
	r := a - b
	if (b > 0 && r > a) || (b < 0 && r < a) {
		if b > 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return r
}

func walk(e Expr, f func(Expr)) {
	f(e)
	switch e := e.(type) {
	case *MatrixSelector:
		walk(e.VS, f)
	case *ParenExpr:
		walk(e.Expr, f)
	case *UnaryExpr:
		walk(e.Expr, f)
	case *BinaryExpr:
		walk(e.LHS, f)
		walk(e.RHS, f)
	case *Call:
		for _, a := range e.Args {
			walk(a, f)
		}
	case *AggregateExpr:
		if e.Param != nil {
			walk(e.Param, f)
		}
		walk(e.Expr, f)
	}
}

func (ev *evaluator) ctxErr() error {
	if err := ev.ctx.Err(); err != nil {
		return &ExecError{Msg: "query evaluation stopped: " + err.Error()}
	}
	return nil
}

func (ev *evaluator) eval(e Expr, t int64) (any, error) {
	switch e := e.(type) {
	case *NumberLiteral:
		return scalar(e.Val), nil
	case *StringLiteral:
		return stringV(e.Val), nil
	case *ParenExpr:
		return ev.eval(e.Expr, t)
	case *VectorSelector:
		return ev.instant(e, t), nil
	case *MatrixSelector:
		return ev.rangeWindow(e, t), nil
	case *UnaryExpr:
		v, err := ev.eval(e.Expr, t)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case scalar:
			return -v, nil
		case vector:
			out := make(vector, len(v))
			for i, el := range v {
				out[i] = elem{el.l.without("__name__"), -el.v}
			}
			return out, checkDuplicates(out)
		}
		return nil, fmt.Errorf("promql: unary minus on %T", v)
	case *BinaryExpr:
		return ev.binary(e, t)
	case *Call:
		return ev.call(e, t)
	case *AggregateExpr:
		return ev.aggregate(e, t)
	}
	return nil, fmt.Errorf("promql: cannot evaluate %T", e)
}

// instant is the latest sample of each series in (t-offset-5m, t-offset].
func (ev *evaluator) instant(vs *VectorSelector, t int64) vector {
	ref := satSub(t, vs.Offset)
	from := satSub(ref, LookbackDelta)
	var out vector
	for _, s := range ev.sel[vs] {
		i := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T > ref })
		if i == 0 || s.Samples[i-1].T <= from {
			continue
		}
		out = append(out, elem{s.Labels, s.Samples[i-1].V})
	}
	return out
}

// rangeWindow is the samples of each series in (t-offset-range, t-offset].
func (ev *evaluator) rangeWindow(ms *MatrixSelector, t int64) matrix {
	ref := satSub(t, ms.VS.Offset)
	from := satSub(ref, ms.Range)
	var out matrix
	for _, s := range ev.sel[ms.VS] {
		hi := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T > ref })
		lo := sort.Search(hi, func(i int) bool { return s.Samples[i].T > from })
		if lo < hi {
			out = append(out, window{s.Labels, s.Samples[lo:hi]})
		}
	}
	return out
}

func checkDuplicates(v vector) error {
	if len(v) < 2 {
		return nil
	}
	seen := make(map[string]bool, len(v))
	for _, el := range v {
		k := el.l.key()
		if seen[k] {
			return &ExecError{Msg: "vector cannot contain metrics with the same labelset"}
		}
		seen[k] = true
	}
	return nil
}
