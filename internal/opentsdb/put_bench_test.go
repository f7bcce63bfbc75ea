package opentsdb

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchBody is a put body like a reporter's: 100 series of 3 tags, 500
// points each, float values.
func benchBody(series, points int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for p := 0; p < points; p++ {
		for s := 0; s < series; s++ {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"metric":"http.server.duration","timestamp":%d,"value":%g,"tags":{"host":"web%d","service":"orders","dc":"eu-west-1"}}`,
				1700000000+p*10, float64(p*s%977)/7, s)
		}
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// BenchmarkPutParse measures the streaming parser and collector (no HTTP,
// no store) on a 50,000-point body.
func BenchmarkPutParse(b *testing.B) {
	body := benchBody(100, 500)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		col := &putCollector{}
		if o := newPutParser(bytes.NewReader(body), col.point).parse(); o != parseOK || col.good != 50000 {
			b.Fatalf("outcome %d, %d good", o, col.good)
		}
	}
}

// BenchmarkPutParseReference is the decoder the fake had before bodies were
// streamed (encoding/json over the whole body), on the same body.
func BenchmarkPutParseReference(b *testing.B) {
	body := benchBody(100, 500)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if good, _, err := decodePutRef(body); err != nil || len(good) != 50000 {
			b.Fatalf("%v, %d good", err, len(good))
		}
	}
}

// benchLines is the telnet form of benchBody's points, one "put" line's
// arguments each.
func benchLines(series, points int) [][]byte {
	var lines [][]byte
	for p := 0; p < points; p++ {
		for s := 0; s < series; s++ {
			lines = append(lines, fmt.Appendf(nil, "http.server.duration %d %g host=web%d service=orders dc=eu-west-1", 1700000000+p*10, float64(p*s%977)/7, s))
		}
	}
	return lines
}

// BenchmarkPutLine measures LineBatch.Put (splitting, tag checks, point
// checks, the batch) on the 50,000 points of BenchmarkPutParse as telnet
// lines; ns/op is per 50,000 lines.
func BenchmarkPutLine(b *testing.B) {
	lines := benchLines(100, 500)
	var n int64
	for _, l := range lines {
		n += int64(len("put ") + len(l) + 1)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		var l LineBatch
		for _, line := range lines {
			if reason := l.Put(line); reason != "" {
				b.Fatal(reason)
			}
		}
		if batch, res := l.Take(); batch.Len() != 50000 || res.Accepted != 50000 {
			b.Fatalf("%d points, %+v", batch.Len(), res)
		}
	}
}
