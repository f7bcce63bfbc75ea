package apptuit

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"sync"
)

// A large gzip body is encoded and compressed on several cores at once, the
// way pigz does it: the points are cut into chunks of parChunkPoints, each
// worker goroutine encodes its chunks and deflates each on its own (no
// back-references into the chunk before), ending it with a sync flush (an
// empty stored block, so that it ends on a byte boundary), and the reader
// writes the chunks' output in order between one gzip header and trailer.
// The result is one ordinary gzip member that every gzip reader takes; its
// CRC-32 is combined from the chunks' (crc32Combine), so no byte of JSON
// crosses from one core to another. Chunks compressed alone lose the
// matches a single stream would find across their boundaries: the body is
// slightly larger (bench/RESULTS.md).
const (
	// parChunkPoints is how many points one chunk holds: about 240 KiB of
	// JSON for typical points.
	parChunkPoints = 2048
	// parMinPoints is the smallest body compressed in parallel; smaller
	// ones go through bodyReader.
	parMinPoints = 4 * parChunkPoints
	// parMaxWorkers bounds the goroutines of one body.
	parMaxWorkers = 4
)

// parallelGzip reports whether bodies of n points are compressed in
// parallel: gzip by the client's own compressor (not WithCompressor, which
// sets no parGzip), more than one CPU, and n at least parMinPoints.
func (c *Client) parallelGzip(n int) bool {
	return c.parGzip && n >= parMinPoints && runtime.GOMAXPROCS(0) > 1
}

// parSlot is one chunk's buffers: the JSON, its compressed form, the
// CRC-32 and length of the JSON. ready and free pass the slot between its
// worker and the reader (each has capacity 1).
type parSlot struct {
	raw   []byte
	out   bytes.Buffer
	crc   uint32
	n     int
	ready chan struct{}
	free  chan struct{}
}

// parSet is the pooled state of one parallel body: per worker a
// compressor, scratch and 2 slots, so that each worker fills one while
// the reader writes the other.
type parSet struct {
	slots []*parSlot
	fws   []*flate.Writer // worker w's; there are len(fws) workers
	scr   []scratch       // worker w's
}

func (c *Client) getParSet() (*parSet, error) {
	if v := c.parSets.Get(); v != nil {
		return v.(*parSet), nil
	}
	w := min(runtime.GOMAXPROCS(0), parMaxWorkers)
	set := &parSet{slots: make([]*parSlot, 2*w), fws: make([]*flate.Writer, w), scr: make([]scratch, w)}
	for i := range set.fws {
		fw, err := flate.NewWriter(nil, c.cfg.level)
		if err != nil {
			return nil, &compressError{err}
		}
		set.fws[i] = fw
	}
	for i := range set.slots {
		s := &parSlot{ready: make(chan struct{}, 1), free: make(chan struct{}, 1)}
		s.free <- struct{}{}
		set.slots[i] = s
	}
	return set, nil
}

// parBody streams the gzip document of points [from, to) of src, compressed
// by len(set.fws) goroutines started on the first Read or WriteTo. Close,
// from any goroutine, stops them and waits for them, so src is not read
// after Close returns; the pooled state goes back to the client only if
// the whole body was read.
type parBody struct {
	c        *Client
	src      pointSet
	from, to int
	set      *parSet
	chunks   int
	header   [10]byte
	trailer  [8]byte
	stop     chan struct{}
	wg       sync.WaitGroup

	rmu     sync.Mutex // held by Read and WriteTo: one consumer at a time
	state   int        // 0: header next; 1: chunks; 2: trailer given; 3: done
	next    int        // next chunk to hand out
	held    *parSlot   // the slot whose output is being written
	pending []byte     // what Read has not returned yet
	crc     uint32
	size    uint32
	err     error // sticky

	mu      sync.Mutex // guards started, clean, closed
	started bool
	clean   bool // every slot is back in free: the set may be pooled
	closed  bool
}

func (c *Client) newParBody(src pointSet, from, to int) (*parBody, error) {
	set, err := c.getParSet()
	if err != nil {
		return nil, err
	}
	b := &parBody{c: c, src: src, from: from, to: to, set: set, stop: make(chan struct{}),
		chunks: (to - from + parChunkPoints - 1) / parChunkPoints}
	// The header the standard library's gzip.Writer writes: no name, no
	// time, the level in XFL, OS unknown.
	b.header = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	switch c.cfg.level {
	case flate.BestCompression:
		b.header[8] = 2
	case flate.BestSpeed:
		b.header[8] = 4
	}
	return b, nil
}

// start starts the workers once; it fails once the body is closed.
func (b *parBody) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errBodyClosed
	}
	if !b.started {
		b.started = true
		for w := range b.set.fws {
			b.wg.Add(1)
			go b.work(w)
		}
	}
	return nil
}

// work encodes and compresses chunks w, w+n, w+2n, … (n workers) with
// the worker's compressor, each into slot k mod len(slots), which only this
// worker uses.
func (b *parBody) work(w int) {
	defer b.wg.Done()
	slots, fw := b.set.slots, b.set.fws[w]
	for k := w; k < b.chunks; k += len(b.set.fws) {
		s := slots[k%len(slots)]
		select {
		case <-s.free:
		case <-b.stop:
			return
		}
		lo := b.from + k*parChunkPoints
		hi := min(lo+parChunkPoints, b.to)
		first, last := k == 0, k == b.chunks-1
		raw := s.raw[:0]
		if first {
			raw = append(raw, '[')
		}
		raw, _ = appendJSON(raw, b.src, lo, hi, math.MaxInt, first, &b.set.scr[w], b.c.cfg.precision)
		if last {
			raw = append(raw, ']')
		}
		s.raw = raw
		s.out.Reset()
		fw.Reset(&s.out)
		fw.Write(raw) // into a bytes.Buffer: no error
		if last {
			fw.Close() // the final block
		} else {
			fw.Flush() // a sync flush: the chunk ends on a byte boundary
		}
		s.crc, s.n = crc32.ChecksumIEEE(raw), len(raw)
		s.ready <- struct{}{} // never blocks: the reader took the last one
	}
}

// piece returns the next piece of the document (the header, a chunk's
// output, the trailer) or io.EOF after the trailer. The previous piece must
// have been written: its slot goes back to its worker.
func (b *parBody) piece() ([]byte, error) {
	if b.held != nil {
		b.held.free <- struct{}{}
		b.held = nil
	}
	switch b.state {
	case 0:
		b.state = 1
		return b.header[:], nil
	case 1:
		if b.next == b.chunks {
			binary.LittleEndian.PutUint32(b.trailer[:4], b.crc)
			binary.LittleEndian.PutUint32(b.trailer[4:], b.size)
			b.state = 2
			b.mu.Lock()
			b.clean = true // every slot is in free again; the workers are done
			b.mu.Unlock()
			return b.trailer[:], nil
		}
		s := b.set.slots[b.next%len(b.set.slots)]
		select {
		case <-s.ready:
		case <-b.stop:
			return nil, errBodyClosed
		}
		b.next++
		b.held = s
		b.crc = crc32Combine(b.crc, s.crc, int64(s.n))
		b.size += uint32(s.n) // ISIZE is the length mod 2^32
		return s.out.Bytes(), nil
	}
	b.state = 3
	return nil, io.EOF
}

// Read implements io.Reader for transports that do not use WriteTo.
func (b *parBody) Read(p []byte) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if err := b.start(); err != nil { // closed: errBodyClosed, as bodyReader
		return 0, err
	}
	if b.err != nil {
		return 0, b.err
	}
	for len(b.pending) == 0 {
		piece, err := b.piece()
		if err != nil {
			b.err = err
			return 0, err
		}
		b.pending = piece
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

// WriteTo writes the rest of the body to w, a piece (about 60 KiB of a
// chunk's output) at a time.
func (b *parBody) WriteTo(w io.Writer) (int64, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if err := b.start(); err != nil { // closed: errBodyClosed, as bodyReader
		return 0, err
	}
	if b.err == io.EOF {
		return 0, nil // read to its end already: nothing more to write
	}
	if b.err != nil {
		return 0, b.err
	}
	var n int64
	if len(b.pending) > 0 { // after a Read
		m, err := w.Write(b.pending)
		n += int64(m)
		b.pending = nil
		if err != nil {
			b.err = err
			return n, err
		}
	}
	for {
		piece, err := b.piece()
		if err == io.EOF {
			b.err = io.EOF
			return n, nil
		}
		if err != nil {
			b.err = err
			return n, err
		}
		m, err := w.Write(piece)
		n += int64(m)
		if err != nil {
			b.err = err
			return n, err
		}
	}
}

// Close stops the workers and waits for them, every call of it: the source
// is not read once any Close has returned. The pooled state goes back to
// the client if the body was read to its end. It is idempotent.
func (b *parBody) Close() error {
	b.mu.Lock()
	first := !b.closed
	b.closed = true
	b.mu.Unlock()
	if first {
		close(b.stop)
	}
	b.wg.Wait() // every Close waits (the transport's and the client's may race)
	if !first {
		return nil
	}
	b.mu.Lock()
	clean := b.clean || !b.started
	b.mu.Unlock()
	if clean {
		for i := range b.set.scr {
			b.set.scr[i].release()
		}
		b.c.parSets.Put(b.set)
	}
	return nil
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B, given crc1 of
// A, crc2 of B and the length of B, as zlib's crc32_combine does: crc1
// times x^(8·len2) modulo the polynomial, plus crc2. O(log len2), no
// allocation.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	return multModP(x2nModP(len2, 3), crc1) ^ crc2
}

// crcPoly is the IEEE polynomial, reflected.
const crcPoly = 0xedb88320

// multModP multiplies a and b modulo the CRC polynomial (bit-reflected,
// x^0 in the top bit).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2nModP returns x^(n·2^k) modulo the CRC polynomial.
func x2nModP(n int64, k uint) uint32 {
	table := x2nTable()
	p := uint32(1) << 31 // x^0
	for ; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = multModP(table[k&31], p)
		}
	}
	return p
}

// x2nTable holds x^(2^k) modulo the CRC polynomial for k < 32, made on
// first use.
var x2nTable = sync.OnceValue(func() *[32]uint32 {
	var t [32]uint32
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return &t
})
