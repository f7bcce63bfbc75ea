package promql

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Bounds on what Parse accepts.
const (
	// MaxQueryLength is the longest query Parse accepts, in bytes.
	MaxQueryLength = 64 << 10
	// MaxDepth bounds the nesting of expressions (parentheses, calls,
	// operands), so that neither parsing nor evaluation recurses deeply.
	MaxDepth = 100
)

type funcInfo struct {
	args []ValueType
	opt  int // trailing arguments that may be left out
	ret  ValueType
}

// functions are the supported functions.
var functions = map[string]funcInfo{
	"rate":               {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"irate":              {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"increase":           {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"delta":              {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"idelta":             {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"avg_over_time":      {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"sum_over_time":      {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"min_over_time":      {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"max_over_time":      {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"count_over_time":    {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"last_over_time":     {args: []ValueType{TypeMatrix}, ret: TypeVector},
	"abs":                {args: []ValueType{TypeVector}, ret: TypeVector},
	"ceil":               {args: []ValueType{TypeVector}, ret: TypeVector},
	"floor":              {args: []ValueType{TypeVector}, ret: TypeVector},
	"round":              {args: []ValueType{TypeVector, TypeScalar}, opt: 1, ret: TypeVector},
	"scalar":             {args: []ValueType{TypeVector}, ret: TypeScalar},
	"vector":             {args: []ValueType{TypeScalar}, ret: TypeVector},
	"time":               {ret: TypeScalar},
	"histogram_quantile": {args: []ValueType{TypeScalar, TypeVector}, ret: TypeVector},
}

// prometheusFunctions are Prometheus's other functions: named as
// unsupported rather than unknown.
var prometheusFunctions = strings.Fields(`absent absent_over_time acos acosh asin asinh atan atanh
	changes clamp clamp_max clamp_min cos cosh day_of_month day_of_week day_of_year days_in_month deg
	deriv double_exponential_smoothing exp first_over_time histogram_avg histogram_count histogram_fraction
	histogram_stddev histogram_stdvar histogram_sum holt_winters hour info label_join label_replace ln log10
	log2 mad_over_time minute month predict_linear present_over_time quantile_over_time rad resets sgn sin
	sinh sort sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time tan tanh
	timestamp ts_of_max_over_time ts_of_min_over_time ts_of_last_over_time year pi`)

var aggregators = map[string]bool{"sum": true, "avg": true, "min": true, "max": true, "count": true, "topk": true, "bottomk": true}

var unsupportedAggregators = map[string]bool{"stddev": true, "stdvar": true, "quantile": true, "count_values": true,
	"group": true, "limitk": true, "limit_ratio": true}

// Parse parses a PromQL query of the supported subset. Errors are *Error,
// with the position of the problem. Its cost is linear in the query's
// length (at most MaxQueryLength bytes), plus compiling the regular
// expressions of =~ and !~ matchers.
func Parse(src string) (Expr, error) {
	e, err := parse(src)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			pe.locate(src)
		}
		return nil, err
	}
	return e, nil
}

func parse(src string) (Expr, error) {
	if len(src) > MaxQueryLength {
		return nil, errAt(0, "query is %d bytes long, more than the %d allowed", len(src), MaxQueryLength)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(0, "no expression found in input")
	}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errAt(t.pos, "unexpected %s", t)
	}
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(k tokKind, ctx string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, errAt(t.pos, "unexpected %s %s, expected %q", t, ctx, tokText[k])
	}
	return t, nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return errAt(pos, "expression nested more than %d deep", MaxDepth)
	}
	return nil
}

// Binary operator precedences, lowest first.
func precedence(t token) (string, int) {
	switch t.kind {
	case tEql, tNeq, tLss, tGtr, tLte, tGte:
		return tokText[t.kind], 1
	case tAdd, tSub:
		return tokText[t.kind], 2
	case tMul, tDiv, tMod:
		return tokText[t.kind], 3
	case tPow:
		return "^", 5 // the unary operators are 4
	case tIdent:
		switch strings.ToLower(t.text) {
		case "or":
			return "or", 0
		case "and", "unless":
			return strings.ToLower(t.text), 0
		case "atan2":
			return "atan2", 3
		}
	}
	return "", -1
}

func isComparison(op string) bool {
	switch op {
	case "==", "!=", ">", "<", ">=", "<=":
		return true
	}
	return false
}

func (p *parser) expr(minPrec int) (Expr, error) {
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	lhs, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op, prec := precedence(t)
		if prec < minPrec || prec < 0 {
			return lhs, nil
		}
		p.next()
		switch op {
		case "and", "or", "unless", "atan2":
			return nil, errAt(t.pos, "unsupported operator %q", op)
		}
		be := &BinaryExpr{Op: op, LHS: lhs, Pos: t.pos}
		if isKeyword(p.peek(), "bool") {
			bt := p.next()
			if !isComparison(op) {
				return nil, errAt(bt.pos, "bool modifier can only be used on comparison operators")
			}
			be.ReturnBool = true
		}
		if k := p.peek(); isKeyword(k, "on") || isKeyword(k, "ignoring") {
			p.next()
			be.On = strings.EqualFold(k.text, "on")
			labels, err := p.labelList()
			if err != nil {
				return nil, err
			}
			be.Labels = labels
			if be.Labels == nil {
				be.Labels = []string{}
			}
			if g := p.peek(); isKeyword(g, "group_left") || isKeyword(g, "group_right") {
				return nil, errAt(g.pos, "unsupported vector matching %q", strings.ToLower(g.text))
			}
		}
		next := prec + 1
		if op == "^" {
			next = prec // right-associative
		}
		rhs, err := p.expr(next)
		if err != nil {
			return nil, err
		}
		be.RHS = rhs
		if err := checkBinary(be); err != nil {
			return nil, err
		}
		lhs = be
	}
}

func checkBinary(be *BinaryExpr) error {
	lt, rt := be.LHS.Type(), be.RHS.Type()
	for _, t := range []ValueType{lt, rt} {
		if t != TypeScalar && t != TypeVector {
			return errAt(be.Pos, "binary expression must contain only scalar and instant vector types")
		}
	}
	if lt == TypeScalar && rt == TypeScalar {
		if isComparison(be.Op) && !be.ReturnBool {
			return errAt(be.Pos, "comparisons between scalars must use BOOL modifier")
		}
		if be.Labels != nil {
			return errAt(be.Pos, "vector matching only allowed between instant vectors")
		}
	}
	if (lt == TypeScalar || rt == TypeScalar) && be.Labels != nil {
		return errAt(be.Pos, "vector matching only allowed between instant vectors")
	}
	return nil
}

func isKeyword(t token, kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	if t.kind == tSub || t.kind == tAdd {
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		e, err := p.expr(5) // binds looser than ^: -2^2 is -(2^2)
		if err != nil {
			return nil, err
		}
		if e.Type() != TypeScalar && e.Type() != TypeVector {
			return nil, errAt(t.pos, "unary expression only allowed on expressions of type scalar or instant vector, got %q", typeName(e.Type()))
		}
		if t.kind == tAdd {
			return e, nil
		}
		if n, ok := e.(*NumberLiteral); ok {
			return &NumberLiteral{Val: -n.Val, Pos: t.pos}, nil
		}
		return &UnaryExpr{Op: "-", Expr: e, Pos: t.pos}, nil
	}
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	return p.postfix(e)
}

// postfix parses [range], [range:step], offset and @ after e.
func (p *parser) postfix(e Expr) (Expr, error) {
	for {
		t := p.peek()
		switch {
		case t.kind == tLBracket:
			p.next()
			d, err := p.next(), error(nil)
			if d.kind == tColon {
				return nil, errAt(t.pos, "unsupported subquery")
			}
			if d.kind != tDuration {
				return nil, errAt(d.pos, "unexpected %s in range, expected a duration like 5m", d)
			}
			if c := p.peek(); c.kind == tColon {
				return nil, errAt(t.pos, "unsupported subquery")
			}
			if _, err = p.expect(tRBracket, "in range"); err != nil {
				return nil, err
			}
			vs, ok := e.(*VectorSelector)
			if !ok {
				return nil, errAt(t.pos, "ranges only allowed for vector selectors")
			}
			if vs.Offset != 0 {
				return nil, errAt(t.pos, "no offset modifiers allowed before range")
			}
			if d.dur <= 0 {
				return nil, errAt(d.pos, "range %s must be positive", d.text)
			}
			e = &MatrixSelector{VS: vs, Range: d.dur, Pos: vs.Pos}
		case isKeyword(t, "offset"):
			p.next()
			neg := false
			if p.peek().kind == tSub {
				p.next()
				neg = true
			}
			d := p.next()
			if d.kind != tDuration {
				return nil, errAt(d.pos, "unexpected %s after offset, expected a duration like 5m", d)
			}
			off := d.dur
			if neg {
				off = -off
			}
			var vs *VectorSelector
			switch s := e.(type) {
			case *VectorSelector:
				vs = s
			case *MatrixSelector:
				vs = s.VS
			default:
				return nil, errAt(t.pos, "offset modifier must be preceded by an instant vector selector or range vector selector")
			}
			if vs.Offset != 0 {
				return nil, errAt(t.pos, "offset may not be set multiple times")
			}
			vs.Offset = off
		case t.kind == tAt:
			return nil, errAt(t.pos, "unsupported modifier \"@\"")
		default:
			return e, nil
		}
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		return &NumberLiteral{Val: t.num, Pos: t.pos}, nil
	case tDuration:
		return &NumberLiteral{Val: float64(t.dur) / 1000, Pos: t.pos}, nil
	case tString:
		return &StringLiteral{Val: t.str, Pos: t.pos}, nil
	case tLParen:
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "in parenthesized expression"); err != nil {
			return nil, err
		}
		return &ParenExpr{Expr: e, Pos: t.pos}, nil
	case tLBrace:
		p.i--
		return p.selector("", t.pos)
	case tIdent:
		name := t.text
		lname := strings.ToLower(name)
		nt := p.peek()
		if aggregators[lname] || unsupportedAggregators[lname] {
			if nt.kind == tLParen || isKeyword(nt, "by") || isKeyword(nt, "without") {
				if unsupportedAggregators[lname] {
					return nil, errAt(t.pos, "unsupported aggregation %q", lname)
				}
				return p.aggregate(lname, t.pos)
			}
		}
		if nt.kind == tLParen {
			return p.call(name, t.pos)
		}
		switch lname {
		case "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "atan2":
			return nil, errAt(t.pos, "unexpected %s", t)
		}
		return p.selector(name, t.pos)
	}
	return nil, errAt(t.pos, "unexpected %s", t)
}

func (p *parser) labelList() ([]string, error) {
	if _, err := p.expect(tLParen, "in grouping"); err != nil {
		return nil, err
	}
	var out []string
	for {
		t := p.next()
		switch {
		case t.kind == tRParen:
			return out, nil
		case t.kind == tIdent && isLabelName(t.text):
			out = append(out, t.text)
		case t.kind == tString && t.str != "":
			out = append(out, t.str)
		default:
			return nil, errAt(t.pos, "unexpected %s in grouping, expected a label name", t)
		}
		switch n := p.next(); n.kind {
		case tComma:
		case tRParen:
			return out, nil
		default:
			return nil, errAt(n.pos, "unexpected %s in grouping, expected \",\" or \")\"", n)
		}
	}
}

func isLabelName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' || !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

func (p *parser) aggregate(op string, pos int) (Expr, error) {
	ag := &AggregateExpr{Op: op, Pos: pos}
	modifier := func() error {
		if t := p.peek(); isKeyword(t, "by") || isKeyword(t, "without") {
			p.next()
			ag.Without = strings.EqualFold(t.text, "without")
			g, err := p.labelList()
			if err != nil {
				return err
			}
			ag.Grouping = g
			if g == nil {
				ag.Grouping = []string{}
			}
		}
		return nil
	}
	if err := modifier(); err != nil {
		return nil, err
	}
	lp, err := p.expect(tLParen, "in aggregation")
	if err != nil {
		return nil, err
	}
	if err := p.enter(lp.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	args, err := p.args("in aggregation")
	if err != nil {
		return nil, err
	}
	want := 1
	if op == "topk" || op == "bottomk" {
		want = 2
	}
	if len(args) != want {
		return nil, errAt(pos, "wrong number of arguments for aggregate expression provided, expected %d, got %d", want, len(args))
	}
	ag.Expr = args[want-1]
	if want == 2 {
		ag.Param = args[0]
		if ag.Param.Type() != TypeScalar {
			return nil, errAt(ag.Param.pos(), "expected type scalar in aggregation parameter, got %s", typeName(ag.Param.Type()))
		}
	}
	if ag.Expr.Type() != TypeVector {
		return nil, errAt(ag.Expr.pos(), "expected type instant vector in aggregation expression, got %s", typeName(ag.Expr.Type()))
	}
	if ag.Grouping == nil {
		if err := modifier(); err != nil {
			return nil, err
		}
	} else if t := p.peek(); isKeyword(t, "by") || isKeyword(t, "without") {
		return nil, errAt(t.pos, "unexpected %s: the aggregation already has a grouping", t)
	}
	return ag, nil
}

// args parses the arguments after a call's or an aggregation's "(", up to
// and including its ")"; where is the context of the error for a missing
// ")".
func (p *parser) args(where string) ([]Expr, error) {
	var args []Expr
	for p.peek().kind != tRParen {
		a, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tRParen, where); err != nil {
		return nil, err
	}
	return args, nil
}

func (p *parser) call(name string, pos int) (Expr, error) {
	fi, ok := functions[name]
	if !ok {
		for _, f := range prometheusFunctions {
			if f == name {
				return nil, errAt(pos, "unsupported function %q", name)
			}
		}
		return nil, errAt(pos, "unknown function with name %q", name)
	}
	lp, _ := p.expect(tLParen, "in call")
	if err := p.enter(lp.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	args, err := p.args("in call to function " + strconv.Quote(name))
	if err != nil {
		return nil, err
	}
	c := &Call{Func: name, Pos: pos, Args: args}
	if n := len(c.Args); n > len(fi.args) || n < len(fi.args)-fi.opt {
		want := strconv.Itoa(len(fi.args))
		if fi.opt > 0 {
			want = "at most " + want
		}
		return nil, errAt(pos, "expected %s argument(s) in call to %q, got %d", want, name, n)
	}
	for i, a := range c.Args {
		if a.Type() != fi.args[i] {
			return nil, errAt(a.pos(), "expected type %s in call to function %q, got %s", typeName(fi.args[i]), name, typeName(a.Type()))
		}
	}
	return c, nil
}

// selector parses name{matchers} (name may be "", then the braces are
// required).
func (p *parser) selector(name string, pos int) (Expr, error) {
	vs := &VectorSelector{Pos: pos}
	if name != "" {
		m, _ := NewMatcher(MatchEqual, "__name__", name)
		vs.Matchers = append(vs.Matchers, m)
	}
	if p.peek().kind == tLBrace {
		p.next()
		for p.peek().kind != tRBrace {
			t := p.next()
			var label string
			switch {
			case t.kind == tIdent && isLabelName(t.text):
				label = t.text
			case t.kind == tString:
				if k := p.peek().kind; k != tAssign && k != tNeq && k != tRe && k != tNre {
					// {"metric.name", …}: Prometheus 3's quoted metric name
					if name != "" {
						return nil, errAt(t.pos, "metric name must not be set twice: %q or %q", name, t.str)
					}
					name = t.str
					m, _ := NewMatcher(MatchEqual, "__name__", name)
					vs.Matchers = append(vs.Matchers, m)
					goto sep
				}
				label = t.str
			default:
				return nil, errAt(t.pos, "unexpected %s in label matching, expected label", t)
			}
			{
				op := p.next()
				var mt MatchType
				switch op.kind {
				case tAssign:
					mt = MatchEqual
				case tNeq:
					mt = MatchNotEqual
				case tRe:
					mt = MatchRegexp
				case tNre:
					mt = MatchNotRegexp
				default:
					return nil, errAt(op.pos, "unexpected %s in label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"", op)
				}
				v := p.next()
				if v.kind != tString {
					return nil, errAt(v.pos, "unexpected %s in label matching, expected string", v)
				}
				m, err := NewMatcher(mt, label, v.str)
				if err != nil {
					return nil, errAt(v.pos, "invalid regular expression %s: %v", v.text, err)
				}
				if label == "__name__" && name != "" {
					return nil, errAt(t.pos, "metric name must not be set twice: %q or %q", name, v.str)
				}
				vs.Matchers = append(vs.Matchers, m)
			}
		sep:
			switch n := p.peek(); n.kind {
			case tComma:
				p.next()
			case tRBrace:
			default:
				return nil, errAt(n.pos, "unexpected %s in label matching, expected \",\" or \"}\"", n)
			}
		}
		p.next()
	}
	if !slices.ContainsFunc(vs.Matchers, func(m *Matcher) bool { return !m.Matches("") }) {
		return nil, errAt(pos, "vector selector must contain at least one non-empty matcher")
	}
	return vs, nil
}
