package spool

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchPayload is about what a report of 500 points encodes to: repetitive
// names and tags, varying values.
func benchPayload() []byte {
	var b strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "orders.processing.time.%d_percentile\x02service\x06orders\x04host\x05web-1%d%f", i%11, 1700000000+i, float64(i)*1.37)
	}
	return []byte(b.String())
}

func BenchmarkAppend(b *testing.B) {
	p := benchPayload()
	for _, sync := range []SyncPolicy{SyncNever, SyncEveryAppend} {
		b.Run(sync.String(), func(b *testing.B) {
			s := open(b, b.TempDir(), Options{MaxBytes: 256 << 20, Sync: sync})
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := s.Append(p, 500); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNextAck(b *testing.B) {
	p := benchPayload()
	s := open(b, b.TempDir(), Options{MaxBytes: 1 << 30, Sync: SyncNever})
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(p, 500); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 || i == b.N-1 {
			if err := s.Ack(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		b.Fatal(err)
	}
}
