package apptuit

import (
	"bytes"
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// This file is the line encoder: it turns a call's points into OpenTSDB
// text lines for a LineTransport,
//
//	[put ]<metric> <timestamp> <value>[ <key>=<value>]...\n
//
// with the client's global tags merged in and tags sorted by key, and
// holds the rules the line format adds to the client's. Timestamps and
// values are written as in the JSON body (appendTimestamp, appendPyFloat).

// checkSeries applies the line format's rules to a series' name and merged
// tags, on top of the client's (checkSeries in validate.go).
func (t *LineTransport) checkSeries(name string, tags []kv) error {
	if err := t.checkName("metric name", name); err != nil {
		return err
	}
	for _, kv := range tags {
		if err := t.checkName("tag key", kv.k); err != nil {
			return err
		}
		if err := t.checkTagValue(kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// checkName applies the transport's rule for metric names and tag keys
// on top of the client's (Unicode letters and digits, '.', '-', '_', '/'):
// for XCollector, ASCII only.
func (t *LineTransport) checkName(what, s string) error {
	if !t.ascii {
		return nil // the client's rule has no white space, '=' or control characters
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return fmt.Errorf("%s %q has a non-ASCII character, which XCollector refuses (it takes [-_./a-zA-Z0-9])", what, s)
		}
	}
	return nil
}

// checkTagValue applies the line format's rule to a tag value: a line
// is split at white space and a tag at its first '=', so values may not
// hold white space (Unicode's), '=' or control characters; for XCollector,
// only [-_./a-zA-Z0-9].
func (t *LineTransport) checkTagValue(key, v string) error {
	if t.ascii {
		for _, r := range v {
			if r >= utf8.RuneSelf || !nameRune(r) {
				return fmt.Errorf("tag %q value %q has %q, which XCollector refuses in a tag value (it takes [-_./a-zA-Z0-9])", key, v, r)
			}
		}
		return nil
	}
	if printableASCII(v) {
		return nil // the common case
	}
	for i, r := range v {
		switch {
		case r == utf8.RuneError && !validRuneAt(v, i):
			return fmt.Errorf("tag %q value %q is not valid UTF-8", key, v)
		case unicode.IsSpace(r):
			return fmt.Errorf("tag %q value %q has white space (%q), which would split the line", key, v, r)
		case r == '=':
			return fmt.Errorf("tag %q value %q has '=', which the line format cannot carry in a tag value", key, v)
		case unicode.IsControl(r):
			return fmt.Errorf("tag %q value %q has the control character %q", key, v, r)
		}
	}
	return nil
}

// printableASCII reports whether s is made of ASCII characters from '!'
// to '~' other than '='.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '=' {
			return false
		}
	}
	return true
}

// validRuneAt reports whether the RuneError at s[i] is the character
// U+FFFD as written, rather than an invalid byte.
func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}

// appendHead writes a series' head, "[put ]<name>".
func (t *LineTransport) appendHead(b []byte, name string) []byte {
	if t.put {
		b = append(b, "put "...)
	}
	return append(b, name...)
}

// appendTags writes a series' tags, " k=v ...\n" (checked, sorted).
func (t *LineTransport) appendTags(b []byte, tags []kv) []byte {
	for _, kv := range tags {
		b = append(b, ' ')
		b = append(b, kv.k...)
		b = append(b, '=')
		b = append(b, kv.v...)
	}
	return append(b, '\n')
}

var errLineTooLong = fmt.Errorf("the line is longer than %d bytes, which OpenTSDB and XCollector refuse", MaxLineBytes)

// send writes the lines of the points of src (checked) over t: all the
// call's lines are encoded first, so that a line too long is a
// *ValidationError and nothing is sent.
func (t *LineTransport) send(ctx context.Context, c *Client, src pointSet) error {
	bp := t.getBuf()
	defer t.putBuf(bp)
	var scr scratch
	b, bad := appendLines((*bp)[:0], src, &scr, c.cfg.precision)
	*bp = b
	if bad >= 0 {
		return src.invalid(bad, errLineTooLong)
	}
	return t.write(ctx, c, b, src.len())
}

// appendLines is the line encoder: it appends the lines of every point of
// src to b, each its series' head and pre part (see PreparedSeries), its
// timestamp, a space, its value and its series' post part. It stops at a point whose line would be longer than
// MaxLineBytes and returns its index, else -1. Cost: O(points); no
// allocation but b's growth.
func appendLines(b []byte, src pointSet, scr *scratch, prec Precision) ([]byte, int) {
	for i, n := 0, src.len(); i < n; {
		pts, _ := src.read(i, n-i, scr)
		for j := range pts {
			p, start := &pts[j], len(b)
			b = append(b, p.Series.head...)
			b = append(b, p.Series.tags.pre...)
			b = append(appendTimestamp(b, p.UnixMilli, prec), ' ')
			b = appendPyFloat(b, p.Value)
			b = append(b, p.Series.tags.post...)
			if len(b)-start-1 > MaxLineBytes {
				return b[:start], i + j
			}
		}
		i += len(pts)
	}
	return b, -1
}

func (t *LineTransport) getBuf() *[]byte {
	if v := t.bufs.Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// maxPooledLineBuf keeps a huge Send from pinning its buffer.
const maxPooledLineBuf = 4 << 20

func (t *LineTransport) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledLineBuf {
		t.bufs.Put(b)
	}
}

// splitLines returns the end of the longest run of whole lines of b[off:]
// that fits in n bytes (at least one line).
func splitLines(b []byte, off, n int) int {
	if len(b)-off <= n {
		return len(b)
	}
	if i := bytes.LastIndexByte(b[off:off+n], '\n'); i >= 0 {
		return off + i + 1
	}
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(b)
}
