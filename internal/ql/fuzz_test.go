package ql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that its errors are *Error with a
// position inside the text, and that Eval of anything it accepts does not
// panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"fetch('nyc.taxi.rides')",
		"cpu=fetch('node.cpu').downsample('1h', 'avg');\nload=fetch('node.load1').downsample('1h', 'avg');\n output(cpu, load)",
		"A=fetch('apptuit_datapoints_in').series_sum().div(24);",
		"fetch('cpu', {'host': 'a|b', 'dc': '*'}).rate().series_max().mul(-1.5e2)",
		"a = fetch('m')\n  .downsample('30s', 'count') # c\nb = a.sub(.5)\noutput(b)",
		"fetch('m'",
		"fetch(\"a\\\"b\")",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Pos.Offset < 0 || pe.Pos.Offset > len(src) || pe.Pos.Line < 1 || pe.Pos.Col < 1 {
				t.Fatalf("bad position %+v for %q", pe.Pos, src)
			}
			if want := strings.Count(src[:pe.Pos.Offset], "\n") + 1; pe.Pos.Line != want {
				t.Fatalf("line %d, want %d", pe.Pos.Line, want)
			}
			line := src[strings.LastIndex(src[:pe.Pos.Offset], "\n")+1 : pe.Pos.Offset]
			if want := utf8.RuneCountInString(line) + 1; pe.Pos.Col != want {
				t.Fatalf("column %d, want %d", pe.Pos.Col, want)
			}
			return
		}
		if len(p.Stmts) == 0 {
			t.Fatal("accepted a query without statements")
		}
		outs, err := Eval(context.Background(), p, store, 0, 1000, 10_000)
		var le *LimitError
		if errors.As(err, &le) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Outputs != nil && len(outs) != len(p.Outputs) {
			t.Fatalf("%d outputs, want %d", len(outs), len(p.Outputs))
		}
	})
}
