package apptuit

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxTags is the most tags a point may carry after global tags are merged:
// Apptuit's limit.
const MaxTags = 25

// validName reports whether s follows Apptuit's rule for metric names and tag
// keys: non-empty, made of Unicode letters and numbers, '.', '-', '_' and '/'
// (Python's `[-\w_/.]+` with re.UNICODE). It does not allocate.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return validNameUnicode(s[i:])
		}
		if !asciiNameChar(rune(c)) {
			return false
		}
	}
	return true
}

func validNameUnicode(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if !asciiNameChar(r) {
				return false
			}
			continue
		}
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsNumber(r)) {
			return false
		}
	}
	return true
}

// asciiNameChar reports whether the ASCII character c may appear in a
// name: a letter, a digit, '.', '-', '_' or '/'.
func asciiNameChar(c rune) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '-' || c == '_' || c == '/'
}

// validateName returns an error naming what (e.g. "metric name"), the value
// and the rule when s is not a valid name.
func validateName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if !validName(s) {
		return fmt.Errorf("%s %q has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')", what, s)
	}
	return nil
}

// ValidateMetric reports whether a point with this metric name and tags
// passes the checks Send applies on c: the client's sanitizer is applied to
// the name and the tag keys, its global tags are merged under tags, and
// then the name and keys must follow Apptuit's rule, no tag value may be
// empty and the merged tags must number 1 to MaxTags. It returns nil or a
// *ValidationError whose Index and Point are -1 and whose Rule says what is
// wrong; it does not look at values or timestamps. A valid metric costs no
// allocation.
func (c *Client) ValidateMetric(metric string, tags map[string]string) error {
	if err := validateName("metric name", c.sanitizeName(metric)); err != nil {
		return &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	var buf [8 + MaxTags]kv
	merged, err := c.mergeTags(buf[:0], tags)
	if err == nil {
		err = checkTagCount(len(merged))
	}
	if err != nil {
		return &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	return nil
}

// ValidateMetric is (*Client).ValidateMetric for a client without a
// sanitizer or global tags: metric and the keys of tags must follow
// Apptuit's rule as given, no value may be empty, and there must be 1 to
// MaxTags tags.
func ValidateMetric(metric string, tags map[string]string) error {
	var c Client
	return c.ValidateMetric(metric, tags)
}
