package apptuit

import (
	"bytes"
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// This file turns points into OpenTSDB text lines for a LineTransport:
//
//	[put ]<metric> <timestamp> <value>[ <key>=<value>]...\n
//
// with the client's global tags merged in and tags sorted by key. Values
// are written as the JSON body writes them (Python's repr of a float).

// checkLineName applies the transport's rule for metric names and tag keys
// on top of the client's (Unicode letters and digits, '.', '-', '_', '/'):
// for XCollector, ASCII only.
func (t *LineTransport) checkLineName(what, s string) error {
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

// checkLineTagValue applies the line format's rule to a tag value: a line
// is split at white space and a tag at its first '=', so values may not
// hold white space (Unicode's), '=' or control characters; for XCollector,
// only [-_./a-zA-Z0-9].
func (t *LineTransport) checkLineTagValue(key, v string) error {
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

// appendLineStart writes "[put ]<metric> " and returns it.
func (t *LineTransport) appendLineStart(b []byte, metric string) []byte {
	if t.put {
		b = append(b, "put "...)
	}
	b = append(b, metric...)
	return append(b, ' ')
}

// appendLineTags writes " k=v ...\n" for merged, sorted tags after checking
// them.
func (t *LineTransport) appendLineTags(b []byte, tags []kv) ([]byte, error) {
	for _, kv := range tags {
		if err := t.checkLineName("tag key", kv.k); err != nil {
			return b, err
		}
		if err := t.checkLineTagValue(kv.k, kv.v); err != nil {
			return b, err
		}
		b = append(b, ' ')
		b = append(b, kv.k...)
		b = append(b, '=')
		b = append(b, kv.v...)
	}
	return append(b, '\n'), nil
}

// appendLineTime writes the timestamp (Unix ms, checked by checkTime) as
// the client's precision says, the same bytes as the JSON body's
// "timestamp", and a space.
func appendLineTime(b []byte, ms int64, p Precision) []byte {
	return append(appendTimestamp(b, ms, p), ' ')
}

var errLineTooLong = fmt.Errorf("the line is longer than %d bytes, which OpenTSDB and XCollector refuse", MaxLineBytes)

// sendLinePoints is Send on a client with a line transport.
func (c *Client) sendLinePoints(ctx context.Context, points []DataPoint) error {
	if len(points) == 0 {
		return nil
	}
	t := c.cfg.line
	bp := t.getBuf()
	defer t.putBuf(bp)
	b := (*bp)[:0]
	var scratch []kv
	for i := range points {
		p := &points[i]
		var err error
		scratch, err = c.checkPoint(scratch, p)
		if err == nil {
			b, err = t.appendPointLine(b, c.sanitizeName(p.Metric), p.Timestamp.UnixMilli(), c.cfg.precision, p.Value, scratch)
		}
		if err != nil {
			*bp = b
			return &ValidationError{Index: i, Point: -1, Metric: p.Metric, Rule: err.Error()}
		}
	}
	*bp = b
	return t.write(ctx, c, b)
}

// appendPointLine writes one point's line; ms was checked by checkTime
// for precision p.
func (t *LineTransport) appendPointLine(b []byte, metric string, ms int64, p Precision, v float64, tags []kv) ([]byte, error) {
	if err := t.checkLineName("metric name", metric); err != nil {
		return b, err
	}
	start := len(b)
	b = t.appendLineStart(b, metric)
	b = appendLineTime(b, ms, p)
	b = appendPyFloat(b, v)
	b, err := t.appendLineTags(b, tags)
	if err == nil && len(b)-start-1 > MaxLineBytes {
		err = errLineTooLong
	}
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// sendLineSeries is SendTimeSeries on a client with a line transport: each
// series' start and tags are encoded and checked once.
func (c *Client) sendLineSeries(ctx context.Context, series []*TimeSeries) error {
	t := c.cfg.line
	bp := t.getBuf()
	defer t.putBuf(bp)
	b := (*bp)[:0]
	defer func() { *bp = b }()
	var scratch, head, tail []byte
	var tags []kv
	for i, s := range series {
		if s == nil {
			return &ValidationError{Index: i, Point: -1, Rule: "series is nil"}
		}
		if s.Len() == 0 {
			continue
		}
		metric := c.sanitizeName(s.metric)
		err := checkName("metric name", metric)
		if err == nil {
			err = t.checkLineName("metric name", metric)
		}
		if err == nil {
			tags, err = c.mergeTags(tags, s.tags)
		}
		if err == nil {
			err = checkTagCount(len(tags))
		}
		if err == nil {
			tail, err = t.appendLineTags(tail[:0], tags)
		}
		if err != nil {
			return &ValidationError{Index: i, Point: -1, Metric: s.metric, Rule: err.Error()}
		}
		head = t.appendLineStart(head[:0], metric)
		for j, v := range s.vals {
			err := c.checkSample(v, s.ts[j])
			if err == nil {
				scratch = appendPyFloat(appendLineTime(scratch[:0], s.ts[j], c.cfg.precision), v)
				if len(head)+len(scratch)+len(tail)-1 > MaxLineBytes {
					err = errLineTooLong
				}
			}
			if err != nil {
				return &ValidationError{Index: i, Point: j, Metric: s.metric, Rule: err.Error()}
			}
			b = append(b, head...)
			b = append(b, scratch...)
			b = append(b, tail...)
		}
	}
	if len(b) == 0 {
		return nil
	}
	return t.write(ctx, c, b)
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

// sendLinePrepared is SendPrepared on a client with a line transport: each
// series' line start and each set of tags is encoded and checked once per
// call.
func (c *Client) sendLinePrepared(ctx context.Context, points []PreparedPoint) error {
	if len(points) == 0 {
		return nil
	}
	t := c.cfg.line
	bp := t.getBuf()
	defer t.putBuf(bp)
	b := (*bp)[:0]
	defer func() { *bp = b }()
	heads := make(map[*PreparedSeries][]byte)
	tails := make(map[*preparedTags][]byte)
	var scratch []byte
	var merged []kv
	for i := range points {
		p := &points[i]
		if p.Series == nil {
			return &ValidationError{Index: i, Point: -1, Rule: "series is nil"}
		}
		fail := func(err error) error {
			return &ValidationError{Index: i, Point: -1, Metric: p.Series.metric(), Rule: err.Error()}
		}
		if p.Series.c != c {
			return fail(fmt.Errorf("series was prepared by another client (its encoding holds that client's sanitizer and global tags)"))
		}
		head, ok := heads[p.Series]
		if !ok {
			name := c.sanitizeName(p.Series.metric())
			if err := t.checkLineName("metric name", name); err != nil {
				return fail(err)
			}
			head = t.appendLineStart(nil, name)
			heads[p.Series] = head
		}
		tail, ok := tails[p.Series.tags]
		if !ok {
			given := make(map[string]string, len(p.Series.tags.given))
			for _, kv := range p.Series.tags.given {
				given[kv.k] = kv.v
			}
			var err error
			if merged, err = c.mergeTags(merged, given); err != nil {
				return fail(err)
			}
			if tail, err = t.appendLineTags(nil, merged); err != nil {
				return fail(err)
			}
			tails[p.Series.tags] = tail
		}
		err := c.checkSample(p.Value, p.UnixMilli)
		if err == nil {
			scratch = appendPyFloat(appendLineTime(scratch[:0], p.UnixMilli, c.cfg.precision), p.Value)
			if len(head)+len(scratch)+len(tail)-1 > MaxLineBytes {
				err = errLineTooLong
			}
		}
		if err != nil {
			return fail(err)
		}
		b = append(b, head...)
		b = append(b, scratch...)
		b = append(b, tail...)
	}
	return t.write(ctx, c, b)
}
