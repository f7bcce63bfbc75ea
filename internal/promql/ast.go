package promql

import (
	"regexp"
	"strconv"
	"strings"
)

// ValueType is the type of an expression's value.
type ValueType string

// The value types of PromQL, named as in Prometheus's API ("resultType").
const (
	TypeScalar ValueType = "scalar"
	TypeVector ValueType = "vector"
	TypeMatrix ValueType = "matrix"
	TypeString ValueType = "string"
)

// typeName is the name Prometheus's error messages use.
func typeName(t ValueType) string {
	switch t {
	case TypeVector:
		return "instant vector"
	case TypeMatrix:
		return "range vector"
	}
	return string(t)
}

// Expr is a parsed PromQL expression. Its dynamic type is one of the
// *…Expr and *…Selector types of this package.
type Expr interface {
	Type() ValueType
	pos() int
}

// NumberLiteral is a number, e.g. 1.5, 0x1f, Inf.
type NumberLiteral struct {
	Val float64
	Pos int
}

// StringLiteral is a string, e.g. "a".
type StringLiteral struct {
	Val string
	Pos int
}

// MatchType is a label matcher's operator.
type MatchType int

// The matcher operators: =, !=, =~ and !~.
const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// String returns the operator as written: =, !=, =~ or !~.
func (t MatchType) String() string {
	if t < MatchEqual || t > MatchNotRegexp {
		return "MatchType(" + strconv.Itoa(int(t)) + ")"
	}
	return [...]string{"=", "!=", "=~", "!~"}[t]
}

// Matcher is one label matcher of a selector, e.g. code=~"5..". A label a
// series does not have matches as the empty value, as in Prometheus.
type Matcher struct {
	Type  MatchType
	Name  string
	Value string
	re    *regexp.Regexp // =~ and !~: Value anchored at both ends
}

// NewMatcher returns a matcher, compiling the regular expression of =~ and
// !~ (anchored at both ends, RE2 syntax as Prometheus) or an error naming
// it. Its cost is that of regexp.Compile.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	if t == MatchRegexp || t == MatchNotRegexp {
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return nil, err
		}
		m.re = re
	}
	return m, nil
}

// Matches reports whether v, a label's value ("" when absent), matches.
// It costs a string comparison or a regular expression match.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	}
	re := m.re
	if re == nil { // a Matcher not made by NewMatcher
		var err error
		if re, err = regexp.Compile("^(?s:" + m.Value + ")$"); err != nil {
			return false
		}
	}
	if m.Type == MatchRegexp {
		return re.MatchString(v)
	}
	return m.Type == MatchNotRegexp && !re.MatchString(v)
}

// String returns the matcher as written, e.g. code=~"5..".
func (m *Matcher) String() string { return m.Name + m.Type.String() + strconv.Quote(m.Value) }

// VectorSelector selects series by their labels, e.g. http_requests{code="500"}.
type VectorSelector struct {
	Matchers []*Matcher
	Offset   int64 // milliseconds
	Pos      int
}

// MatrixSelector is a range vector selector, e.g. x[5m].
type MatrixSelector struct {
	VS    *VectorSelector
	Range int64 // milliseconds
	Pos   int
}

// ParenExpr is an expression in parentheses.
type ParenExpr struct {
	Expr Expr
	Pos  int
}

// UnaryExpr is -e (or +e).
type UnaryExpr struct {
	Op   string
	Expr Expr
	Pos  int
}

// BinaryExpr is lhs op rhs, e.g. a / on(job) b.
type BinaryExpr struct {
	Op         string // + - * / % ^ == != > < >= <=
	LHS, RHS   Expr
	ReturnBool bool
	On         bool     // matching on Labels (else ignoring them)
	Labels     []string // of on(...) or ignoring(...)
	Pos        int
}

// Call is a function call, e.g. rate(x[5m]).
type Call struct {
	Func string
	Args []Expr
	Pos  int
}

// AggregateExpr is an aggregation, e.g. sum by (job) (x) or topk(3, x).
type AggregateExpr struct {
	Op       string // sum avg min max count topk bottomk
	Expr     Expr
	Param    Expr // topk and bottomk: k
	Grouping []string
	Without  bool
	Pos      int
}

// Type returns TypeScalar.
func (*NumberLiteral) Type() ValueType { return TypeScalar }

// Type returns TypeString.
func (*StringLiteral) Type() ValueType { return TypeString }

// Type returns TypeVector.
func (*VectorSelector) Type() ValueType { return TypeVector }

// Type returns TypeMatrix.
func (*MatrixSelector) Type() ValueType { return TypeMatrix }

// Type returns TypeVector.
func (*AggregateExpr) Type() ValueType { return TypeVector }

// Type returns the type of the expression in parentheses.
func (e *ParenExpr) Type() ValueType { return e.Expr.Type() }

// Type returns the type of the operand.
func (e *UnaryExpr) Type() ValueType { return e.Expr.Type() }

// Type returns TypeScalar between scalars, else TypeVector.
func (e *BinaryExpr) Type() ValueType {
	if e.LHS.Type() == TypeScalar && e.RHS.Type() == TypeScalar {
		return TypeScalar
	}
	return TypeVector
}

// Type returns the type of the function's result.
func (e *Call) Type() ValueType { return functions[e.Func].ret }

func (e *NumberLiteral) pos() int  { return e.Pos }
func (e *StringLiteral) pos() int  { return e.Pos }
func (e *VectorSelector) pos() int { return e.Pos }
func (e *MatrixSelector) pos() int { return e.Pos }
func (e *ParenExpr) pos() int      { return e.Pos }
func (e *UnaryExpr) pos() int      { return e.Pos }
func (e *BinaryExpr) pos() int     { return e.Pos }
func (e *Call) pos() int           { return e.Pos }
func (e *AggregateExpr) pos() int  { return e.Pos }

// String renders e back in PromQL (normalized: selectors as
// {__name__="…",…}, durations in milliseconds), for messages. Its cost is
// linear in the size of e.
func String(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *NumberLiteral:
		b.WriteString(strconv.FormatFloat(e.Val, 'g', -1, 64))
	case *StringLiteral:
		b.WriteString(strconv.Quote(e.Val))
	case *VectorSelector:
		b.WriteByte('{')
		for i, m := range e.Matchers {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(m.String())
		}
		b.WriteByte('}')
		if e.Offset != 0 {
			b.WriteString(" offset " + strconv.FormatInt(e.Offset, 10) + "ms")
		}
	case *MatrixSelector:
		vs := *e.VS
		vs.Offset = 0
		writeExpr(b, &vs)
		b.WriteString("[" + strconv.FormatInt(e.Range, 10) + "ms]")
		if e.VS.Offset != 0 {
			b.WriteString(" offset " + strconv.FormatInt(e.VS.Offset, 10) + "ms")
		}
	case *ParenExpr:
		b.WriteByte('(')
		writeExpr(b, e.Expr)
		b.WriteByte(')')
	case *UnaryExpr:
		b.WriteString(e.Op)
		writeExpr(b, e.Expr)
	case *BinaryExpr:
		writeExpr(b, e.LHS)
		b.WriteString(" " + e.Op + " ")
		if e.ReturnBool {
			b.WriteString("bool ")
		}
		if e.On || len(e.Labels) > 0 {
			if e.On {
				b.WriteString("on(")
			} else {
				b.WriteString("ignoring(")
			}
			b.WriteString(strings.Join(e.Labels, ",") + ") ")
		}
		writeExpr(b, e.RHS)
	case *Call:
		b.WriteString(e.Func + "(")
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a)
		}
		b.WriteByte(')')
	case *AggregateExpr:
		b.WriteString(e.Op)
		if e.Without {
			b.WriteString(" without(" + strings.Join(e.Grouping, ",") + ") ")
		} else if len(e.Grouping) > 0 {
			b.WriteString(" by(" + strings.Join(e.Grouping, ",") + ") ")
		}
		b.WriteByte('(')
		if e.Param != nil {
			writeExpr(b, e.Param)
			b.WriteString(", ")
		}
		writeExpr(b, e.Expr)
		b.WriteByte(')')
	}
}
