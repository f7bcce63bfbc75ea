package metricname

import (
	"strings"
	"testing"
)

// TestAppendPyStringFastPath checks the 8-bytes-at-a-time scan against the
// byte-by-byte rule: every byte value, at every position of strings of 1
// to 20 bytes, is escaped exactly when the rule says.
func TestAppendPyStringFastPath(t *testing.T) {
	slow := func(s string) []byte { return appendEscaped([]byte{'"'}, s) }
	for c := range 256 {
		for n := 1; n <= 20; n++ {
			for pos := range n {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				s := string(b)
				if got, want := string(AppendPyString(nil, s)), string(slow(s)); got != want {
					t.Fatalf("byte %#x at %d of %d: %q, want %q", c, pos, n, got, want)
				}
			}
		}
	}
	for x := uint64(0); x < 256; x++ {
		c := byte(x)
		want := c < 0x20 || c >= 0x7f || c == '"' || c == '\\'
		if got := needsEscape8(x | 0x6161616161616100); got != want {
			t.Errorf("needsEscape8 with byte %#x: %v, want %v", c, got, want)
		}
	}
}
