package apptuittest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// This file holds the tools of the memory tests: a heap sampler and a
// builder of compression bombs.

// loadTests reports whether the long load tests run: they are for the CI
// step that sets APPTUITTEST_LOAD=1 (see .ci/run), not for every go test.
func loadTests(t *testing.T) {
	t.Helper()
	if os.Getenv("APPTUITTEST_LOAD") == "" {
		t.Skip("a load test: set APPTUITTEST_LOAD=1 to run it")
	}
}

// heapSampler measures the peak of the Go heap (bytes in live and
// not-yet-swept objects, runtime/metrics "/memory/classes/heap/objects:bytes")
// above its level at the start, sampling every millisecond. The heap is
// measured after a GC at the start, so garbage left by earlier tests does
// not count; garbage made during the measurement does, as it would in RSS.
type heapSampler struct {
	base uint64
	peak uint64
	stop chan struct{}
	done chan struct{}
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	h := &heapSampler{base: heapNow(), stop: make(chan struct{}), done: make(chan struct{})}
	h.peak = h.base
	go func() {
		defer close(h.done)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			if v := heapNow(); v > h.peak {
				h.peak = v
			}
			select {
			case <-h.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return h
}

// growth stops the sampler and returns the peak growth in bytes.
func (h *heapSampler) growth() uint64 {
	close(h.stop)
	<-h.done
	if v := heapNow(); v > h.peak {
		h.peak = v
	}
	return h.peak - h.base
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// bomb returns a gzip stream of prefix followed by pattern repeated to
// total bytes (total - len(prefix) a multiple of len(pattern)), built in
// milliseconds: deflate compresses each chunk of the repetition to
// the same bytes once its window holds the pattern, so one compressed chunk
// is repeated. The stream is valid gzip (CRC-32 and size included).
func bomb(prefix, pattern []byte, total int64) []byte {
	chunkSize := 128 << 10 // small bombs: quick to build, also under -race
	if total >= 1<<30 {
		chunkSize = 1 << 20 // the deflate ratio nears its 1032:1 ceiling
	}
	chunk := bytes.Repeat(pattern, max(1, chunkSize/len(pattern)))
	body := total - int64(len(prefix))
	nchunks, rest := body/int64(len(chunk)), body%int64(len(chunk))
	if rest%int64(len(pattern)) != 0 || nchunks < 3 {
		panic("bomb: total does not fit the pattern")
	}
	var out bytes.Buffer
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}) // gzip header, no name
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	w.Write(prefix)
	w.Write(chunk)
	w.Flush()
	n := out.Len()
	w.Write(chunk)
	w.Flush()
	rep := bytes.Clone(out.Bytes()[n:])
	n = out.Len()
	w.Write(chunk)
	w.Flush()
	if !bytes.Equal(rep, out.Bytes()[n:]) {
		panic("bomb: deflate did not settle")
	}
	for i := int64(3); i < nchunks; i++ {
		out.Write(rep)
	}
	w.Write(chunk[:rest])
	w.Close()
	crc := crc32.ChecksumIEEE(prefix)
	crc = crc32Combine(crc, crc32Repeat(crc32.ChecksumIEEE(chunk), int64(len(chunk)), nchunks), nchunks*int64(len(chunk)))
	crc = crc32Combine(crc, crc32.ChecksumIEEE(chunk[:rest]), rest)
	out.Write(binary.LittleEndian.AppendUint32(nil, crc))
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(total)))
	return out.Bytes()
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from crcA,
// crcB and len(B), as zlib's crc32_combine does (multiplication by x^(8n)
// modulo the polynomial).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	return crc32MulXn(crcA, lenB) ^ crcB
}

// crc32Repeat returns the CRC-32 of a block repeated n times, from its CRC.
func crc32Repeat(crc uint32, blockLen, n int64) uint32 {
	out, cur, curLen := uint32(0), crc, blockLen
	for n > 0 {
		if n&1 == 1 {
			out = crc32Combine(out, cur, curLen)
		}
		cur = crc32Combine(cur, cur, curLen)
		curLen *= 2
		n >>= 1
	}
	return out
}

// crc32MulXn advances a CRC-32 register over n zero bytes (zlib's
// gf2_matrix method), the operator crc32Combine applies to crcA.
func crc32MulXn(crc uint32, n int64) uint32 {
	odd := make([]uint32, 32)
	even := make([]uint32, 32)
	odd[0] = 0xedb88320 // reflected polynomial
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(even, odd) // 2 zero bits
	gf2Square(odd, even) // 4 zero bits
	for n > 0 {
		gf2Square(even, odd)
		if n&1 == 1 {
			crc = gf2Times(even, crc)
		}
		n >>= 1
		if n == 0 {
			break
		}
		gf2Square(odd, even)
		if n&1 == 1 {
			crc = gf2Times(odd, crc)
		}
		n >>= 1
	}
	return crc
}

func gf2Times(mat []uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 == 1 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat []uint32) {
	for n := 0; n < 32; n++ {
		square[n] = gf2Times(mat, mat[n])
	}
}

func TestBombIsValidGzip(t *testing.T) {
	// Small enough to inflate and check here.
	n := (128 << 10) / 3 * 5 // 5 chunks and a bit
	b := bomb([]byte("["), []byte("ab "), int64(1+3*n+3))
	got, err := gunzipAll(b)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("["), bytes.Repeat([]byte("ab "), n+1)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("inflated %d bytes, want %d", len(got), len(want))
	}
}

func gunzipAll(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

var bombCache sync.Map

// cachedBomb builds a bomb once per test binary.
func cachedBomb(prefix, pattern string, total int64) []byte {
	k := fmt.Sprint(prefix, "|", pattern, "|", total)
	if b, ok := bombCache.Load(k); ok {
		return b.([]byte)
	}
	b := bomb([]byte(prefix), []byte(pattern), total)
	bombCache.Store(k, b)
	return b
}
