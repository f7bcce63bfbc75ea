package ql

import (
	"errors"
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
			start := time.Now()
			_, err := Parse(tt.src)
			if d := time.Since(start); tt.want != "" && d > 50*time.Millisecond {
				t.Errorf("a query over a limit took %v to fail, want < 50ms", d)
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
