package apptuit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Sizes of a streamed body.
const (
	// chunkSize is how much JSON one step of the encoding goroutine writes
	// (a step ends with the point that crosses it). 256 KiB rather than
	// 64: a quarter of the hand-offs between encoder and compressor (each
	// one wakes a goroutine), closer to the compress-only ceiling
	// (bench/RESULTS.md), for 1 MiB of pooled buffers per body in flight.
	chunkSize = 256 << 10
	// firstChunkSize is how much JSON the reader encodes itself before the
	// encoding goroutine starts: small, so that compression starts soon
	// and a small body needs no goroutine.
	firstChunkSize = 64 << 10
	// writeSize is how many compressed bytes are gathered before one write
	// to the connection (one chunk of chunked transfer encoding).
	writeSize = 32 << 10
	// pipeDepth is how many encoded chunks the encoding goroutine may run
	// ahead of the compressor.
	pipeDepth = 4
)

// compressor is the pooled state of one body being sent: the compressing
// writer, its output, the buffer of the chunk encoded inline and the
// buffers of the encoding pipeline (made on first use).
type compressor struct {
	zw   Compressor // nil without compression
	out  bytes.Buffer
	raw  []byte
	scr  scratch     // of the goroutine encoding
	full chan chunk  // encoded chunks, in order; cap pipeDepth
	free chan []byte // empty chunk buffers; cap pipeDepth
}

// chunk is one encoded piece of a body; last marks the one that ends the
// JSON array.
type chunk struct {
	b    []byte
	last bool
}

func (c *Client) getCompressor() (*compressor, error) {
	if v := c.compressors.Get(); v != nil {
		return v.(*compressor), nil
	}
	z := &compressor{raw: make([]byte, 0, firstChunkSize+4096)}
	z.out.Grow(writeSize + 16<<10)
	if c.newZW != nil {
		zw, err := c.newZW(&z.out)
		if err == nil && zw == nil {
			err = errors.New("the function given to WithCompressor returned a nil Compressor")
		}
		if err != nil {
			return nil, &compressError{fmt.Errorf("new writer: %w", err)}
		}
		z.zw = zw
	}
	return z, nil
}

func (z *compressor) initPipe() {
	z.full = make(chan chunk, pipeDepth)
	z.free = make(chan []byte, pipeDepth)
	for range pipeDepth {
		z.free <- make([]byte, 0, chunkSize+4096)
	}
}

var errBodyClosed = errors.New("apptuit: request body closed")

// compressError is a Compressor's failure while a body is sent: not a
// network error, and not retried.
type compressError struct{ err error }

func (e *compressError) Error() string { return "compress: " + e.err.Error() }
func (e *compressError) Unwrap() error { return e.err }

// bodyReader streams the compressed JSON array of points [from, to) of
// src, so that the whole document never exists in memory: the first chunk
// (about 64 KiB of JSON) is encoded by the reader; when there is more and
// more than one CPU, a goroutine encodes the rest, up to pipeDepth chunks of
// about 256 KiB ahead, while the reader compresses, so one body keeps two
// cores busy.
//
// WriteTo (what net/http's transport uses) writes the compressed stream in
// pieces of about writeSize bytes; Read serves other transports. Close,
// from any goroutine, stops the encoding goroutine and waits for it, so src
// is not read after Close returns; the pooled state goes back to the client
// once Close and a Read or WriteTo in progress have both returned.
type bodyReader struct {
	c   *Client
	src pointSet
	end int

	rmu      sync.Mutex // held by Read and WriteTo: one consumer at a time
	finished bool       // the compressor is closed: all output is in z.out
	err      error      // sticky

	mu        sync.Mutex  // guards what follows; held while encoding inline
	z         *compressor // nil once back in the pool
	pos       int         // next point to encode inline
	started   bool        // '[' written
	piped     bool        // the rest is encoded by produce
	stop      chan struct{}
	done      chan struct{} // closed when produce returns
	consuming bool          // a Read or WriteTo is running
	closed    bool
	waiting   bool // Close is waiting for produce to return
}

func (c *Client) newBody(src pointSet, from, to int) (*bodyReader, error) {
	z, err := c.getCompressor()
	if err != nil {
		return nil, err
	}
	z.out.Reset()
	if z.zw != nil {
		z.zw.Reset(&z.out)
	}
	return &bodyReader{c: c, src: src, end: to, z: z, pos: from}, nil
}

// encode appends the points from pos on, up to about limit bytes, to b,
// with the array's '[' when first and its ']' when the last point is in.
func (r *bodyReader) encode(b []byte, pos, limit int, first bool, scr *scratch) ([]byte, int, bool) {
	if first {
		b = append(b, '[')
	}
	b, pos = appendJSON(b, r.src, pos, r.end, limit, first, scr, r.c.cfg.precision)
	last := pos >= r.end
	if last {
		b = append(b, ']')
	}
	return b, pos, last
}

// produce encodes chunks from pos on into free buffers until the last one
// or until stop is closed.
func (r *bodyReader) produce(z *compressor, pos int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		var b []byte
		select {
		case b = <-z.free:
		case <-stop:
			return
		}
		var last bool
		b, pos, last = r.encode(b[:0], pos, chunkSize, false, &z.scr)
		z.full <- chunk{b, last} // never blocks: there are pipeDepth buffers
		if last {
			return
		}
	}
}

// next returns the next encoded chunk, whether it is the last, and whether
// its buffer belongs to the pipeline (to be given back to z.free).
func (r *bodyReader) next() (b []byte, last, piped bool, err error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, false, false, errBodyClosed
	}
	if !r.piped {
		z := r.z
		first := !r.started
		z.raw, r.pos, last = r.encode(z.raw[:0], r.pos, firstChunkSize, first, &z.scr)
		r.started = true
		if !last && runtime.GOMAXPROCS(0) > 1 {
			if z.free == nil {
				z.initPipe()
			}
			r.stop, r.done, r.piped = make(chan struct{}), make(chan struct{}), true
			go r.produce(z, r.pos, r.stop, r.done)
		}
		r.mu.Unlock()
		return z.raw, last, false, nil
	}
	z, stop := r.z, r.stop
	r.mu.Unlock()
	select {
	case c := <-z.full:
		return c.b, c.last, true, nil
	case <-stop:
		return nil, false, false, errBodyClosed
	}
}

// fill compresses chunks until z.out holds at least want bytes or the body
// is complete.
func (r *bodyReader) fill(want int) error {
	z := r.z
	for !r.finished && z.out.Len() < want {
		b, last, piped, err := r.next()
		if err != nil {
			return err
		}
		if z.zw == nil {
			z.out.Write(b)
		} else if _, err = z.zw.Write(b); err == nil && last {
			err = z.zw.Close()
		}
		if piped {
			z.free <- b[:0] // never blocks
		}
		if err != nil {
			return &compressError{err}
		}
		r.finished = last
	}
	return nil
}

// begin marks a consumer as running; it fails once the body is closed.
func (r *bodyReader) begin() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errBodyClosed
	}
	r.consuming = true
	return nil
}

func (r *bodyReader) endConsume() {
	r.mu.Lock()
	r.consuming = false
	if r.closed && !r.waiting {
		r.release()
	}
	r.mu.Unlock()
}

// Read implements io.Reader for transports that do not use WriteTo.
func (r *bodyReader) Read(p []byte) (int, error) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if err := r.begin(); err != nil {
		return 0, err
	}
	defer r.endConsume()
	if r.err != nil {
		return 0, r.err
	}
	if err := r.fill(min(len(p), writeSize)); err != nil {
		r.err = err
		return 0, err
	}
	if r.z.out.Len() == 0 {
		return 0, io.EOF
	}
	return r.z.out.Read(p)
}

// WriteTo writes the rest of the body to w in pieces of about writeSize
// compressed bytes.
func (r *bodyReader) WriteTo(w io.Writer) (int64, error) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if err := r.begin(); err != nil {
		return 0, err
	}
	defer r.endConsume()
	var n int64
	for r.err == nil {
		ferr := r.fill(writeSize)
		if out := r.z.out.Bytes(); len(out) > 0 {
			m, err := w.Write(out)
			n += int64(m)
			r.z.out.Reset()
			if err != nil {
				r.err = err
				break
			}
		}
		if ferr != nil {
			r.err = ferr
			break
		}
		if r.finished {
			return n, nil
		}
	}
	return n, r.err
}

// Close stops the encoding goroutine, waits for it (every call of it: the
// source is not read once any Close has returned) and, once no Read or
// WriteTo is running, returns the pooled state. It is idempotent.
func (r *bodyReader) Close() error {
	r.mu.Lock()
	if r.closed {
		// Another Close (the transport's and the client's may race) has
		// stopped the encoder: wait for it as well.
		done := r.done
		r.mu.Unlock()
		if done != nil {
			<-done
		}
		return nil
	}
	r.closed = true
	done := r.done
	if done != nil {
		close(r.stop)
		r.waiting = true
		r.mu.Unlock()
		<-done
		r.mu.Lock()
		r.waiting = false
	}
	if !r.consuming {
		r.release()
	}
	r.mu.Unlock()
	return nil
}

// release gives the pooled state back, with every pipeline buffer in
// z.free. r.mu is held; no consumer and no producer is running.
func (r *bodyReader) release() {
	z := r.z
	if z == nil {
		return
	}
	r.z = nil
	for len(z.full) > 0 {
		c := <-z.full
		z.free <- c.b[:0]
	}
	z.scr.release()
	r.c.compressors.Put(z)
}
