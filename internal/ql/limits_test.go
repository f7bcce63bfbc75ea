package ql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseLimits(t *testing.T) {
	chain := func(n int) string { return "fetch('m')" + strings.Repeat(".add(1)", n) }
	stmts := func(n int) string { return strings.Repeat("fetch('m')\n", n) }
	tests := []struct {
		name string
		src  string
		want string // "" = accepted
	}{
		{"chain at the limit", chain(MaxChain), ""},
		{"chain over the limit", chain(MaxChain + 1), "parse error at line 1, column 711: chain too long: more than 100 function calls (the limit is 100)"},
		{"chain of 1000", chain(1000), "parse error at line 1, column 711: chain too long: more than 100 function calls (the limit is 100)"},
		{"20000 calls", chain(20000), "parse error at line 1, column 65537: query too long: 140010 bytes (the limit is 65536)"},
		{"long on line 3", "#\n#\n" + strings.Repeat("x", MaxQueryLength), "parse error at line 3, column 65533: query too long: 65540 bytes (the limit is 65536)"},
		{"length at the limit", "fetch('m')" + strings.Repeat(" ", MaxQueryLength-len("fetch('m')")), ""},
		{"statements at the limit", stmts(MaxNodes / 2), ""},
		{"statements over the limit", stmts(MaxNodes/2 + 1), "parse error at line 1001, column 1: query too large: more than 2000 statements, fetches, tag values, function calls and output names (the limit is 2000)"},
		{"tag values over the limit", "fetch('m', {'k': '" + strings.Repeat("a|", MaxNodes) + "b'})", "parse error at line 1, column 1: query too large: more than 2000 statements, fetches, tag values, function calls and output names (the limit is 2000)"},
		{"outputs over the limit", "a = fetch('m')\noutput(" + strings.Repeat("a, ", MaxNodes) + "a)", "parse error at line 2, column 5999: query too large: more than 2000 statements, fetches, tag values, function calls and output names (the limit is 2000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src)
			if tt.want != "" {
				// The best of a few runs counts, so that a busy machine
				// (or the race detector) does not fail it.
				best := time.Hour
				for i := 0; i < 5 && best > 50*time.Millisecond; i++ {
					start := time.Now()
					Parse(tt.src)
					best = min(best, time.Since(start))
				}
				if best > 50*time.Millisecond {
					t.Errorf("a query over a limit took %v to fail (best of 5), want < 50ms", best)
				}
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || err.Error() != tt.want {
				t.Fatalf("Parse:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestParseLimitFailsFast times the capped query of the issue: 20,000
// chained calls (1.8 s of CPU before the caps), and 9,000 that fit in
// MaxQueryLength: the parse stops where the chain passes MaxChain, without
// reading the rest. The best of a few runs counts, so that a busy machine
// (or the race detector) does not fail it.
func TestParseLimitFailsFast(t *testing.T) {
	for _, src := range []string{
		"fetch('m')" + strings.Repeat(".add(1)", 20000),
		"fetch('m')" + strings.Repeat(".add(1)", 9000),
	} {
		best := time.Hour
		for i := 0; i < 5; i++ {
			start := time.Now()
			if _, err := Parse(src); err == nil {
				t.Fatal("no error")
			}
			best = min(best, time.Since(start))
		}
		if best > 50*time.Millisecond {
			t.Errorf("%d bytes: fails in %v, want < 50ms", len(src), best)
		}
		t.Logf("%d bytes: fails in %v", len(src), best)
	}
}

// TestEvalLimits checks Eval's bound on the points it holds: fetched,
// computed, and answered again; at the bound a query is answered, one
// point past it fails with a *LimitError.
func TestEvalLimits(t *testing.T) {
	// m: 2 series of 5 points.
	st := fakeStore{
		{Metric: "m", Tags: map[string]string{"h": "a"}, Points: pts(1, 1, 2, 2, 3, 3, 4, 4, 5, 5)},
		{Metric: "m", Tags: map[string]string{"h": "b"}, Points: pts(1, 1, 2, 2, 3, 3, 4, 4, 5, 5)},
	}
	tests := []struct {
		q    string
		need int // the smallest bound that answers it
	}{
		{"fetch('m')", 10},
		{"fetch('m', {'h': 'a'})", 10}, // the fetch holds both series before the filter
		{"fetch('m'); fetch('m')", 20},
		{"a = fetch('m')\noutput(a)", 10},
		{"a = fetch('m')\noutput(a, a, a)", 30},
		{"a = fetch('m')\nb = a\nc = a", 30},
		{"fetch('m').mul(2)", 20},                  // charged 10, kept 10
		{"fetch('m').mul(2).add(1)", 30},           // each function's result counts
		{"fetch('m').downsample('1h', 'sum')", 20}, // charged 10 before, keeps 2
		{"fetch('m').downsample('1h', 'sum').mul(2)", 20},
		{"fetch('m').series_sum()", 30}, // charged 2 x 10 for the merge, keeps 5
		{"fetch('m').series_sum().mul(2)", 30},
	}
	for _, tt := range tests {
		p, err := Parse(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Eval(context.Background(), p, st, 0, 100, tt.need); err != nil {
			t.Errorf("%q with %d points: %v", tt.q, tt.need, err)
		}
		_, err = Eval(context.Background(), p, st, 0, 100, tt.need-1)
		var le *LimitError
		if !errors.As(err, &le) || le.Max != tt.need-1 {
			t.Errorf("%q with %d points: %v, want a *LimitError", tt.q, tt.need-1, err)
		} else if want := fmt.Sprintf("query too expensive: it needs more than %d points fetched, computed and answered", tt.need-1); err.Error() != want {
			t.Errorf("%q: %v, want %s", tt.q, err, want)
		}
	}
}

// TestEvalAmplification is the query of the issue: one fetch answered
// 2,000 times over 10,000 points. It fails at once, without the answer.
func TestEvalAmplification(t *testing.T) {
	ps := make([]Point, 10_000)
	for i := range ps {
		ps[i] = Point{T: int64(i), V: float64(i)}
	}
	st := fakeStore{{Metric: "m", Tags: map[string]string{"h": "a"}, Points: ps}}
	p, err := Parse("a = fetch('m')\noutput(" + strings.Repeat("a, ", MaxNodes-4) + "a)")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Eval(context.Background(), p, st, 0, 1e9, 1_000_000)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("Eval: %v, want a *LimitError", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failed after %v", d)
	}
}

func TestEvalCanceled(t *testing.T) {
	p, err := Parse("fetch('cpu').mul(2)")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Eval(ctx, p, store, 0, 1000, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Eval: %v, want context.Canceled", err)
	}
}
