package opentsdb

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// putLine judges one line's arguments and returns the reason and the
// points taken.
func putLine(t testing.TB, args string) (string, []storedRef, PutResult) {
	var l LineBatch
	reason := l.Put([]byte(args))
	if l.Lines() != 1 {
		t.Fatalf("%q: %d lines counted", args, l.Lines())
	}
	b, res := l.Take()
	var got []storedRef
	b.Each(func(i int, ms int64, v float64) {
		key, _ := b.Series(i)
		m, tags, err := ParseSeriesKey(key)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, storedRef{metric: m, tags: tags, ms: ms, value: v})
	})
	return reason, got, res
}

func TestPutLine(t *testing.T) {
	ok := func(metric string, ms int64, v float64, kv ...string) []storedRef {
		tags := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			tags[kv[i]] = kv[i+1]
		}
		return []storedRef{{metric: metric, tags: tags, ms: ms, value: v}}
	}
	tests := []struct {
		args   string
		reason string
		want   []storedRef
	}{
		{"sys.cpu.user 1700000000 42.5 host=web1 cpu=0", "", ok("sys.cpu.user", 1700000000000, 42.5, "host", "web1", "cpu", "0")},
		// collectd's write_tsdb: spaces at the end, and between the tags.
		{"load.load.shortterm 1700000000 0.15 fqdn=ci  ", "", ok("load.load.shortterm", 1700000000000, 0.15, "fqdn", "ci")},
		{"  m   1700000000123   -7   a=1    b=2", "", ok("m", 1700000000123, -7, "a", "1", "b", "2")},
		{"m 1700000000.250 1 a=1", "", ok("m", 1700000000250, 1, "a", "1")},
		{"m 1700000000 +4 a=1 a=1", "", ok("m", 1700000000000, 4, "a", "1")},
		{"m 1700000000 1e3 b=2 a=1", "", ok("m", 1700000000000, 1000, "a", "1", "b", "2")},
		{"m 1700000000 1 k=v\xff", "", ok("m", 1700000000000, 1, "k", "v\ufffd")},

		{"", "illegal argument: not enough arguments (need least 4, got 0)", nil},
		{"m 1700000000 1", "illegal argument: not enough arguments (need least 4, got 3)", nil},
		{"m 1700000000 1 host", "illegal argument: invalid tag: host", nil},
		{"m 1700000000 1 =v", "illegal argument: invalid tag: =v", nil},
		{"m 1700000000 1 k=", "illegal argument: invalid tag: k=", nil},
		{"m 1700000000 1 k=a=b", "illegal argument: invalid tag: k=a=b", nil},
		{"m 1700000000 1 z=1 k=a c=3 k=b k=c", "illegal argument: duplicate tag: k=b, tags={c=3, k=a, z=1}", nil},
		{"m 17x 1 k=v", "illegal argument: Invalid timestamp: 17x", nil},
		{"m 0 1 k=v", "illegal argument: Invalid timestamp: 0", nil},
		{"m -5 1 k=v", "illegal argument: Invalid timestamp: -5", nil},
		{"m 1700000000.5 1 k=v", "illegal argument: Invalid timestamp: 1700000000.5", nil},
		{"m 1.500 1 k=v", "illegal argument: Invalid timestamp: 1.500", nil},
		{"m 1700000000 abc k=v", "invalid value: Unable to parse value to a number: abc", nil},
		{"m 1700000000 NaN k=v", "invalid value: Unable to parse value to a number: NaN", nil},
		{"m 1700000000 1e999 k=v", "illegal argument: value is NaN or Infinite: 1e999", nil},
		{"a,b 1700000000 1 k=v", "illegal argument: Invalid metric name (\"a,b\"): illegal character: ,", nil},
		{"m 1700000000 1 k\tx=v", "illegal argument: Invalid tag name with value [v] (\"k\tx\"): illegal character: \t", nil},
		{"m\xff 1700000000 1 k=v", "illegal argument: Invalid metric name (\"m\ufffd\"): illegal character: \ufffd", nil},
		{"m 1700000000 1" + tagsN(26), "illegal argument: Too many tags: 26 maximum allowed: 25, tags: {" + javaTagsN(26) + "}", nil},
	}
	for _, tc := range tests {
		reason, got, res := putLine(t, tc.args)
		if reason != tc.reason || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Put(%q) = %q, %+v\nwant %q, %+v", tc.args, reason, got, tc.reason, tc.want)
		}
		if wantFailed := min(1, len(tc.reason)); res.Failed != wantFailed || res.Accepted != 1-wantFailed {
			t.Errorf("Put(%q): result %+v", tc.args, res)
		}
		if tc.reason != "" && (len(res.Errors) != 1 || !strings.HasSuffix(res.Errors[0], tc.reason)) {
			t.Errorf("Put(%q): logged %q", tc.args, res.Errors)
		}
	}
}

func tagsN(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" k" + string(rune('a'+i)) + "=v")
	}
	return b.String()
}

func javaTagsN(n int) string {
	var s []string
	for i := range n {
		s = append(s, "k"+string(rune('a'+i))+"=v")
	}
	return strings.Join(s, ", ")
}

func TestLineBatchTake(t *testing.T) {
	var l LineBatch
	for _, line := range []string{"m 1700000000 1 k=v", "m 1700000001 2 k=v", "bad", "n 1700000000 3 k=w"} {
		l.Put([]byte(line))
	}
	l.Refuse("unknown command: get.  Try `help'.")
	b, res := l.Take()
	if b.Len() != 3 || b.NumSeries() != 2 || res.Accepted != 3 || res.Failed != 2 {
		t.Fatalf("batch of %d points, %d series; %+v", b.Len(), b.NumSeries(), res)
	}
	want := []string{"bad: illegal argument: not enough arguments (need least 4, got 1)", "unknown command: get.  Try `help'."}
	if !reflect.DeepEqual(res.Errors, want) {
		t.Errorf("errors %q, want %q", res.Errors, want)
	}
	if b2, res2 := l.Take(); b2.Len() != 0 || l.Lines() != 0 || !reflect.DeepEqual(res2, PutResult{}) {
		t.Errorf("a second Take: %d points, %+v", b2.Len(), res2)
	}
	// Long lines: the reason is cut.
	reason := l.Put([]byte(strings.Repeat("é,", 2500) + " 1 1 k=v"))
	if len(reason) > maxReasonBytes || len(reason) < maxReasonBytes-3 || !strings.HasPrefix(reason, "illegal argument: Invalid metric name (\"é,é,") {
		t.Errorf("reason of %d bytes: %.80q", len(reason), reason)
	}
}

// jsonOfLine returns the POST /api/put body of the point a line's
// arguments give, or ok false when the line fails on the telnet syntax
// alone (the word count, a malformed or conflicting tag).
func jsonOfLine(args []byte) (body []byte, ok bool) {
	words := splitWords(nil, args)
	if len(words) < 4 {
		return nil, false
	}
	for i, w := range words {
		words[i] = []byte(string([]rune(string(w)))) // each invalid byte is U+FFFD
	}
	tags := map[string]string{}
	for _, w := range words[3:] {
		k, v, found := bytes.Cut(w, []byte("="))
		if !found || len(k) == 0 || len(v) == 0 || bytes.Contains(v, []byte("=")) {
			return nil, false
		}
		if old, dup := tags[string(k)]; dup && old != string(v) {
			return nil, false
		}
		tags[string(k)] = string(v)
	}
	var l LineBatch
	body, err := json.Marshal(map[string]any{
		"metric": string(words[0]), "timestamp": string(l.timestamp(words[1])), "value": string(words[2]), "tags": tags,
	})
	if err != nil {
		panic(err)
	}
	return body, true
}

// FuzzPutLine holds a telnet line to the rule of a JSON put's point: a
// line is accepted, and stores the very point, exactly when the same point
// in a POST /api/put body is; a line refused by the point checks is
// refused with the JSON put's message; any other refusal is the telnet
// syntax's. It never panics, counts every line once and bounds the reason.
func FuzzPutLine(f *testing.F) {
	for _, s := range []string{
		"sys.cpu.user 1700000000 42.5 host=web1 cpu=0",
		"load.load.shortterm 1700000000 0.15 fqdn=ci  ",
		"m 1700000000.250 -1e3 a=1 a=1",
		"m 1700000000 1 z=1 k=a k=b",
		"m\xff 17x NaN k=",
		"m 1 +4 k=v\xfe",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		if bytes.IndexByte(args, '\n') >= 0 {
			return // a line has none
		}
		cp := bytes.Clone(args)
		reason, got, res := putLine(t, string(args))
		if !bytes.Equal(cp, args) {
			t.Fatal("Put modified its input")
		}
		if len(reason) > maxReasonBytes || (reason == "") != (res.Accepted == 1) {
			t.Fatalf("reason %q with %+v", reason, res)
		}
		body, ok := jsonOfLine(args)
		if !ok {
			for _, p := range []string{"illegal argument: not enough arguments", "illegal argument: invalid tag: ", "illegal argument: duplicate tag: "} {
				if strings.HasPrefix(reason, p) {
					return
				}
			}
			t.Fatalf("line %q fails the telnet syntax, but Put says %q", args, reason)
		}
		good, bad, berr := decodeStream(t, body)
		if berr != nil {
			t.Fatalf("the JSON of %q, %s, fails: %+v", args, body, berr)
		}
		if !reflect.DeepEqual(good, got) && !(len(good) == 1 && len(got) == 1 && math.IsNaN(good[0].value)) {
			t.Fatalf("line %q stores %+v; as JSON %s: %+v", args, got, body, good)
		}
		switch {
		case len(bad) == 0 && reason != "":
			t.Fatalf("line %q refused (%q); as JSON accepted", args, reason)
		case len(bad) == 1:
			msg := bad[0].Error
			if reason != Cut("illegal argument: "+msg, maxReasonBytes) && !strings.HasPrefix(reason, "illegal argument: "+msg+": ") && !strings.HasPrefix(reason, "invalid value: "+msg+": ") {
				t.Fatalf("line %q refused with %q; as JSON with %q", args, reason, msg)
			}
		}
	})
}
