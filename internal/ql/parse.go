package ql

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Program is a parsed and checked query.
type Program struct {
	// Stmts are the statements in source order.
	Stmts []*Stmt
	// Outputs lists the variables named by output(...), in order; nil when
	// the query has no output statement (then every statement is an output).
	Outputs []string
}

// Stmt is one statement: an assignment (Name set) or a bare expression.
type Stmt struct {
	Pos  Pos
	Name string
	Expr *Expr
}

// ID returns the statement's output id: the assigned name, or for a bare
// expression the metric name of its fetch (the variable name when it starts
// from a variable).
func (s *Stmt) ID() string {
	if s.Name != "" {
		return s.Name
	}
	if s.Expr.Fetch != nil {
		return s.Expr.Fetch.Metric
	}
	return s.Expr.Var
}

// Expr is a fetch (or a variable reference) followed by a chain of method
// calls.
type Expr struct {
	Pos   Pos
	Fetch *Fetch // set when the chain starts with fetch(...)
	Var   string // set when the chain starts with a variable
	Ops   []*Op
}

// Fetch selects the series of one metric whose tags match every filter.
type Fetch struct {
	Metric  string
	Filters []TagFilter // sorted by key
}

// TagFilter requires tag Key to be present with one of Values; a value "*"
// matches any value.
type TagFilter struct {
	Key    string
	Values []string
}

// Op is one method call of a chain.
type Op struct {
	Pos  Pos
	Name string // downsample, rate, series_sum, series_avg, series_min, series_max, div, mul, add, sub

	Interval int64  // downsample: bucket width in seconds
	Agg      string // downsample: avg, sum, min, max, count
	N        float64
}

// Functions is the list of supported method names (fetch is the only
// function that starts a chain).
var Functions = []string{"downsample", "rate", "series_sum", "series_avg", "series_min", "series_max", "div", "mul", "add", "sub"}

// Aggregators lists the downsample aggregators.
var Aggregators = []string{"avg", "sum", "min", "max", "count"}

// Limits on a query, so that parsing and evaluating one costs a bounded
// amount of time and memory. A query over a limit fails with an *Error at
// the position where the limit was crossed.
const (
	// MaxQueryLength is the longest query text accepted, in bytes.
	MaxQueryLength = 64 << 10
	// MaxChain is the most method calls one chain may have, as in
	// fetch('m').rate().mul(2) (2 calls).
	MaxChain = 100
	// MaxNodes is the most nodes a query may have in all: statements,
	// fetches, tag filter values, method calls and output() names.
	MaxNodes = 2000
)

type outRef struct {
	name string
	pos  Pos
}

type parser struct {
	lex    *lexer
	lexErr *Error
	toks   []token
	i      int
	vars   map[string]bool
	prog   *Program
	outs   []outRef // output() arguments, checked once all statements are known
	nodes  int
}

// node counts n nodes of the query at pos against MaxNodes.
func (p *parser) node(pos Pos, n int) *Error {
	p.nodes += n
	if p.nodes > MaxNodes {
		return errAt(pos, "query too large: more than %d statements, fetches, tag values, function calls and output names (the limit is %d)", MaxNodes, MaxNodes)
	}
	return nil
}

// Parse parses and checks a query. Its cost is linear in the length of src,
// which is at most MaxQueryLength bytes (see also MaxChain and MaxNodes);
// the text is read only up to its first error, so a query over a limit
// fails in time proportional to where the limit is crossed. The error,
// when not nil, is an *Error naming the line and column of the first error
// in the text.
func Parse(src string) (*Program, error) {
	l := newLexer(src)
	if len(src) > MaxQueryLength {
		for l.off < MaxQueryLength {
			l.advance()
		}
		return nil, errAt(l.pos(), "query too long: %d bytes (the limit is %d)", len(src), MaxQueryLength)
	}
	p := &parser{lex: l, vars: map[string]bool{}, prog: &Program{}}
	if err := p.program(); err != nil {
		// A parse error at the token that could not be lexed is the lexer's.
		if p.lexErr != nil && p.lexErr.Pos.Offset <= err.Pos.Offset {
			return nil, p.lexErr
		}
		return nil, err
	}
	return p.prog, nil
}

// fill lexes tokens up to index n, stopping after the end of the query or
// a lexer error (recorded, and standing as a final tError token).
func (p *parser) fill(n int) {
	for len(p.toks) <= n {
		if k := len(p.toks); k > 0 && (p.toks[k-1].kind == tEOF || p.toks[k-1].kind == tError) {
			return
		}
		t, err := p.lex.next()
		if err != nil {
			p.lexErr = err
			t = token{kind: tError, pos: err.Pos}
		}
		p.toks = append(p.toks, t)
	}
}

func (p *parser) peek() token { return p.peekAt(0) }
func (p *parser) peekAt(n int) token {
	p.fill(p.i + n)
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) take() token {
	t := p.peek()
	if t.kind != tEOF && t.kind != tError {
		p.i++
	}
	return t
}

func errAt(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(k tokKind, what string) (token, *Error) {
	t := p.take()
	if t.kind != k {
		return t, errAt(t.pos, "expected %s, found %s", what, t.describe())
	}
	return t, nil
}

func (p *parser) program() *Error {
	var outPos Pos
	seenOutput := false
	for {
		for k := p.peek().kind; k == tSemi || k == tNewline; k = p.peek().kind {
			p.take()
		}
		t := p.peek()
		if t.kind == tEOF {
			break
		}
		if t.kind == tIdent && t.text == "output" && p.peekAt(1).kind == tLParen {
			if seenOutput {
				return errAt(t.pos, "output() given more than once")
			}
			seenOutput, outPos = true, t.pos
			if err := p.node(t.pos, 1); err != nil {
				return err
			}
			if err := p.output(); err != nil {
				return err
			}
		} else {
			st, err := p.stmt()
			if err != nil {
				return err
			}
			p.prog.Stmts = append(p.prog.Stmts, st)
		}
		if k := p.peek().kind; k != tSemi && k != tNewline && k != tEOF {
			t := p.peek()
			return errAt(t.pos, "expected ';' or newline after statement, found %s", t.describe())
		}
	}
	if len(p.prog.Stmts) == 0 {
		if seenOutput {
			return errAt(outPos, "output() without any statement")
		}
		return errAt(p.peek().pos, "empty query")
	}
	for _, r := range p.outs {
		if !p.vars[r.name] {
			return errAt(r.pos, "unknown variable %q in output()", r.name)
		}
	}
	return nil
}

func (p *parser) output() *Error {
	p.take() // output
	p.take() // (
	if p.peek().kind == tRParen {
		return errAt(p.peek().pos, "output() needs at least one variable")
	}
	// Names are checked against the statements of the whole query once
	// parsing ends (variables may be assigned after output()).
	var refs []outRef
	for {
		t, err := p.expect(tIdent, "a variable name")
		if err != nil {
			return err
		}
		if err := p.node(t.pos, 1); err != nil {
			return err
		}
		refs = append(refs, outRef{t.text, t.pos})
		if p.peek().kind == tComma {
			p.take()
			if p.peek().kind == tRParen {
				break
			}
			continue
		}
		break
	}
	if _, err := p.expect(tRParen, "')'"); err != nil {
		return err
	}
	for _, r := range refs {
		p.prog.Outputs = append(p.prog.Outputs, r.name)
	}
	p.outs = refs
	return nil
}

func (p *parser) stmt() (*Stmt, *Error) {
	t := p.peek()
	st := &Stmt{Pos: t.pos}
	if err := p.node(t.pos, 1); err != nil {
		return nil, err
	}
	if t.kind == tIdent && p.peekAt(1).kind == tAssign {
		p.take()
		p.take()
		if t.text == "output" || t.text == "fetch" {
			return nil, errAt(t.pos, "%q cannot be used as a variable name", t.text)
		}
		if p.vars[t.text] {
			return nil, errAt(t.pos, "variable %q assigned more than once", t.text)
		}
		st.Name = t.text
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	st.Expr = e
	if st.Name != "" {
		p.vars[st.Name] = true
	}
	return st, nil
}

func (p *parser) expr() (*Expr, *Error) {
	t := p.take()
	e := &Expr{Pos: t.pos}
	if t.kind != tIdent {
		return nil, errAt(t.pos, "expected fetch(...) or a variable, found %s", t.describe())
	}
	if p.peek().kind == tLParen {
		if t.text != "fetch" {
			if isMethod(t.text) {
				return nil, errAt(t.pos, "%s() must be called on a series, e.g. fetch('m').%s(...)", t.text, t.text)
			}
			return nil, errAt(t.pos, "unknown function %q", t.text)
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		f, err := checkFetch(t.pos, args)
		if err != nil {
			return nil, err
		}
		n := 1
		for _, tf := range f.Filters {
			n += len(tf.Values)
		}
		if err := p.node(t.pos, n); err != nil {
			return nil, err
		}
		e.Fetch = f
	} else {
		if !p.vars[t.text] {
			return nil, errAt(t.pos, "unknown variable %q", t.text)
		}
		e.Var = t.text
	}
	for {
		// A chain may continue on the next line when that line starts with '.'.
		j := 0
		for p.peekAt(j).kind == tNewline {
			j++
		}
		if p.peekAt(j).kind != tDot {
			break
		}
		p.i += j
		dot := p.take() // .
		if len(e.Ops) == MaxChain {
			return nil, errAt(dot.pos, "chain too long: more than %d function calls (the limit is %d)", MaxChain, MaxChain)
		}
		if err := p.node(dot.pos, 1); err != nil {
			return nil, err
		}
		name, err := p.expect(tIdent, "a function name after '.'")
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tLParen {
			return nil, errAt(p.peek().pos, "expected '(' after %s, found %s", name.text, p.peek().describe())
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		op, err := checkOp(name, args)
		if err != nil {
			return nil, err
		}
		e.Ops = append(e.Ops, op)
	}
	return e, nil
}

type argKind int

const (
	aString argKind = iota
	aNumber
	aMap
)

type kv struct {
	key, val token
}

type arg struct {
	kind argKind
	pos  Pos
	str  string
	num  float64
	m    []kv
}

func (k argKind) String() string {
	return [...]string{"a string", "a number", "a {'tag': 'value'} map"}[k]
}

// args parses '(' [arg {',' arg}] [','] ')'.
func (p *parser) args() ([]arg, *Error) {
	p.take() // (
	var out []arg
	for p.peek().kind != tRParen {
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if p.peek().kind == tComma {
			p.take()
			continue
		}
		if p.peek().kind != tRParen {
			t := p.peek()
			return nil, errAt(t.pos, "expected ',' or ')', found %s", t.describe())
		}
	}
	p.take() // )
	return out, nil
}

func (p *parser) arg() (arg, *Error) {
	t := p.take()
	switch t.kind {
	case tString:
		return arg{kind: aString, pos: t.pos, str: t.text}, nil
	case tNumber:
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(v, 0) {
			return arg{}, errAt(t.pos, "number %s out of range", t.text)
		}
		return arg{kind: aNumber, pos: t.pos, num: v, str: t.text}, nil
	case tLBrace:
		a := arg{kind: aMap, pos: t.pos}
		for p.peek().kind != tRBrace {
			k, err := p.expect(tString, "a quoted tag key")
			if err != nil {
				return arg{}, err
			}
			if _, err := p.expect(tColon, "':'"); err != nil {
				return arg{}, err
			}
			v, err := p.expect(tString, "a quoted tag value")
			if err != nil {
				return arg{}, err
			}
			a.m = append(a.m, kv{k, v})
			if p.peek().kind == tComma {
				p.take()
				continue
			}
			if p.peek().kind != tRBrace {
				t := p.peek()
				return arg{}, errAt(t.pos, "expected ',' or '}', found %s", t.describe())
			}
		}
		p.take() // }
		return a, nil
	}
	return arg{}, errAt(t.pos, "expected an argument (string, number or {...}), found %s", t.describe())
}

func isMethod(name string) bool {
	for _, f := range Functions {
		if f == name {
			return true
		}
	}
	return false
}

func checkFetch(pos Pos, args []arg) (*Fetch, *Error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, errAt(pos, "fetch takes 1 or 2 arguments (metric, {'tag': 'value'}), got %d", len(args))
	}
	if args[0].kind != aString {
		return nil, errAt(args[0].pos, "fetch: metric must be a string, found %s", args[0].kind)
	}
	if args[0].str == "" {
		return nil, errAt(args[0].pos, "fetch: metric name is empty")
	}
	f := &Fetch{Metric: args[0].str}
	if len(args) == 2 {
		if args[1].kind != aMap {
			return nil, errAt(args[1].pos, "fetch: tag filter must be %s, found %s", aMap, args[1].kind)
		}
		seen := map[string]bool{}
		for _, e := range args[1].m {
			if e.key.text == "" {
				return nil, errAt(e.key.pos, "fetch: empty tag key")
			}
			if seen[e.key.text] {
				return nil, errAt(e.key.pos, "fetch: tag key %q given twice", e.key.text)
			}
			seen[e.key.text] = true
			vals := strings.Split(e.val.text, "|")
			for _, v := range vals {
				if v == "" {
					return nil, errAt(e.val.pos, "fetch: empty alternative in tag value %q", e.val.text)
				}
			}
			f.Filters = append(f.Filters, TagFilter{Key: e.key.text, Values: vals})
		}
		sort.Slice(f.Filters, func(i, j int) bool { return f.Filters[i].Key < f.Filters[j].Key })
	}
	return f, nil
}

func checkOp(name token, args []arg) (*Op, *Error) {
	op := &Op{Pos: name.pos, Name: name.text}
	nargs := func(n int) *Error {
		if len(args) != n {
			return errAt(name.pos, "%s takes %d argument(s), got %d", name.text, n, len(args))
		}
		return nil
	}
	switch name.text {
	case "downsample":
		if err := nargs(2); err != nil {
			return nil, err
		}
		if args[0].kind != aString {
			return nil, errAt(args[0].pos, "downsample: interval must be a string like '1m', found %s", args[0].kind)
		}
		iv, ok := ParseInterval(args[0].str)
		if !ok {
			return nil, errAt(args[0].pos, "downsample: invalid interval %q (want a positive count and s, m, h, d or w, e.g. '30s')", args[0].str)
		}
		op.Interval = iv
		if args[1].kind != aString {
			return nil, errAt(args[1].pos, "downsample: aggregator must be a string, found %s", args[1].kind)
		}
		ok = false
		for _, a := range Aggregators {
			ok = ok || a == args[1].str
		}
		if !ok {
			return nil, errAt(args[1].pos, "downsample: unknown aggregator %q (want one of %s)", args[1].str, strings.Join(Aggregators, ", "))
		}
		op.Agg = args[1].str
	case "rate", "series_sum", "series_avg", "series_min", "series_max":
		if err := nargs(0); err != nil {
			return nil, err
		}
	case "div", "mul", "add", "sub":
		if err := nargs(1); err != nil {
			return nil, err
		}
		if args[0].kind != aNumber {
			return nil, errAt(args[0].pos, "%s: argument must be a number, found %s", name.text, args[0].kind)
		}
		if name.text == "div" && args[0].num == 0 {
			return nil, errAt(args[0].pos, "div: division by zero")
		}
		op.N = args[0].num
	default:
		return nil, errAt(name.pos, "unknown function %q", name.text)
	}
	return op, nil
}

// ParseInterval parses a downsample interval: a positive integer followed by
// s, m, h, d or w. It returns the width in seconds.
func ParseInterval(s string) (int64, bool) {
	if len(s) < 2 {
		return 0, false
	}
	var unit int64
	switch s[len(s)-1] {
	case 's':
		unit = 1
	case 'm':
		unit = 60
	case 'h':
		unit = 3600
	case 'd':
		unit = 86400
	case 'w':
		unit = 7 * 86400
	default:
		return 0, false
	}
	num := s[:len(s)-1]
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit/1000 {
		return 0, false
	}
	return n * unit, true
}
