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
	points := 0
	switch c {
	case '{':
		if !p.point() {
			return p.failure()
		}
		points++
	case '[':
		p.i++
		p.depth = 1
		if !p.members(']', func() bool {
			points++
			return p.buf[p.i] == '{' && p.point()
		}) {
			return p.failure()
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
	case points == 0:
		return parseNoPoints
	}
	return parseOK
}

func (p *putParser) push() bool {
	p.depth++
	return p.depth <= maxDepth
}

// members reads the rest of an object or array whose opening byte is
// consumed and pushed: the members, each read by member at its first byte
// (for an object, at its key), separated by commas, up to and including
// the closing byte end. It pops the depth.
func (p *putParser) members(end byte, member func() bool) bool {
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
		if !member() {
			return false
		}
		if c, ok = p.nonWS(); !ok {
			return false
		}
		p.i++
		if c == end {
			p.depth--
			return true
		}
		if c != ',' {
			return false
		}
		if _, ok = p.nonWS(); !ok {
			return false
		}
	}
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
	if !p.members('}', p.field) {
		return false
	}
	p.emit(p.arena, &p.pt)
	return true
}

// field reads one field of a point (at its name) into p.pt; the values of
// fields a point does not have are checked and skipped.
func (p *putParser) field() bool {
	name, ok := p.fieldName()
	if !ok || !p.colon() {
		return false
	}
	switch name {
	case fieldMetric:
		s, null, bad, ok := p.scalar()
		if null {
			s = span{}
		}
		p.pt.metric, p.pt.metricBad = s, bad
		return ok
	case fieldTimestamp:
		p.pt.ts, p.pt.tsNull, p.pt.tsBad, ok = p.scalar()
		return ok
	case fieldValue:
		p.pt.value, p.pt.valueNull, p.pt.valueBad, ok = p.scalar()
		return ok
	case fieldTags:
		return p.tags()
	}
	return p.skipValue()
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
	case p.atString():
		over, ok := p.stringOrBare(&p.arena, p.room())
		if over {
			p.tooLarge = true
		}
		return span{lo, len(p.arena)}, false, false, ok && !over
	case c == '-' || isDigit(c):
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

// atString reports whether a string or a bare NaN, Infinity or -Infinity
// token starts at the current byte.
func (p *putParser) atString() bool {
	c := p.buf[p.i]
	return c == '"' || c == 'N' || c == 'I' || (c == '-' && p.peek2() == 'I')
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
		j, ascii := p.ordinary()
		plain = plain && ascii
		over = within(dst, lo, limit, over, p.buf[p.i:j])
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
		}
		plain = false
		esc, n, ok := p.escape()
		if !ok {
			return false, false
		}
		over = within(dst, lo, limit, over, esc[:n])
	}
}

// ordinary returns the end of the run of ordinary string bytes at p.i (up
// to a quote, a backslash, a control byte or the end of the buffer) and
// whether they are all ASCII.
func (p *putParser) ordinary() (end int, ascii bool) {
	ascii = true
	for end = p.i; end < p.n; end++ {
		c := p.buf[end]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return end, ascii
}

// escape reads a string's escape sequence (at its backslash) and returns
// its text as written, in esc[:n].
func (p *putParser) escape() (esc [6]byte, n int, ok bool) {
	esc[0] = '\\'
	p.i++
	e, ok := p.next()
	if !ok {
		return esc, 0, false
	}
	esc[1] = e
	switch e {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return esc, 2, true
	case 'u':
		for n = 2; n < 6; n++ {
			h, ok := p.next()
			if !ok || !isHex(h) {
				return esc, 0, false
			}
			esc[n] = h
		}
		return esc, n, true
	}
	return esc, 0, false
}

// within appends b to the string text (*dst)[lo:] unless that is over
// already or would pass limit; it returns whether the text is over.
func within(dst *[]byte, lo, limit int, over bool, b []byte) bool {
	if over || len(*dst)-lo+len(b) > limit {
		return true
	}
	*dst = append(*dst, b...)
	return false
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
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads a JSON number (at '-' or a digit), kept as written when
// keep is set.
func (p *putParser) number(keep bool) bool {
	if p.buf[p.i] == '-' && !p.take(keep) {
		return false
	}
	if !p.fill() {
		return false
	}
	if p.buf[p.i] == '0' { // no digit may follow a leading 0
		if !p.take(keep) {
			return false
		}
	} else if !p.digits(keep) {
		return false
	}
	if p.fill() && p.buf[p.i] == '.' && !(p.take(keep) && p.digits(keep)) {
		return false
	}
	if p.at('e', 'E') {
		if !p.take(keep) || (p.at('+', '-') && !p.take(keep)) || !p.digits(keep) {
			return false
		}
	}
	return !p.rerr
}

// at reports whether the next byte is a or b (not consumed).
func (p *putParser) at(a, b byte) bool {
	return p.fill() && (p.buf[p.i] == a || p.buf[p.i] == b)
}

// take consumes the current byte, kept in the arena when keep is set.
func (p *putParser) take(keep bool) bool {
	if keep && !p.keep(p.buf[p.i]) {
		return false
	}
	p.i++
	return true
}

// digits consumes a run of at least one decimal digit, kept in the arena
// when keep is set.
func (p *putParser) digits(keep bool) bool {
	n := 0
	for p.fill() {
		j := p.i
		for j < p.n && isDigit(p.buf[j]) {
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
	return p.members('}', p.tag)
}

// tag reads one tag (at its key) into p.pt.tags.
func (p *putParser) tag() bool {
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
	return true
}

// skipValue checks and consumes any JSON value (at its first byte) without
// keeping it.
func (p *putParser) skipValue() bool {
	var none []byte
	c := p.buf[p.i]
	switch {
	case p.atString():
		_, ok := p.stringOrBare(&none, -1)
		return ok
	case c == '-' || isDigit(c):
		return p.number(false)
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '[':
		p.i++
		return p.push() && p.members(']', p.skipValue)
	case c == '{':
		p.i++
		return p.push() && p.members('}', p.skipMember)
	}
	return false
}

// skipMember checks and consumes an object's member (at its key) without
// keeping it.
func (p *putParser) skipMember() bool {
	var none []byte
	_, ok := p.stringOrBare(&none, -1)
	return ok && p.colon() && p.skipValue()
}
