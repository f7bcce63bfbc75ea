package gometricsbridge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanName returns s with every character Apptuit does not accept in a
// metric name or tag key (Unicode letters and digits, '.', '-', '_', '/')
// replaced by '_', one for one ("requests:total rate" becomes
// "requests_total_rate"); runs of '_' are kept, so a valid name such as
// "a__b" stays as it is. A valid s is returned as is, without allocating.
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
