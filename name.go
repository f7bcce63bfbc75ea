package apptuit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Apptuit's rule for metric names and tag keys, written once: non-empty,
// made of Unicode letters and numbers, '.', '-', '_' and '/' (Python's
// [-\w_/.]+ with re.UNICODE, as apptuit-py and the API check it).
// CheckName applies it, CleanName makes a name follow it; everything else
// (the client's validation, SanitizeApptuit, the line transports, the
// bridges' names and the OpenTSDB put checker that the fake and the local
// server share) calls these two.

// nameRule is the rule as error messages state it.
const nameRule = "Unicode letters and digits, '.', '-', '_', '/'"

// NameError is CheckName's error: Name breaks Apptuit's rule for metric
// names and tag keys at byte Offset, where Char is (utf8.RuneError for a
// byte that is not UTF-8). For an empty Name, Offset is -1 and Char 0.
type NameError struct {
	Name   string
	Offset int
	Char   rune
}

func (e *NameError) Error() string {
	if e.Offset < 0 {
		return e.describe("name")
	}
	return fmt.Sprintf("%s: %q at byte %d", e.describe("name"), e.Char, e.Offset)
}

// describe states the rule e breaks with what (e.g. "metric name", "tag
// key") in place of "name", as the client's validation errors do.
func (e *NameError) describe(what string) string {
	if e.Offset < 0 {
		return what + " is empty"
	}
	return fmt.Sprintf("%s %q has a character outside the allowed set (%s)", what, e.Name, nameRule)
}

// CheckName reports whether name (a string or a []byte) follows Apptuit's
// rule for metric names and tag keys: non-empty, made of Unicode letters
// and numbers, '.', '-', '_' and '/'. It returns nil or a *NameError
// naming the first character outside the rule and its byte offset. Cost:
// one pass over name; no allocation unless it returns an error.
func CheckName[S ~string | ~[]byte](name S) error {
	if len(name) == 0 {
		return &NameError{Offset: -1}
	}
	if i, c := firstIllegal(name); i >= 0 {
		return &NameError{Name: string(name), Offset: i, Char: c}
	}
	return nil
}

// CleanName returns name with every character outside Apptuit's rule
// (and every byte that is not UTF-8) replaced by '_', one for one, so that
// distinct valid names stay distinct ("a__b" is kept as it is). A valid
// name is returned as is, without allocating; an empty one stays empty,
// which CheckName still refuses. SanitizeApptuit also collapses runs of
// '_', as apptuit-py does.
func CleanName(name string) string {
	i, _ := firstIllegal(name)
	if i < 0 {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	b.WriteString(name[:i])
	for _, r := range name[i:] {
		if !nameRune(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstIllegal returns the byte offset and the character of the first
// character of name outside the rule, or -1.
func firstIllegal[S ~string | ~[]byte](name S) (int, rune) {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if !nameASCII(c) {
				return i, rune(c)
			}
			i++
			continue
		}
		// A string of at most 4 bytes that does not escape: no allocation
		// for a []byte either.
		r, size := utf8.DecodeRuneInString(string(name[i:min(i+utf8.UTFMax, len(name))]))
		if !nameRune(r) {
			return i, r
		}
		i += size
	}
	return -1, 0
}

// nameRune reports whether r may appear in a name; utf8.RuneError (an
// invalid byte, or U+FFFD itself, which is no letter) may not.
func nameRune(r rune) bool {
	if r < utf8.RuneSelf {
		return nameASCII(byte(r))
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r))
}

// nameASCII reports whether the ASCII character c may appear in a name.
func nameASCII(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/'
}
