package apptuit

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The parallel body of a large batch, read by WriteTo or by Reads, is one
// gzip member (the standard library's reader checks its CRC-32 and length)
// whose content is exactly the document the streamed body carries, with
// the standard library's header; it is at most 3 % larger.
func TestParallelBodyIsTheDocument(t *testing.T) {
	checkNoLeaks(t)
	for _, procs := range []int{2, 5} {
		prev := runtime.GOMAXPROCS(procs)
		for _, level := range []int{1, 9} {
			c := mustNew(t, WithToken("t"), WithIgnoreEnvTags(), WithCompressionLevel(level))
			for _, sizes := range [][]int{
				{parMinPoints}, {parMinPoints + 1}, {3000, 5300, 1}, {50000}, {7 * parChunkPoints, 11},
			} {
				if sizes[0] == 50000 && (level != 1 || procs != 2) {
					continue // slow under -race; the default level covers it
				}
				var series []*TimeSeries
				for k, n := range sizes {
					s, _ := NewTimeSeries("m.par", map[string]string{"k": strconv.Itoa(k)})
					for i := range n {
						s.AddUnix(1700000000+int64(i), float64(i%977)+0.5)
					}
					series = append(series, s)
				}
				src, total := benchSource(c, series)
				want := jsonDoc(c, src, 0, total)
				if !c.parallelGzip(total) {
					t.Fatalf("%d points: not compressed in parallel", total)
				}
				var stream bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&stream, level)
				zw.Write(want)
				zw.Close()
				for _, how := range []string{"WriteTo", "Read 65536", "Read 1000 then WriteTo"} {
					name := "procs=" + strconv.Itoa(procs) + "/level=" + strconv.Itoa(level) + "/" + strconv.Itoa(total) + "/" + how
					b, err := c.newParBody(src, 0, total)
					if err != nil {
						t.Fatal(err)
					}
					got := readWhole(t, name, b, how)
					if !bytes.Equal(got.Bytes()[:10], stream.Bytes()[:10]) {
						t.Errorf("%s: header % x, the standard library's % x", name, got.Bytes()[:10], stream.Bytes()[:10])
					}
					if doc := decompress(t, Gzip, got.Bytes()); !bytes.Equal(doc, want) {
						t.Errorf("%s: %d bytes of JSON, want %d", name, len(doc), len(want))
					}
					if r := float64(got.Len()) / float64(stream.Len()); r > 1.03 {
						t.Errorf("%s: %d compressed bytes, %.3f × the single stream's %d", name, got.Len(), r, stream.Len())
					}
				}
				// A batch from the middle of the sequence.
				b, _ := c.newParBody(src, 1, total-1)
				var got bytes.Buffer
				b.WriteTo(&got)
				b.Close()
				if doc := decompress(t, Gzip, got.Bytes()); !bytes.Equal(doc, jsonDoc(c, src, 1, total-1)) {
					t.Errorf("%d: the middle batch differs", total)
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

// Which bodies go parallel: large gzip batches of the client's own
// compressor with more than one CPU; not deflate, not WithCompressor, not
// small batches, not one CPU.
func TestParallelBodyChosen(t *testing.T) {
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	gz := mustNew(t, WithToken("t"), WithIgnoreEnvTags())
	zl := mustNew(t, WithToken("t"), WithIgnoreEnvTags(), WithCompression(Deflate))
	none := mustNew(t, WithToken("t"), WithIgnoreEnvTags(), WithCompression(NoCompression))
	own := mustNew(t, WithToken("t"), WithIgnoreEnvTags(),
		WithCompressor("gzip", func(w io.Writer) (Compressor, error) { return gzip.NewWriterLevel(w, 1) }))
	for _, tc := range []struct {
		name string
		c    *Client
		n    int
		want bool
	}{
		{"gzip, large", gz, parMinPoints, true},
		{"gzip, small", gz, parMinPoints - 1, false},
		{"deflate", zl, 50000, false},
		{"no compression", none, 50000, false},
		{"WithCompressor", own, 50000, false},
	} {
		if got := tc.c.parallelGzip(tc.n); got != tc.want {
			t.Errorf("%s: parallelGzip(%d) = %v", tc.name, tc.n, got)
		}
	}
	runtime.GOMAXPROCS(1)
	if gz.parallelGzip(50000) {
		t.Error("one CPU: parallelGzip(50000) = true")
	}
}

// crc32Combine gives the CRC-32 of the concatenation.
func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, tc := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {3, 5}, {1000, 1}, {65536, 65536}, {1, 1<<20 - 1}, {123457, 876543}} {
		a, b := data[:tc[0]], data[tc[0]:tc[0]+tc[1]]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data[:tc[0]+tc[1]]); got != want {
			t.Errorf("lengths %d + %d: %08x, want %08x", tc[0], tc[1], got, want)
		}
	}
}

// Two Closes at once (the transport's and the client's): neither returns
// while the source is still being read, for either kind of body.
func TestBodyConcurrentCloses(t *testing.T) {
	checkNoLeaks(t)
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	for _, kind := range bodyKinds() {
		c, src, total, _ := bodyTestSource(t, kind.comp, 100000)
		for i := range 10 {
			ws := &watchedSource{pointSet: src, delay: 20 * time.Millisecond}
			b := kind.make(c, ws, 0, total)
			done := make(chan struct{})
			go func() {
				b.(io.WriterTo).WriteTo(io.Discard)
				close(done)
			}()
			time.Sleep(5 * time.Millisecond) // the encoders inside read
			first := make(chan struct{})
			go func() {
				b.Close()
				close(first)
			}()
			time.Sleep(time.Duration(i%3) * time.Millisecond)
			b.Close()
			ws.closed.Store(true)
			<-first
			<-done
			time.Sleep(40 * time.Millisecond) // an encoder still running would read by then
			if n := ws.lateReads.Load(); n != 0 {
				t.Errorf("%s, round %d: the source was read %d times after a Close returned", kind.name, i, n)
			}
		}
	}
}

// WriteTo after the body was read to its end writes nothing and is not an
// error, as for the streamed body.
func TestParallelBodyWriteToAfterEOF(t *testing.T) {
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	c, src, total, _ := bodyTestSource(t, Gzip, parMinPoints)
	b, _ := c.newParBody(src, 0, total)
	defer b.Close()
	if _, err := io.ReadAll(b); err != nil {
		t.Fatal(err)
	}
	if n, err := b.WriteTo(io.Discard); n != 0 || err != nil {
		t.Errorf("WriteTo after the end: %d, %v; want 0, nil", n, err)
	}
}
