package apptuit

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"sync"
)

// source is a sequence of validated points that can be encoded by index
// range.
type source interface {
	// appendFrom encodes points [i, end) into b, comma-separated, stopping
	// early once len(b) >= limit; it returns b and the next index. tags is
	// scratch space of the caller's. Safe for concurrent use with distinct
	// scratch.
	appendFrom(b []byte, i, end, limit int, first bool, tags *[]kv) ([]byte, int)
}

// compressor is a pooled gzip or zlib writer with its output buffer.
type compressor struct {
	gz   *gzip.Writer
	zl   *zlib.Writer
	out  bytes.Buffer
	raw  []byte
	tags []kv // scratch for pointsSource
}

const chunkSize = 32 << 10

func (c *Client) getCompressor() *compressor {
	if v := c.compressors.Get(); v != nil {
		return v.(*compressor)
	}
	z := &compressor{raw: make([]byte, 0, chunkSize+4096)}
	var err error
	switch c.cfg.compression {
	case Gzip:
		z.gz, err = gzip.NewWriterLevel(&z.out, c.cfg.level)
	case Deflate:
		z.zl, err = zlib.NewWriterLevel(&z.out, c.cfg.level)
	}
	if err != nil { // levels are validated in New
		panic("apptuit: compressor: " + err.Error())
	}
	return z
}

// bodyReader streams the encoded, compressed JSON array of points [from,
// to) of src: each Read encodes about 32 KiB of JSON and compresses it, so
// the whole document never exists in memory.
type bodyReader struct {
	mu       sync.Mutex // the transport may Close from another goroutine
	c        *Client
	src      source
	pos, end int
	z        *compressor
	started  bool
	done     bool
	err      error
}

func (c *Client) newBody(src source, from, to int) io.ReadCloser {
	z := c.getCompressor()
	z.out.Reset()
	switch {
	case z.gz != nil:
		z.gz.Reset(&z.out)
	case z.zl != nil:
		z.zl.Reset(&z.out)
	}
	return &bodyReader{c: c, src: src, pos: from, end: to, z: z}
}

func (r *bodyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.z == nil {
		return 0, io.ErrClosedPipe
	}
	for r.z.out.Len() == 0 {
		if r.done {
			return 0, io.EOF
		}
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	return r.z.out.Read(p)
}

// fill encodes the next chunk of points and pushes it through the
// compressor into r.z.out.
func (r *bodyReader) fill() {
	raw := r.z.raw[:0]
	if !r.started {
		raw = append(raw, '[')
	}
	raw, r.pos = r.src.appendFrom(raw, r.pos, r.end, chunkSize, !r.started, &r.z.tags)
	r.started = true
	last := r.pos >= r.end
	if last {
		raw = append(raw, ']')
	}
	r.z.raw = raw
	z := r.z
	var w io.Writer = &z.out
	switch {
	case z.gz != nil:
		w = z.gz
	case z.zl != nil:
		w = z.zl
	}
	if _, err := w.Write(raw); err != nil {
		r.err = err
		return
	}
	if last {
		var err error
		switch {
		case z.gz != nil:
			err = z.gz.Close()
		case z.zl != nil:
			err = z.zl.Close()
		}
		if err != nil {
			r.err = err
			return
		}
		r.done = true
	}
}

// Close returns the compressor to the pool.
func (r *bodyReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.z != nil {
		r.c.compressors.Put(r.z)
		r.z = nil
	}
	return nil
}
