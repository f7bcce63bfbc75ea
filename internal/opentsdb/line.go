package opentsdb

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf8"
)

// OpenTSDB's telnet interface takes one data point per line:
//
//	put <metric> <timestamp> <value> <tagk>=<tagv> [<tagk>=<tagv> ...]
//
// LineBatch judges the arguments of such a line by the rule of a JSON
// put's points: the words are split at spaces, the tags read as OpenTSDB's
// telnet reads them (a word without exactly one '=' between a key and a
// value, or a key given twice with different values, refuses the line),
// and the point then goes through checkPoint, the checks and messages of a
// point of a POST /api/put body. OpenTSDB's telnet also takes a timestamp
// with a dot before three digits of milliseconds ("1700000000.250"); so
// does LineBatch. A refused line's reason is framed as OpenTSDB's telnet
// answer frames it: "illegal argument: <message>", or "invalid value:
// <message>" when a number does not parse.

// maxReasonBytes bounds the reason Put returns (it may quote the line).
const maxReasonBytes = 1024

// LineBatch collects the points of telnet "put" lines until the caller
// takes them to commit, and counts the lines refused. Its zero value is
// ready to use; it is not safe for concurrent use.
type LineBatch struct {
	batch Batch
	res   PutResult
	// Scratch space, reused from line to line.
	words [][]byte
	tags  []lineTag
	pairs []tagPair
	key   []byte
	ts    []byte
}

// lineTag is a tag word of a line: key, value and its position among the
// tag words.
type lineTag struct {
	k, v []byte
	at   int
}

// Put judges the arguments of one "put" line, the line after the command
// word without its end of line, and adds its point to the batch if it
// passes. It returns "" or the reason for refusing it, the text that
// OpenTSDB's answer puts after "put: " (for instance `illegal argument:
// Invalid metric name ("a,b"): illegal character: ,`), at most 1 KiB. Its
// cost is linear in the line's length (n log n in its number of tags); it
// allocates only for the batch, a refused line's reason and words that are
// not valid UTF-8.
func (l *LineBatch) Put(args []byte) string {
	defer l.trimScratch()
	words := splitWords(l.words[:0], args)
	l.words = words
	for i, w := range words {
		if !utf8.Valid(w) {
			// As a JSON string is read: each invalid byte is U+FFFD.
			words[i] = validUTF8(w)
		}
	}
	if len(words) < 4 {
		var metric []byte
		if len(words) > 0 {
			metric = words[0]
		}
		return l.refuse(metric, fmt.Sprintf("illegal argument: not enough arguments (need least 4, got %d)", len(words)))
	}
	metric, ts, value := words[0], words[1], words[2]
	tags := l.tags[:0]
	for i, w := range words[3:] {
		eq := bytes.IndexByte(w, '=')
		if eq <= 0 || eq == len(w)-1 || bytes.IndexByte(w[eq+1:], '=') >= 0 {
			l.tags = tags
			return l.refuse(metric, "illegal argument: invalid tag: "+string(w))
		}
		tags = append(tags, lineTag{k: w[:eq], v: w[eq+1:], at: i})
	}
	l.tags = tags
	if !slices.IsSortedFunc(tags, cmpLineTag) {
		slices.SortStableFunc(tags, cmpLineTag)
	}
	if d := firstConflict(tags); d >= 0 {
		return l.refuse(metric, fmt.Sprintf("illegal argument: duplicate tag: %s=%s, tags=%s", tags[d].k, tags[d].v, javaMap(l.uniqueTags(tags, tags[d].at))))
	}
	pairs := l.uniqueTags(tags, len(tags))
	ms, v, msg := checkPoint(metric, l.timestamp(ts), false, value, pairs)
	switch {
	case msg == msgInvalidTimestamp:
		return l.refuse(metric, "illegal argument: "+msg+": "+string(ts))
	case msg == msgUnparsableValue:
		return l.refuse(metric, "invalid value: "+msg+": "+string(value))
	case msg != "":
		return l.refuse(metric, "illegal argument: "+msg)
	}
	l.key = appendSeriesKey(l.key[:0], metric, pairs)
	l.batch.Add(l.key, ms, v)
	l.res.Accepted++
	return ""
}

// maxScratch is the most tags whose scratch space a LineBatch keeps from
// line to line: a line of many tags takes about 140 bytes a tag while it
// is judged, not after.
const maxScratch = 64

func (l *LineBatch) trimScratch() {
	if cap(l.words) > maxScratch+3 {
		l.words, l.tags, l.pairs = nil, nil, nil
	}
}

// Refuse counts a line refused by the caller (an unknown command, a line
// too long, a put before authentication) with the message for the log.
func (l *LineBatch) Refuse(msg string) { l.refuse(nil, msg) }

func (l *LineBatch) refuse(metric []byte, reason string) string {
	reason = Cut(reason, maxReasonBytes)
	l.res.Failed++
	if len(l.res.Errors) < MaxLoggedErrors {
		l.res.Errors = append(l.res.Errors, PointErrorText(string(metric), reason))
	}
	return reason
}

// Lines returns how many lines were judged since the last Take: accepted
// and refused.
func (l *LineBatch) Lines() int { return l.res.Accepted + l.res.Failed }

// Take returns the batch of the accepted points, to commit, and the counts
// of the lines judged since the last Take (BodySize is left to the
// caller), and starts a new batch.
func (l *LineBatch) Take() (*Batch, PutResult) {
	b := new(Batch)
	*b = l.batch
	res := l.res
	l.batch, l.res = Batch{}, PutResult{}
	return b, res
}

// splitWords appends the words of s, separated by runs of spaces, to dst.
func splitWords(dst [][]byte, s []byte) [][]byte {
	for {
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
		if len(s) == 0 {
			return dst
		}
		end := bytes.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		dst = append(dst, s[:end])
		s = s[end:]
	}
}

// validUTF8 returns s with each byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, as encoding/json reads a string.
func validUTF8(s []byte) []byte {
	out := make([]byte, 0, len(s)+8)
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[:n]...)
		}
		s = s[n:]
	}
	return out
}

func cmpLineTag(x, y lineTag) int { return bytes.Compare(x.k, y.k) }

// firstConflict returns the index in tags (sorted stably by key) of the
// first tag word, in the line's order, that gives a key already given with
// another value, or -1. OpenTSDB refuses such a line; a key given twice
// with the same value is taken once.
func firstConflict(tags []lineTag) int {
	d := -1
	for i := 0; i < len(tags); {
		j := i + 1
		for ; j < len(tags) && bytes.Equal(tags[j].k, tags[i].k); j++ {
			if !bytes.Equal(tags[j].v, tags[i].v) && (d < 0 || tags[j].at < tags[d].at) {
				d = j
			}
		}
		i = j
	}
	return d
}

// uniqueTags returns the tags (sorted stably by key) of the words before
// position end, one per key, in the scratch space of l.
func (l *LineBatch) uniqueTags(tags []lineTag, end int) []tagPair {
	pairs := l.pairs[:0]
	for _, t := range tags {
		if t.at >= end {
			continue
		}
		if n := len(pairs); n > 0 && bytes.Equal(pairs[n-1].k, t.k) {
			continue
		}
		pairs = append(pairs, tagPair{k: t.k, v: t.v})
	}
	l.pairs = pairs
	return pairs
}

// timestamp returns ts, or for OpenTSDB's form with milliseconds after a
// dot ("1700000000.250") the milliseconds ("1700000000250"). Other forms
// with a dot are returned as they are, for checkPoint to refuse; so is a
// time before 2^32 ms (February 1970), which checkPoint would read as
// seconds.
func (l *LineBatch) timestamp(ts []byte) []byte {
	dot := bytes.IndexByte(ts, '.')
	if dot < 0 || len(ts)-dot-1 != 3 || !isInteger(ts[:dot]) || ts[0] == '-' || !isInteger(ts[dot+1:]) || ts[dot+1] == '-' {
		return ts
	}
	l.ts = append(append(l.ts[:0], ts[:dot]...), ts[dot+1:]...)
	if ms, ok := parseInt(l.ts, false); !ok || ms < 1<<32 {
		return ts
	}
	return l.ts
}
