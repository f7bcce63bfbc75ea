package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// position is where a point or an error is in the input: a line, and for
// JSON a column (in characters, from 1) and the element's number.
type position struct {
	line, col int
	elem      int // JSON: the element's number, from 1; 0 for a telnet line
}

func (p position) String() string {
	if p.elem == 0 {
		return fmt.Sprintf("line %d", p.line)
	}
	return fmt.Sprintf("line %d, column %d (point %d)", p.line, p.col, p.elem)
}

// inputPoint is a parsed point and where it came from.
type inputPoint struct {
	apptuit.DataPoint
	at   position
	text string // the line or element, clipped and escaped
}

// inputError is a malformed line or JSON element, or where the input
// could not be read further.
type inputError struct {
	at   position
	msg  string
	text string // clipped and escaped; "" for none
}

func (e *inputError) Error() string {
	if e.text == "" {
		return fmt.Sprintf("%v: %s", e.at, e.msg)
	}
	return fmt.Sprintf("%v: %s: %s", e.at, e.msg, e.text)
}

// maxLine is the longest line, or JSON element, send reads: a longer line
// is reported and skipped, a longer JSON element ends the reading.
const maxLine = 1 << 20

// ctxReader makes Reads of r return ctx's error as soon as ctx ends, even
// while r blocks (a terminal, a pipe no one writes to): the Read in
// progress is left to finish in its own goroutine, so the reader must not
// be used after that error. A goroutine per Read: for large reads only.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		n, err := c.r.Read(p)
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// readPoints reads OpenTSDB telnet lines or a JSON array (or object) of
// points from r, calling emit for every good point and bad for every
// malformed one. It returns an error only when the input cannot be read
// further (I/O error, broken JSON) or emit does.
func readPoints(r io.Reader, emit func(inputPoint) error, bad func(*inputError)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line, col := 1, 1 // of the first byte not read yet
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch b[0] {
		case '\n':
			_, _ = br.ReadByte()
			line, col = line+1, 1
			continue
		case ' ', '\t', '\r':
			_, _ = br.ReadByte()
			col++
			continue
		case '[', '{':
			return readJSON(br, line, col, emit, bad)
		}
		return readTelnet(br, line, emit, bad)
	}
}

// readLine reads a line from br into buf, without its end ("\n"). A line
// longer than maxLine is read to its end but only its start is kept: size
// is the line's whole length. err is io.EOF only when no line is left.
func readLine(br *bufio.Reader, buf []byte) (line []byte, size int, err error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if n := len(chunk); err == nil && n > 0 {
			chunk = chunk[:n-1] // the '\n'
		}
		size += len(chunk)
		if len(buf) <= maxLine {
			buf = append(buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && size > 0:
			err = nil
		}
		return buf, size, err
	}
}

// readTelnet reads "[put ]metric timestamp value k=v ..." lines, the first
// of them line number first.
func readTelnet(br *bufio.Reader, first int, emit func(inputPoint) error, bad func(*inputError)) error {
	buf := make([]byte, 0, 4<<10)
	for n := first; ; n++ {
		b, size, err := readLine(br, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		buf = b[:0]
		if size > maxLine {
			bad(&inputError{at: position{line: n}, msg: fmt.Sprintf("longer than %d bytes (1 MiB): %d bytes, skipped", maxLine, size), text: clipText(string(b[:min(len(b), 201)]))})
			continue
		}
		line := strings.TrimSpace(string(b))
		if line == "" || line[0] == '#' {
			continue
		}
		p, err := parseTelnet(line)
		if err != nil {
			bad(&inputError{at: position{line: n}, msg: err.Error(), text: clipText(line)})
			continue
		}
		if err := emit(inputPoint{p, position{line: n}, clipText(line)}); err != nil {
			return err
		}
	}
}

// clipText makes s fit to be echoed in a message: its first 200 bytes
// (whole characters), escaped by escapeText.
func clipText(s string) string {
	if len(s) <= 200 {
		return escapeText(s)
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return escapeText(s[:cut]) + "…"
}

// escapeText returns s with what a terminal would act on or hide written
// as Go escapes: control characters (\n, \t, \x1b, …), invisible
// formatting characters such as bidirectional overrides (\u202e), and
// bytes that are not UTF-8 (\xff). Printable text of any script, and the
// space, stay as they are.
func escapeText(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r != ' ' && !unicode.IsPrint(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// parseTelnet parses one telnet line (not blank, not a comment).
func parseTelnet(line string) (apptuit.DataPoint, error) {
	f := strings.Fields(line)
	if len(f) > 0 && f[0] == "put" {
		f = f[1:]
	}
	if len(f) < 3 {
		return apptuit.DataPoint{}, errors.New("want [put] <metric> <timestamp> <value> [<k>=<v> ...]")
	}
	ts, err := parseTimestamp(f[1])
	if err != nil {
		return apptuit.DataPoint{}, err
	}
	v, err := parseValue(f[2])
	if err != nil {
		return apptuit.DataPoint{}, err
	}
	var tags map[string]string
	if len(f) > 3 {
		tags = make(map[string]string, len(f)-3)
		for _, kv := range f[3:] {
			k, val, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return apptuit.DataPoint{}, fmt.Errorf("tag %q is not k=v", kv)
			case k == "":
				return apptuit.DataPoint{}, fmt.Errorf("tag %q has an empty key", kv)
			case val == "":
				return apptuit.DataPoint{}, fmt.Errorf("tag %q has an empty value", kv)
			}
			if _, dup := tags[k]; dup {
				return apptuit.DataPoint{}, fmt.Errorf("tag %q given twice", k)
			}
			tags[k] = val
		}
	}
	return apptuit.DataPoint{Metric: f[0], Tags: tags, Timestamp: ts, Value: v}, nil
}

// parseTimestamp reads Unix seconds, Unix milliseconds (2^32 or more, as
// OpenTSDB has it) or fractional seconds.
func parseTimestamp(s string) (time.Time, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case i <= 0:
			return time.Time{}, fmt.Errorf("timestamp %s is not after 1970", s)
		case i >= timestamp.MinMillis:
			if i > timestamp.MaxMillis {
				return time.Time{}, fmt.Errorf("timestamp %s is out of range", s)
			}
			return time.UnixMilli(i).UTC(), nil
		}
		return time.Unix(i, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "eExXpP_") {
		return time.Time{}, fmt.Errorf("bad timestamp %q", s)
	}
	if f <= 0 || f >= timestamp.MinMillis {
		return time.Time{}, fmt.Errorf("timestamp %s is out of range", s)
	}
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
}

// parseValue reads a finite number.
func parseValue(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || strings.ContainsAny(s, "xXpP_") {
		return 0, fmt.Errorf("bad value %q", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %s is not finite", s)
	}
	return v, nil
}

// jsonPoint is one element of an /api/put body. Timestamp and value may be
// numbers or numeric strings.
type jsonPoint struct {
	Metric    *string           `json:"metric"`
	Timestamp json.RawMessage   `json:"timestamp"`
	Value     json.RawMessage   `json:"value"`
	Tags      map[string]string `json:"tags"`
}

func rawScalar(m json.RawMessage) (string, bool) {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return "", false
	}
	if m[0] == '"' {
		var s string
		if json.Unmarshal(m, &s) != nil {
			return "", false
		}
		return s, s != ""
	}
	return string(m), true
}

// jsonPointShape is what a JSON element must look like, for errors.
const jsonPointShape = `want {"metric": "m", "timestamp": 1700000000, "value": 1.5, "tags": {"k": "v"}}`

// decodePoint reads one JSON element (valid JSON) as a point.
func decodePoint(raw json.RawMessage) (apptuit.DataPoint, error) {
	var j jsonPoint
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, &j); errors.As(err, &te) {
		switch field, _, _ := strings.Cut(te.Field, "."); field {
		case "metric":
			return apptuit.DataPoint{}, fmt.Errorf(`"metric" is a JSON %s: want a string`, te.Value)
		case "tags":
			return apptuit.DataPoint{}, fmt.Errorf(`"tags" has a JSON %s: want an object of string values`, te.Value)
		}
		return apptuit.DataPoint{}, fmt.Errorf("a JSON %s is not a point: %s", te.Value, jsonPointShape)
	} else if err != nil {
		return apptuit.DataPoint{}, fmt.Errorf("not a point: %s", jsonPointShape)
	}
	if j.Metric == nil || *j.Metric == "" {
		return apptuit.DataPoint{}, errors.New("metric is missing")
	}
	ts, ok := rawScalar(j.Timestamp)
	if !ok {
		return apptuit.DataPoint{}, errors.New("timestamp is missing")
	}
	t, err := parseTimestamp(ts)
	if err != nil {
		return apptuit.DataPoint{}, err
	}
	vs, ok := rawScalar(j.Value)
	if !ok {
		return apptuit.DataPoint{}, errors.New("value is missing")
	}
	v, err := parseValue(vs)
	if err != nil {
		return apptuit.DataPoint{}, err
	}
	for k, val := range j.Tags {
		if k == "" || val == "" {
			return apptuit.DataPoint{}, fmt.Errorf("tag %q=%q has an empty key or value", k, val)
		}
	}
	return apptuit.DataPoint{Metric: *j.Metric, Tags: j.Tags, Timestamp: t, Value: v}, nil
}

// errElementTooLong ends the reading of JSON at an element over maxLine.
var errElementTooLong = fmt.Errorf("longer than %d bytes (1 MiB)", maxLine)

// jsonInput sits between the input and the json.Decoder to turn the
// decoder's byte offsets into lines and columns: it keeps the bytes read
// since the start of the element being decoded (mark), and a Read that
// would keep more than maxLine and a buffer's worth fails with
// errElementTooLong, which bounds the decoder's memory too.
type jsonInput struct {
	r         io.Reader
	kept      []byte // the input from offset base on
	base      int64
	line, col int // of offset base
}

func (in *jsonInput) Read(p []byte) (int, error) {
	if len(in.kept) > maxLine+64<<10 {
		return 0, errElementTooLong
	}
	n, err := in.r.Read(p)
	in.kept = append(in.kept, p[:n]...)
	return n, err
}

// pos returns the line and column of offset off (at or after the mark).
func (in *jsonInput) pos(off int64) (line, col int) {
	line, col = in.line, in.col
	for _, c := range in.kept[:min(max(off-in.base, 0), int64(len(in.kept)))] {
		switch {
		case c == '\n':
			line, col = line+1, 1
		case utf8.RuneStart(c):
			col++
		}
	}
	return line, col
}

// mark forgets the input before offset off.
func (in *jsonInput) mark(off int64) {
	in.line, in.col = in.pos(off)
	in.kept = in.kept[min(max(off-in.base, 0), int64(len(in.kept))):]
	in.base = off
}

// errorAt returns the offset in the input of err, an error of decoding the
// element that starts at or after the mark.
func (in *jsonInput) errorAt(err error, afterComma bool) int64 {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return in.base + int64(len(in.kept)) // the end of what was read
	}
	// The decoder's offsets in a stream count from its own start of the
	// value, less what it skipped; decode the element again alone, where
	// they are exact (the offset past the byte at fault).
	rest := in.kept
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\r' || rest[i] == '\n') {
		i++
	}
	if afterComma && i < len(rest) && rest[i] == ',' {
		i++
	}
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(rest[i:])).Decode(&raw); errors.As(err, &se) {
		return in.base + int64(i) + se.Offset - 1
	}
	return se.Offset // an error between elements: the decoder's offset is exact
}

// readJSON reads a JSON array of points, one point object or a stream of
// them, element by element; the input starts at line, col.
func readJSON(r *bufio.Reader, line, col int, emit func(inputPoint) error, bad func(*inputError)) error {
	in := &jsonInput{r: r, line: line, col: col}
	dec := json.NewDecoder(in)
	at := func(off int64, n int) position {
		l, c := in.pos(off)
		return position{line: l, col: c, elem: n}
	}
	broken := func(err error, n int, afterComma bool) error {
		p := at(in.errorAt(err, afterComma), n)
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return &inputError{at: p, msg: "broken JSON: " + se.Error()}
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return &inputError{at: p, msg: "the JSON ends in the middle of the point"}
		case errors.Is(err, errElementTooLong):
			return &inputError{at: at(in.base, n), msg: "the point is " + err.Error() + "; the rest of the input is not read"}
		}
		return err
	}
	one := func(n int, raw json.RawMessage) error {
		p := at(dec.InputOffset()-int64(len(raw)), n)
		if len(raw) > maxLine {
			bad(&inputError{at: p, msg: fmt.Sprintf("longer than %d bytes (1 MiB): %d bytes, skipped", maxLine, len(raw)), text: clipText(string(raw[:201]))})
			return nil
		}
		dp, err := decodePoint(raw)
		if err != nil {
			bad(&inputError{at: p, msg: err.Error(), text: clipText(string(raw))})
			return nil
		}
		return emit(inputPoint{dp, p, clipText(string(raw))})
	}
	if b, _ := r.Peek(1); len(b) == 1 && b[0] == '{' {
		// One object, or a stream of objects (JSON lines).
		for n := 1; ; n++ {
			in.mark(dec.InputOffset())
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return broken(err, n, false)
			}
			if err := one(n, raw); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the '['
		return broken(err, 1, false)
	}
	n := 1
	for ; dec.More(); n++ {
		in.mark(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return broken(err, n, n > 1)
		}
		if err := one(n, raw); err != nil {
			return err
		}
	}
	in.mark(dec.InputOffset())
	if _, err := dec.Token(); err != nil { // the ']'
		if errors.Is(err, io.EOF) {
			l, c := in.pos(in.base + int64(len(in.kept)))
			return &inputError{at: position{line: l, col: c, elem: n}, msg: "the JSON ends before the ']' that closes the array"}
		}
		return broken(err, n, false)
	}
	return nil
}
