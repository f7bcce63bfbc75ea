package opentsdb

import (
	"encoding/json"
	"io"
	"unicode/utf8"
)

// putParser reads a put body (one JSON object or an array of them) as a
// stream, in one pass, and hands each data point to emit as soon as its
// closing brace is read. It keeps only the current point's metric,
// timestamp, value and tags (at most maxPointText bytes) and a 32 KiB read
// buffer: the values of unknown fields are checked and skipped, never kept.
//
// Its judgement is that of encoding/json on the whole body, as the fake
// used before it decoded bodies this way (a differential fuzz test holds it
// to that): the same syntax, string decoding (escapes, invalid UTF-8 as
// U+FFFD), nesting limit (10000) and "last duplicate key wins"; plus
// Python's bare NaN, Infinity and -Infinity tokens read as strings wherever
// a string may stand.
type putParser struct {
	src  io.Reader
	buf  []byte
	i, n int
	rerr bool // src failed with an error other than io.EOF
	eof  bool

	depth    int
	tooLarge bool // the current point passed maxPointText
	arena    []byte
	key      []byte
	pt       rawPoint
	emit     func(arena []byte, p *rawPoint)
}

// maxPointText bounds what one data point may hold: its metric, timestamp,
// value, tag keys and values (16 bytes more per tag). A point over it is a
// whole-body error.
const maxPointText = 64 << 10

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// span is a range of putParser.arena.
type span struct{ lo, hi int }

// rawPoint is one data point as read: the text of its scalars (a number as
// written, a string decoded), before any check.
type rawPoint struct {
	metric, ts, value span
	tsNull, valueNull bool
	tagsPresent       bool // tags given and not null
	tags              []rawTag
	// badType names a field whose value is an object or array where a
	// scalar belongs (tags: anything but an object or null). As in
	// encoding/json's reading of the object into a map, a later duplicate of
	// the field replaces it; one left at the end fails the whole body.
	metricBad, tsBad, valueBad, tagsBad bool
}

type rawTag struct {
	k, v span
	null bool
	bad  bool // an object or array
}

// badType reports whether a field of p (or a tag value kept after
// de-duplication, checked by the caller) holds the wrong kind of value.
func (p *rawPoint) badType() bool { return p.metricBad || p.tsBad || p.valueBad || p.tagsBad }

// parseOutcome is the judgement of a body; parseRead means the stream
// failed before the end and the caller decides from its reader's error.
type parseOutcome int

const (
	parseOK parseOutcome = iota
	parseMissing
	parseMustStart
	parseUnparsable
	parseNoPoints
	parseTooLarge
	parseRead
)

func newPutParser(src io.Reader, emit func([]byte, *rawPoint)) *putParser {
	return &putParser{src: src, buf: make([]byte, 32<<10), emit: emit}
}

// fill reads more input; it reports whether some is buffered.
func (p *putParser) fill() bool {
	if p.i < p.n {
		return true
	}
	for !p.eof && !p.rerr {
		n, err := p.src.Read(p.buf)
		p.i, p.n = 0, n
		if err == io.EOF {
			p.eof = true
		} else if err != nil {
			p.rerr = true
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// nonWS skips JSON whitespace and returns the next byte, not consumed.
func (p *putParser) nonWS() (byte, bool) {
	for p.fill() {
		for ; p.i < p.n; p.i++ {
			switch c := p.buf[p.i]; c {
			case ' ', '\t', '\n', '\r':
			default:
				return c, true
			}
		}
	}
	return 0, false
}

// next consumes and returns one byte.
func (p *putParser) next() (byte, bool) {
	if !p.fill() {
		return 0, false
	}
	c := p.buf[p.i]
	p.i++
	return c, true
}

// failure names why parsing stopped.
func (p *putParser) failure() parseOutcome {
	switch {
	case p.rerr:
		return parseRead
	case p.tooLarge:
		return parseTooLarge
	}
	return parseUnparsable
}

// parse reads the whole body and judges it.
func (p *putParser) parse() parseOutcome {
	c, ok := p.nonWS()
	if !ok {
		if p.rerr {
			return parseRead
		}
		return parseMissing
	}
	empty := false
	switch c {
	case '{':
		if !p.point() {
			return p.failure()
		}
	case '[':
		p.i++
		p.depth = 1
		if c, ok = p.nonWS(); !ok {
			return p.failure()
		}
		if c == ']' {
			p.i++
			empty = true
			break
		}
		for {
			if c != '{' || !p.point() {
				return p.failure()
			}
			if c, ok = p.nonWS(); !ok {
				return p.failure()
			}
			p.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return p.failure()
			}
			if c, ok = p.nonWS(); !ok {
				return p.failure()
			}
		}
	default:
		return parseMustStart
	}
	if _, ok := p.nonWS(); ok {
		return parseUnparsable // data after the JSON value
	}
	switch {
	case p.rerr:
		return parseRead
	case empty:
		return parseNoPoints
	}
	return parseOK
}

func (p *putParser) push() bool {
	p.depth++
	return p.depth <= maxDepth
}

// point reads one data point object (at '{') and emits it.
func (p *putParser) point() bool {
	p.i++
	if !p.push() {
		return false
	}
	p.arena = p.arena[:0]
	p.pt = rawPoint{tags: p.pt.tags[:0]}
	p.tooLarge = false
	c, ok := p.nonWS()
	if !ok {
		return false
	}
	if c == '}' {
		p.i++
	} else {
		for {
			name, ok := p.fieldName()
			if !ok || !p.colon() {
				return false
			}
			switch name {
			case fieldMetric:
				s, null, bad, ok := p.scalar()
				if !ok {
					return false
				}
				if null {
					s = span{}
				}
				p.pt.metric, p.pt.metricBad = s, bad
			case fieldTimestamp:
				if p.pt.ts, p.pt.tsNull, p.pt.tsBad, ok = p.scalar(); !ok {
					return false
				}
			case fieldValue:
				if p.pt.value, p.pt.valueNull, p.pt.valueBad, ok = p.scalar(); !ok {
					return false
				}
			case fieldTags:
				if !p.tags() {
					return false
				}
			default:
				if !p.skipValue() {
					return false
				}
			}
			if c, ok = p.nonWS(); !ok {
				return false
			}
			p.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return false
			}
			if _, ok = p.nonWS(); !ok {
				return false
			}
		}
	}
	p.depth--
	p.emit(p.arena, &p.pt)
	return true
}

// The fields of a point.
const (
	fieldOther = iota
	fieldMetric
	fieldTimestamp
	fieldValue
	fieldTags
)

// fieldName reads an object key and says which field of a point it names.
func (p *putParser) fieldName() (int, bool) {
	p.key = p.key[:0]
	over, ok := p.stringOrBare(&p.key, 64)
	if !ok || over { // over: longer than any field name, even written with escapes
		return fieldOther, ok
	}
	switch string(p.key) {
	case "metric":
		return fieldMetric, true
	case "timestamp":
		return fieldTimestamp, true
	case "value":
		return fieldValue, true
	case "tags":
		return fieldTags, true
	}
	return fieldOther, true
}

func (p *putParser) colon() bool {
	c, ok := p.nonWS()
	if !ok || c != ':' {
		return false
	}
	p.i++
	_, ok = p.nonWS()
	return ok
}

// room returns how many more bytes the current point may keep: each tag
// costs 16 bytes besides its text, so that a flood of empty keys is bounded
// too.
func (p *putParser) room() int { return maxPointText - len(p.arena) - 16*len(p.pt.tags) }

// keep appends b to the arena within the point's room.
func (p *putParser) keep(b ...byte) bool {
	if len(b) > p.room() {
		p.tooLarge = true
		return false
	}
	p.arena = append(p.arena, b...)
	return true
}

// scalar reads a value where a scalar belongs (at its first byte) into the
// arena: a string's decoded text, a number, true or false as written, a
// bare NaN/Infinity/-Infinity as that word. null gives null=true; an object
// or array is checked, skipped and reported as bad.
func (p *putParser) scalar() (s span, null, bad, ok bool) {
	c := p.buf[p.i]
	lo := len(p.arena)
	switch {
	case c == '"' || c == 'N' || c == 'I' || (c == '-' && p.peek2() == 'I'):
		over, ok := p.stringOrBare(&p.arena, p.room())
		if over {
			p.tooLarge = true
		}
		return span{lo, len(p.arena)}, false, false, ok && !over
	case c == '-' || (c >= '0' && c <= '9'):
		ok := p.number(true) && !p.tooLarge
		return span{lo, len(p.arena)}, false, false, ok
	case c == 't':
		ok := p.literal("true") && p.keep([]byte("true")...)
		return span{lo, len(p.arena)}, false, false, ok
	case c == 'f':
		ok := p.literal("false") && p.keep([]byte("false")...)
		return span{lo, len(p.arena)}, false, false, ok
	case c == 'n':
		return span{lo, lo}, true, false, p.literal("null")
	case c == '{' || c == '[':
		return span{lo, lo}, false, true, p.skipValue()
	}
	return span{}, false, false, false
}

// peek2 returns the byte after the current one (0 if none).
func (p *putParser) peek2() byte {
	if p.i+1 < p.n {
		return p.buf[p.i+1]
	}
	// Rare: the byte is in the next read. Move the current byte to the
	// front and read more behind it.
	c := p.buf[p.i]
	p.buf[0], p.i, p.n = c, 0, 1
	for !p.eof && !p.rerr && p.n < 2 {
		n, err := p.src.Read(p.buf[1:])
		p.n += n
		if err == io.EOF {
			p.eof = true
		} else if err != nil {
			p.rerr = true
		}
	}
	if p.n < 2 {
		return 0
	}
	return p.buf[1]
}

// literal consumes the exact word w.
func (p *putParser) literal(w string) bool {
	for i := 0; i < len(w); i++ {
		if c, ok := p.next(); !ok || c != w[i] {
			return false
		}
	}
	return true
}

// stringOrBare reads a string (at '"') or a bare NaN, Infinity or -Infinity
// token, appending its decoded text to *dst while it fits in limit bytes
// (over reports that it did not; the input is still checked and consumed).
func (p *putParser) stringOrBare(dst *[]byte, limit int) (over, ok bool) {
	c, ok := p.nonWS()
	if !ok {
		return false, false
	}
	if c != '"' {
		var w string
		switch c {
		case 'N':
			w = "NaN"
		case 'I':
			w = "Infinity"
		case '-':
			w = "-Infinity"
		default:
			return false, false
		}
		if !p.literal(w) {
			return false, false
		}
		if len(w) > limit {
			return true, true
		}
		*dst = append(*dst, w...)
		return false, true
	}
	return p.str(dst, limit)
}

// str reads a JSON string at its opening quote.
func (p *putParser) str(dst *[]byte, limit int) (over, ok bool) {
	p.i++
	lo := len(*dst)
	plain := true // no escape and no byte >= 0x80: the raw text is the value
	for {
		if !p.fill() {
			return false, false
		}
		// Copy the run of ordinary bytes at once.
		j := p.i
		for j < p.n {
			c := p.buf[j]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			if c >= 0x80 {
				plain = false
			}
			j++
		}
		if !over {
			if len(*dst)-lo+j-p.i > limit {
				over = true
			} else {
				*dst = append(*dst, p.buf[p.i:j]...)
			}
		}
		p.i = j
		if j == p.n {
			continue
		}
		switch c := p.buf[p.i]; {
		case c == '"':
			p.i++
			if over || plain {
				return over, true
			}
			return p.decode(dst, lo, limit), true
		case c < 0x20:
			return false, false
		default: // backslash
			plain = false
			esc := [6]byte{'\\'}
			p.i++
			e, ok := p.next()
			if !ok {
				return false, false
			}
			esc[1] = e
			n := 2
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for ; n < 6; n++ {
					h, ok := p.next()
					if !ok || !isHex(h) {
						return false, false
					}
					esc[n] = h
				}
			default:
				return false, false
			}
			if !over {
				if len(*dst)-lo+n > limit {
					over = true
				} else {
					*dst = append(*dst, esc[:n]...)
				}
			}
		}
	}
}

// decode replaces the raw string text (*dst)[lo:] by its value, exactly as
// encoding/json decodes it. It reports whether the value fits in limit.
func (p *putParser) decode(dst *[]byte, lo, limit int) (over bool) {
	raw := (*dst)[lo:]
	if !hasByte(raw, '\\') && utf8.Valid(raw) {
		return false
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		// Cannot happen: the syntax was checked.
		s = string(raw)
	}
	if len(s) > limit {
		*dst = (*dst)[:lo]
		return true
	}
	*dst = append((*dst)[:lo], s...)
	return false
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads a JSON number (at '-' or a digit), kept as written when
// keep is set.
func (p *putParser) number(keep bool) bool {
	put := func(c byte) bool {
		if keep {
			return p.keep(c)
		}
		return true
	}
	digit := func() (byte, bool) {
		if !p.fill() {
			return 0, false
		}
		c := p.buf[p.i]
		return c, c >= '0' && c <= '9'
	}
	digits := func() bool {
		n := 0
		for p.fill() {
			j := p.i
			for j < p.n && p.buf[j] >= '0' && p.buf[j] <= '9' {
				j++
			}
			if keep && !p.keep(p.buf[p.i:j]...) {
				return false
			}
			n += j - p.i
			p.i = j
			if j < p.n {
				break
			}
		}
		return n > 0 && !p.tooLarge
	}
	c := p.buf[p.i]
	if c == '-' {
		if !put(c) {
			return false
		}
		p.i++
	}
	if c, ok := digit(); !ok {
		return false
	} else if c == '0' {
		if !put(c) {
			return false
		}
		p.i++
	} else if !digits() {
		return false
	}
	if p.fill() && p.buf[p.i] == '.' {
		if !put('.') {
			return false
		}
		p.i++
		if !digits() {
			return false
		}
	}
	if p.fill() && (p.buf[p.i] == 'e' || p.buf[p.i] == 'E') {
		if !put(p.buf[p.i]) {
			return false
		}
		p.i++
		if p.fill() && (p.buf[p.i] == '+' || p.buf[p.i] == '-') {
			if !put(p.buf[p.i]) {
				return false
			}
			p.i++
		}
		if !digits() {
			return false
		}
	}
	return !p.rerr
}

// tags reads the tags field's value (at its first byte): null, or an object
// of scalar values (null allowed). Anything else is checked, skipped and
// marked bad.
func (p *putParser) tags() bool {
	c := p.buf[p.i]
	p.pt.tags = p.pt.tags[:0]
	p.pt.tagsPresent, p.pt.tagsBad = false, false
	if c == 'n' {
		return p.literal("null")
	}
	if c != '{' {
		p.pt.tagsBad = true
		return p.skipValue()
	}
	p.i++
	if !p.push() {
		return false
	}
	p.pt.tagsPresent = true
	c, ok := p.nonWS()
	if !ok {
		return false
	}
	if c == '}' {
		p.i++
		p.depth--
		return true
	}
	for {
		if p.room() < 16 {
			p.tooLarge = true
			return false
		}
		lo := len(p.arena)
		over, ok := p.stringOrBare(&p.arena, p.room()-16)
		if over {
			p.tooLarge = true
		}
		if !ok || over || !p.colon() {
			return false
		}
		k := span{lo, len(p.arena)}
		v, null, bad, ok := p.scalar()
		if !ok {
			return false
		}
		p.pt.tags = append(p.pt.tags, rawTag{k: k, v: v, null: null, bad: bad})
		if c, ok = p.nonWS(); !ok {
			return false
		}
		p.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return false
		}
		if _, ok = p.nonWS(); !ok {
			return false
		}
	}
	p.depth--
	return true
}

// skipValue checks and consumes any JSON value (at its first byte) without
// keeping it.
func (p *putParser) skipValue() bool {
	var none []byte
	c := p.buf[p.i]
	switch {
	case c == '"' || c == 'N' || c == 'I' || (c == '-' && p.peek2() == 'I'):
		_, ok := p.stringOrBare(&none, -1)
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(false)
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '{' || c == '[':
		p.i++
		if !p.push() {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		c, ok := p.nonWS()
		if !ok {
			return false
		}
		if c == end {
			p.i++
			p.depth--
			return true
		}
		for {
			if end == '}' {
				if _, ok := p.stringOrBare(&none, -1); !ok || !p.colon() {
					return false
				}
			}
			if !p.skipValue() {
				return false
			}
			if c, ok = p.nonWS(); !ok {
				return false
			}
			p.i++
			if c == end {
				break
			}
			if c != ',' {
				return false
			}
			if _, ok = p.nonWS(); !ok {
				return false
			}
		}
		p.depth--
		return true
	}
	return false
}
