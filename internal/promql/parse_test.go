package promql

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{`http_requests_total`, `{__name__="http_requests_total"}`},
		{`up{job="api",code!="500",path=~"/a.*",host!~'b|c'}`, `{__name__="up",job="api",code!="500",path=~"/a.*",host!~"b|c"}`},
		{`{__name__="order_count.count"}`, `{__name__="order_count.count"}`},
		{`{"order_count.count", "tag.name"="x"}`, `{__name__="order_count.count",tag.name="x"}`},
		{"{__name__=~`a\\.b`,}", `{__name__=~"a\\.b"}`},
		{`rate(x[5m])`, `rate({__name__="x"}[300000ms])`},
		{`x[1h30m] offset 500ms`, `{__name__="x"}[5400000ms] offset 500ms`},
		{`x offset -1m`, `{__name__="x"} offset -60000ms`},
		{`sum by (a, b) (x)`, `sum by(a,b) ({__name__="x"})`},
		{`sum(x) without (a)`, `sum without(a) ({__name__="x"})`},
		{`topk(3, x)`, `topk(3, {__name__="x"})`},
		{`a + b * c`, `{__name__="a"} + {__name__="b"} * {__name__="c"}`},
		{`(a + b) * c`, `({__name__="a"} + {__name__="b"}) * {__name__="c"}`},
		{`a > bool on(x) b`, `{__name__="a"} > bool on(x) {__name__="b"}`},
		{`a / ignoring(x, y) b`, `{__name__="a"} / ignoring(x,y) {__name__="b"}`},
		{`-2 ^ 2`, `-2 ^ 2`},
		{`- - 1`, `1`},
		{`+x`, `{__name__="x"}`},
		{`0x1F + 1e3 + .5 + Inf + -NaN`, `31 + 1000 + 0.5 + +Inf + NaN`},
		{`5m`, `300`},
		{`histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))`, `histogram_quantile(0.9, sum by(le) (rate({__name__="h_bucket"}[300000ms])))`},
		{"x # a comment\n + 1", `{__name__="x"} + 1`},
		{`round(x, 0.5)`, `round({__name__="x"}, 0.5)`},
		{`time()`, `time()`},
		{`SUM(x)`, `sum({__name__="x"})`},
		{`by`, ``}, // an error, below
	} {
		if c.want == "" {
			continue
		}
		e, err := Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := String(e); got != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.q, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{``, `1:1: parse error: no expression found in input`},
		{`label_replace(x, "a", "b", "c", "d")`, `1:1: parse error: unsupported function "label_replace"`},
		{`sum(x) + nosuch(y)`, `1:10: parse error: unknown function with name "nosuch"`},
		{`x[5m:1m]`, `1:2: parse error: unsupported subquery`},
		{`rate(x[5m:])`, `1:7: parse error: unsupported subquery`},
		{`x @ 100`, `1:3: parse error: unsupported modifier "@"`},
		{`a and b`, `1:3: parse error: unsupported operator "and"`},
		{`a or b`, `1:3: parse error: unsupported operator "or"`},
		{`a * on(x) group_left b`, `1:11: parse error: unsupported vector matching "group_left"`},
		{`quantile(0.9, x)`, `1:1: parse error: unsupported aggregation "quantile"`},
		{`stddev by (a) (x)`, `1:1: parse error: unsupported aggregation "stddev"`},
		{`rate(x)`, `1:6: parse error: expected type range vector in call to function "rate", got instant vector`},
		{`abs(x[1m])`, `1:5: parse error: expected type instant vector in call to function "abs", got range vector`},
		{`rate(x[1m], 2)`, `1:1: parse error: expected 1 argument(s) in call to "rate", got 2`},
		{`round()`, `1:1: parse error: expected at most 2 argument(s) in call to "round", got 0`},
		{`sum(x[1m])`, `1:5: parse error: expected type instant vector in aggregation expression, got range vector`},
		{`topk(x)`, `1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1`},
		{`topk(x, y)`, `1:6: parse error: expected type scalar in aggregation parameter, got instant vector`},
		{`1 > 2`, `1:3: parse error: comparisons between scalars must use BOOL modifier`},
		{`a + bool b`, `1:5: parse error: bool modifier can only be used on comparison operators`},
		{`x[1m] + 1`, `1:7: parse error: binary expression must contain only scalar and instant vector types`},
		{`1 + on(a) x`, `1:3: parse error: vector matching only allowed between instant vectors`},
		{`(x)[5m]`, `1:4: parse error: ranges only allowed for vector selectors`},
		{`{}`, `1:1: parse error: vector selector must contain at least one non-empty matcher`},
		{`{a=~".*"}`, `1:1: parse error: vector selector must contain at least one non-empty matcher`},
		{`{a="b"`, `1:7: parse error: unexpected end of input in label matching, expected "," or "}"`},
		{`{a=b}`, `1:4: parse error: unexpected identifier "b" in label matching, expected string`},
		{`{a~"b"}`, `1:3: parse error: unexpected character '~'`},
		{`{a=~"("}`, "1:5: parse error: invalid regular expression \"(\": error parsing regexp: missing closing ): `^(?s:()$`"},
		{`x{__name__="y"}`, `1:3: parse error: metric name must not be set twice: "x" or "y"`},
		{`x[5]`, `1:3: parse error: unexpected number "5" in range, expected a duration like 5m`},
		{`x[5mm]`, `1:3: parse error: bad duration "5mm"`},
		{`x[1m1h]`, `1:3: parse error: bad duration "1m1h"`},
		{`1.2.3`, `1:1: parse error: bad number or duration syntax: "1.2.3"`},
		{`x offset 1m offset 2m`, `1:13: parse error: offset may not be set multiple times`},
		{`sum by (a) (x) by (b)`, `1:16: parse error: unexpected identifier "by": the aggregation already has a grouping`},
		{`sum(x`, `1:6: parse error: unexpected end of input in aggregation, expected ")"`},
		{`"abc`, `1:1: parse error: unterminated quoted string`},
		{`"\q"`, `1:1: parse error: invalid escape sequence in string "\q"`},
		{`x )`, `1:3: parse error: unexpected ")"`},
		{"a +\n  nosuch()", `2:3: parse error: unknown function with name "nosuch"`},
		{`-x[1m]`, `1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"`},
		{strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101), `1:101: parse error: expression nested more than 100 deep`},
		{strings.Repeat("-", 200) + "1", `1:51: parse error: expression nested more than 100 deep`},
		{"x" + strings.Repeat(" ", MaxQueryLength), `1:1: parse error: query is 65537 bytes long, more than the 65536 allowed`},
	} {
		_, err := Parse(c.q)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%.40q): got %v, want *Error %s", c.q, err, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%.40q):\n got %s\nwant %s", c.q, err, c.want)
		}
	}
}
