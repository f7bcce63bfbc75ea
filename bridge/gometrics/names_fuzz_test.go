package gometricsbridge

import (
	"testing"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit"
)

// FuzzCleanName: whatever the name, the cleaned one is accepted by the
// client's own rule, has as many characters, and a valid name is kept as
// it is.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"http_requests_total", "job:rate:5m", "a__b", "日本語.x", "a b", "bad\xffutf8", "-/._"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		c := cleanName(s)
		if err := apptuit.ValidateMetric(c, map[string]string{c: "v"}); err != nil {
			t.Fatalf("cleanName(%q) = %q: %v", s, c, err)
		}
		if utf8.RuneCountInString(c) != utf8.RuneCountInString(s) {
			t.Fatalf("cleanName(%q) = %q: rune count changed", s, c)
		}
		if apptuit.ValidateMetric(s, map[string]string{s: "v"}) == nil && c != s {
			t.Fatalf("valid %q cleaned to %q", s, c)
		}
	})
}
