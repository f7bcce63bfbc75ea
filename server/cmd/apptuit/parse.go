package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// inputPoint is a parsed point and where it came from: a line number for
// telnet input, minus the element number (1-based) for JSON.
type inputPoint struct {
	apptuit.DataPoint
	pos  int
	text string // the line or element, clipped
}

// inputError is a malformed line or JSON element.
type inputError struct {
	what string // "line" or "point"
	pos  int
	msg  string
	text string
}

func (e *inputError) Error() string {
	if e.text == "" {
		return fmt.Sprintf("%s %d: %s", e.what, e.pos, e.msg)
	}
	return fmt.Sprintf("%s %d: %s: %s", e.what, e.pos, e.msg, e.text)
}

const maxLine = 1 << 20

// readPoints reads OpenTSDB telnet lines or a JSON array (or object) of
// points from r, calling emit for every good point and bad for every
// malformed one. It returns an error only when the input cannot be read
// further (I/O error, broken JSON) or emit does.
func readPoints(r io.Reader, emit func(inputPoint) error, bad func(*inputError)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '[', '{':
			return readJSON(br, emit, bad)
		}
		break
	}
	return readTelnet(br, emit, bad)
}

// readTelnet reads "[put ]metric timestamp value k=v ..." lines.
func readTelnet(r io.Reader, emit func(inputPoint) error, bad func(*inputError)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		p, err := parseTelnet(line)
		if err != nil {
			bad(&inputError{what: "line", pos: n, msg: err.Error(), text: clipText(line)})
			continue
		}
		if err := emit(inputPoint{p, n, clipText(line)}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than %d bytes", n+1, maxLine)
		}
		return err
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
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

func (j *jsonPoint) point() (apptuit.DataPoint, error) {
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

// readJSON reads a JSON array of points, one point object or a stream of
// them, element by element.
func readJSON(r *bufio.Reader, emit func(inputPoint) error, bad func(*inputError)) error {
	dec := json.NewDecoder(r)
	one := func(n int, raw json.RawMessage) error {
		var jp jsonPoint
		if err := json.Unmarshal(raw, &jp); err != nil {
			bad(&inputError{what: "point", pos: n, msg: "not a point object", text: clipText(string(raw))})
			return nil
		}
		p, err := jp.point()
		if err != nil {
			bad(&inputError{what: "point", pos: n, msg: err.Error(), text: clipText(string(raw))})
			return nil
		}
		return emit(inputPoint{p, -n, clipText(string(raw))})
	}
	if b, _ := r.Peek(1); len(b) == 1 && b[0] == '{' {
		// One object, or a stream of objects (JSON lines).
		for n := 1; ; n++ {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("JSON: point %d: %v", n, err)
			}
			if err := one(n, raw); err != nil {
				return err
			}
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("JSON: %v", err)
	}
	if tok != json.Delim('[') {
		return errors.New("JSON: the input must be an array of points")
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("JSON: point %d: %v", n, err)
		}
		if err := one(n, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("JSON: %v", err)
	}
	return nil
}
