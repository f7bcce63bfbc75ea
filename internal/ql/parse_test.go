package ql

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseOK(t *testing.T) {
	tests := []struct {
		src     string
		ids     []string
		outputs []string
	}{
		{"fetch('nyc.taxi.rides')", []string{"nyc.taxi.rides"}, nil},
		{`fetch("a.b")`, []string{"a.b"}, nil},
		{"fetch('proc.cpu.percent').downsample('1m', 'avg')", []string{"proc.cpu.percent"}, nil},
		{"cpu=fetch('node.cpu').downsample('1h', 'avg');\nload=fetch('node.load1').downsample('1h', 'avg');\n output(cpu, load)", []string{"cpu", "load"}, []string{"cpu", "load"}},
		{"A=fetch('apptuit_datapoints_in').series_sum().div(24);", []string{"A"}, nil},
		{"A=fetch('x').downsample('1h', 'sum').downsample('1d','max').div(24);", []string{"A"}, nil},
		{"a = fetch('m', {'host': 'a|b', 'dc': '*'})\nb = a.rate()\noutput(b, a)", []string{"a", "b"}, []string{"b", "a"}},
		{"  fetch ( 'm' , { \"k\" : \"v\" , } ) . mul ( -2.5e1 ) ; ; \n\n", []string{"m"}, nil},
		{"fetch('m')\n  .rate()\n  .series_max() # comment\n", []string{"m"}, nil},
		{"fetch('m',\n {'k':\n 'v'})", []string{"m"}, nil},
		{"x = fetch('m'); x.add(1); x.sub(.5)", []string{"x", "x", "x"}, nil},
		{"output(a); a = fetch('m')", []string{"a"}, []string{"a"}},
		{"fetch('m').series_sum().series_avg().series_min()", []string{"m"}, nil},
		{"fetch('métrique')", []string{"métrique"}, nil},
	}
	for _, tt := range tests {
		p, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		var ids []string
		for _, s := range p.Stmts {
			ids = append(ids, s.ID())
		}
		if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(p.Outputs, tt.outputs) {
			t.Errorf("Parse(%q): ids %q outputs %q, want %q %q", tt.src, ids, p.Outputs, tt.ids, tt.outputs)
		}
	}
}

func TestParseAST(t *testing.T) {
	p, err := Parse("a = fetch('m', {'host': 'x|y', 'dc': '*'}).downsample('30s', 'max').rate().div(2)")
	if err != nil {
		t.Fatal(err)
	}
	e := p.Stmts[0].Expr
	want := &Fetch{Metric: "m", Filters: []TagFilter{{"dc", []string{"*"}}, {"host", []string{"x", "y"}}}}
	if !reflect.DeepEqual(e.Fetch, want) {
		t.Errorf("fetch = %+v, want %+v", e.Fetch, want)
	}
	if len(e.Ops) != 3 {
		t.Fatalf("ops = %d", len(e.Ops))
	}
	if o := e.Ops[0]; o.Name != "downsample" || o.Interval != 30 || o.Agg != "max" || o.Pos != (Pos{Offset: 43, Line: 1, Col: 44}) {
		t.Errorf("op0 = %+v", o)
	}
	if o := e.Ops[2]; o.Name != "div" || o.N != 2 {
		t.Errorf("op2 = %+v", o)
	}
	if p.Stmts[0].Pos != (Pos{0, 1, 1}) || e.Pos != (Pos{4, 1, 5}) {
		t.Errorf("positions %+v %+v", p.Stmts[0].Pos, e.Pos)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"", "parse error at line 1, column 1: empty query"},
		{" ;\n ", "parse error at line 2, column 2: empty query"},
		{"fetch('m'", "parse error at line 1, column 10: expected ',' or ')', found end of query"},
		{"fetch('m').foo()", `parse error at line 1, column 12: unknown function "foo"`},
		{"a = fetch('m')\nb = a.bar(1)", `parse error at line 2, column 7: unknown function "bar"`},
		{"foo('m')", `parse error at line 1, column 1: unknown function "foo"`},
		{"rate('m')", `parse error at line 1, column 1: rate() must be called on a series, e.g. fetch('m').rate(...)`},
		{"x.rate()", `parse error at line 1, column 1: unknown variable "x"`},
		{"a = fetch('m')\noutput(a, zz)", `parse error at line 2, column 11: unknown variable "zz" in output()`},
		{"fetch('m')\noutput()", "parse error at line 2, column 8: output() needs at least one variable"},
		{"a=fetch('m'); output(a); output(a)", "parse error at line 1, column 26: output() given more than once"},
		{"output(a)", "parse error at line 1, column 1: output() without any statement"},
		{"fetch('m", "parse error at line 1, column 7: unterminated string"},
		{"fetch('m\n')", "parse error at line 1, column 7: unterminated string"},
		{"fetch('a\\qb')", `parse error at line 1, column 9: unknown escape \q in string`},
		{"fetch()", "parse error at line 1, column 1: fetch takes 1 or 2 arguments (metric, {'tag': 'value'}), got 0"},
		{"fetch(1)", "parse error at line 1, column 7: fetch: metric must be a string, found a number"},
		{"fetch('')", "parse error at line 1, column 7: fetch: metric name is empty"},
		{"fetch('m', 'x')", "parse error at line 1, column 12: fetch: tag filter must be a {'tag': 'value'} map, found a string"},
		{"fetch('m', {'k': 'a||b'})", `parse error at line 1, column 18: fetch: empty alternative in tag value "a||b"`},
		{"fetch('m', {'k': 'a', 'k': 'b'})", `parse error at line 1, column 23: fetch: tag key "k" given twice`},
		{"fetch('m', {'k' 'v'})", "parse error at line 1, column 17: expected ':', found string \"v\""},
		{"fetch('m', {k: 'v'})", "parse error at line 1, column 13: expected a quoted tag key, found name \"k\""},
		{"fetch('m').downsample('1x', 'avg')", `parse error at line 1, column 23: downsample: invalid interval "1x" (want a positive count and s, m, h, d or w, e.g. '30s')`},
		{"fetch('m').downsample('0m', 'avg')", `parse error at line 1, column 23: downsample: invalid interval "0m" (want a positive count and s, m, h, d or w, e.g. '30s')`},
		{"fetch('m').downsample('1m', 'p99')", `parse error at line 1, column 29: downsample: unknown aggregator "p99" (want one of avg, sum, min, max, count)`},
		{"fetch('m').downsample('1m')", "parse error at line 1, column 12: downsample takes 2 argument(s), got 1"},
		{"fetch('m').downsample(1, 'avg')", "parse error at line 1, column 23: downsample: interval must be a string like '1m', found a number"},
		{"fetch('m').rate(1)", "parse error at line 1, column 12: rate takes 0 argument(s), got 1"},
		{"fetch('m').div(0)", "parse error at line 1, column 16: div: division by zero"},
		{"fetch('m').mul('2')", "parse error at line 1, column 16: mul: argument must be a number, found a string"},
		{"fetch('m').add(1e999)", "parse error at line 1, column 16: number 1e999 out of range"},
		{"fetch('m').sub(1x)", "parse error at line 1, column 16: malformed number"},
		{"fetch('m').", "parse error at line 1, column 12: expected a function name after '.', found end of query"},
		{"fetch('m').rate", "parse error at line 1, column 16: expected '(' after rate, found end of query"},
		{"fetch('m') fetch('n')", `parse error at line 1, column 12: expected ';' or newline after statement, found name "fetch"`},
		{"a = fetch('m'); a = fetch('n')", `parse error at line 1, column 17: variable "a" assigned more than once`},
		{"output = fetch('m')", `parse error at line 1, column 1: "output" cannot be used as a variable name`},
		{"fetch('m') @", "parse error at line 1, column 12: unexpected character '@'"},
		{"\n\n  fetch('m').rate(]", "parse error at line 3, column 19: unexpected character ']'"},
		{"fetch('m').rate(;)", "parse error at line 1, column 17: expected an argument (string, number or {...}), found ';'"},
		{"= fetch('m')", "parse error at line 1, column 1: expected fetch(...) or a variable, found '='"},
		{"fetch('é', {'k': 'v'}).é()", `parse error at line 1, column 24: unknown function "é"`},
		{"fetch('m', \xff)", "parse error at line 1, column 12: invalid UTF-8"},
		// The first error in the text wins, whether the lexer's or the parser's.
		{"fetch('m').foo() @", `parse error at line 1, column 12: unknown function "foo"`},
		{"fetch('m') @ .foo()", "parse error at line 1, column 12: unexpected character '@'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.src, tt.want)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %T is not *Error", tt.src, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %q\nwant %q", tt.src, err.Error(), tt.want)
		}
	}
}

func TestParseInterval(t *testing.T) {
	tests := map[string]int64{"30s": 30, "1m": 60, "5m": 300, "1h": 3600, "1d": 86400, "2w": 1209600}
	for s, want := range tests {
		if got, ok := ParseInterval(s); !ok || got != want {
			t.Errorf("ParseInterval(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "s", "1", "-1m", "1.5m", "1M", "99999999999999999999s", "9223372036854775807w"} {
		if _, ok := ParseInterval(s); ok {
			t.Errorf("ParseInterval(%q) ok", s)
		}
	}
}
