// Package metricname encodes and decodes metric names that carry their tags,
// in the form apptuit-py's encode_metric writes: name{"k1": "v1", "k2": "v2"}.
//
// It is shared by package apptuit (EncodeMetric, DecodeMetric) and package
// metrics (which keys its registry by the canonical encoded form).
package metricname

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Encode returns name followed by tags as Python's json.dumps(tags,
// sort_keys=True) prints them: keys sorted, ", " and ": " separators, and
// strings escaped with ensure_ascii (non-ASCII as \uXXXX). A nil or empty map
// encodes as "{}". An empty name is an error.
func Encode(name string, tags map[string]string) (string, error) {
	if name == "" {
		return "", errors.New("metric name is empty")
	}
	return string(AppendEncoded(make([]byte, 0, len(name)+2+16*len(tags)), name, tags)), nil
}

// AppendEncoded appends the encoded form of name and tags to b. It does not
// check name. It allocates nothing beyond b's growth for up to 8 tags.
func AppendEncoded(b []byte, name string, tags map[string]string) []byte {
	b = append(b, name...)
	b = append(b, '{')
	var arr [8]string
	keys := arr[:0]
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendPyString(b, k)
		b = append(b, ": "...)
		b = AppendPyString(b, tags[k])
	}
	return append(b, '}')
}

// SortedKeys returns the keys of m in ascending order.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const hexDigits = "0123456789abcdef"

// AppendPyString appends s as a JSON string the way Python's json.dumps does
// with ensure_ascii=True: quotes, backslash and control characters escaped,
// every non-ASCII rune as \uXXXX (UTF-16 surrogate pairs above U+FFFF).
// Invalid UTF-8 bytes are written as U+FFFD. A string with nothing to
// escape is copied as is.
func AppendPyString(b []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 { // 8 bytes at a time while none needs escaping
		if needsEscape8(binary.LittleEndian.Uint64([]byte(s[i : i+8]))) {
			break
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
		i++
	}
	b = append(b, '"')
	b = append(b, s[:i]...)
	if i == len(s) {
		return append(b, '"')
	}
	return appendEscaped(b, s[i:])
}

// needsEscape8 reports whether one of the 8 bytes of x is a control
// character, DEL or above, a quote or a backslash: the bytes that
// AppendPyString does not copy as they are. (Each test is exact: it has
// no false positives.)
func needsEscape8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	below := (x - ones*0x20) &^ x & highs      // a byte < 0x20
	above := (x + ones*(127-0x7e) | x) & highs // a byte > 0x7e
	return below|above|zero(x^(ones*'"'))|zero(x^(ones*'\\')) != 0
}

// appendEscaped appends s escaped, then the closing quote.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b = append(b, '\\', '"')
			case c == '\\':
				b = append(b, '\\', '\\')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20 || c == 0x7f: // Python escapes all but ' '..'~'.
				b = appendU(b, rune(c))
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			b = appendU(b, 0xd800+(r>>10))
			b = appendU(b, 0xdc00+(r&0x3ff))
			continue
		}
		b = appendU(b, r)
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// Decode splits an encoded name into the metric name and its tags. Without a
// '{' the whole trimmed string is the name and tags is nil. The part from the
// first '{' must be a JSON object of string values. Empty input is an error.
func Decode(s string) (name string, tags map[string]string, err error) {
	if strings.TrimSpace(s) == "" {
		return "", nil, errors.New("encoded metric name is empty")
	}
	brace := strings.IndexByte(s, '{')
	if brace < 0 {
		return strings.TrimSpace(s), nil, nil
	}
	name = strings.TrimSpace(s[:brace])
	if name == "" {
		return "", nil, fmt.Errorf("encoded metric name %q has no name before '{'", s)
	}
	if err := json.Unmarshal([]byte(s[brace:]), &tags); err != nil {
		return "", nil, fmt.Errorf("encoded metric name %q: tags are not a JSON object of strings: %w", s, err)
	}
	return name, tags, nil
}

// Cache memoises Decode for up to a fixed number of distinct inputs. When full
// it is cleared and refilled, so memory stays bounded whatever the input.
// Callers must not modify the returned tags map. A Cache is safe for
// concurrent use; the zero value is not usable, use NewCache.
type Cache struct {
	mu  sync.RWMutex
	max int
	m   map[string]decoded
}

type decoded struct {
	name string
	tags map[string]string
}

// NewCache returns a Cache holding at most max entries (at least 1).
func NewCache(max int) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, m: make(map[string]decoded)}
}

// Decode is Decode with memoisation. Errors are not cached. A hit costs one
// map lookup under a read lock and no allocation.
func (c *Cache) Decode(s string) (string, map[string]string, error) {
	c.mu.RLock()
	d, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return d.name, d.tags, nil
	}
	name, tags, err := Decode(s)
	if err != nil {
		return "", nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[s] = decoded{name, tags}
	c.mu.Unlock()
	return name, tags, nil
}

// Len reports how many entries the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
