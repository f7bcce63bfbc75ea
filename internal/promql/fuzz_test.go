package promql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that its errors are *Error with
// a position inside the query, and that evaluating what it accepts does
// not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`rate(reqs[1m])`,
		`sum by (job) (rate({__name__=~"order_count\\..*", region!="eu"}[5m] offset 1m))`,
		`histogram_quantile(0.9, sum by (le) (h_bucket))`,
		`topk(2, m) > bool on(job) 3 ^ -2`,
		`{"order_count.count"} / ignoring(region) (1 + 2 * 3 % 4)`,
		`label_replace(x, "a", "b", "c", "d")`,
		`x[5m:1m]`,
		"a +\n  nosuch()",
		`round(temp, 0.5) - time() + scalar(m) * vector(1)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("FuzzParse: %q takes more than 5 s", q)) })
		defer watchdog.Stop()
		e, err := Parse(q)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(q) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("bad position %+v for %q", pe, q)
			}
			if want := strings.Count(q[:pe.Offset], "\n") + 1; pe.Line != want {
				t.Fatalf("line %d, want %d", pe.Line, want)
			}
			line := q[strings.LastIndex(q[:pe.Offset], "\n")+1 : pe.Offset]
			if want := utf8.RuneCountInString(line) + 1; pe.Col != want {
				t.Fatalf("column %d, want %d", pe.Col, want)
			}
			return
		}
		_ = String(e)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		lim := Limits{MaxPoints: 10_000, MaxSamples: 10_000}
		if _, err := EvalInstant(ctx, testData, e, at(60), lim); err != nil {
			var ee *ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("EvalInstant(%q): %T %v", q, err, err)
			}
		}
		if t := e.Type(); t == TypeScalar || t == TypeVector {
			EvalRange(ctx, testData, e, at(0), at(120), 15_000, lim)
		}
	})
}
