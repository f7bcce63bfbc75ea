package prombridge

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanName returns s with every character Apptuit does not accept in a
// metric name or tag key (Unicode letters and digits, '.', '-', '_', '/')
// replaced by '_', one for one: runs of '_' are kept, so a valid name such
// as "a__b" stays as it is. Prometheus' classic names differ from Apptuit's
// rule only by ':', so "job:requests:rate5m" becomes "job_requests_rate5m".
// A valid s is returned as is, without allocating.
func cleanName(s string) string {
	i := validPrefix(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if (r < utf8.RuneSelf && !asciiNameChar(byte(r))) || (r >= utf8.RuneSelf && !unicodeNameRune(r)) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// validName reports whether s needs no cleaning.
func validName(s string) bool { return validPrefix(s) == len(s) }

// validPrefix returns the length of the longest prefix of s made of
// characters Apptuit accepts.
func validPrefix(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !asciiNameChar(c) {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicodeNameRune(r) {
			break
		}
		i += size
	}
	return i
}

func asciiNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '-' || c == '_' || c == '/'
}

func unicodeNameRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r))
}

// formatFloat formats a bucket bound or a quantile as Prometheus' text
// exposition format writes the le and quantile labels: the shortest
// representation that reads back exactly ("0.005", "1", "2.5e-05"), and
// "+Inf", "-Inf", "NaN".
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
