package apptuit

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Compressor is a streaming compressor for the bodies of Send and
// SendTimeSeries, such as *gzip.Writer and *zlib.Writer of the standard
// library or the writers of github.com/klauspost/compress/gzip and
// .../zlib (see WithCompressor). The client keeps a pool of them, one per
// body in flight, and reuses each for many bodies: Reset must discard all
// state and make the writer write a fresh stream to w; Close must flush
// the stream's end, but not close w.
type Compressor interface {
	io.WriteCloser
	Reset(w io.Writer)
}

// initCompression picks the client's compressor factory and the
// Content-Encoding it produces. A compressor given with WithCompressor is
// tried on a sample body, which must decompress to the same bytes.
func (c *Client) initCompression() error {
	cfg := &c.cfg
	if cfg.newCompressor != nil {
		if cfg.compressionSet || cfg.levelSet {
			return errors.New("WithCompressor replaces WithCompression and WithCompressionLevel: give one or the other")
		}
		c.newZW, c.encoding = cfg.newCompressor, cfg.compressorEncoding
		z, err := c.getCompressor()
		if err != nil {
			return fmt.Errorf("WithCompressor: %w", err)
		}
		if z.zw == nil {
			return errors.New("WithCompressor: the function returned a nil Compressor")
		}
		if err := probeCompressor(z.zw, c.encoding); err != nil {
			return fmt.Errorf("WithCompressor(%q): %w", c.encoding, err)
		}
		c.compressors.Put(z)
		return nil
	}
	level := cfg.level
	switch cfg.compression {
	case Gzip:
		c.encoding = "gzip"
		c.newZW = func(w io.Writer) (Compressor, error) { return gzip.NewWriterLevel(w, level) }
		c.parGzip = true
	case Deflate:
		c.encoding = "deflate"
		c.newZW = func(w io.Writer) (Compressor, error) { return zlib.NewWriterLevel(w, level) }
	}
	return nil
}

// probeCompressor compresses a sample put body twice with zw (the second
// time after Reset) and checks that the standard library's decoder for
// encoding gives the sample back each time.
func probeCompressor(zw Compressor, encoding string) error {
	sample := []byte{'['}
	for i := range 2000 { // about 150 KB: several deflate blocks
		if i > 0 {
			sample = append(sample, ',')
		}
		sample = append(sample, `{"metric":"apptuit.compressor.probe","tags":{"host":"h`...)
		sample = strconv.AppendInt(sample, int64(i%37), 10)
		sample = append(sample, `"},"timestamp":`...)
		sample = strconv.AppendInt(sample, 1700000000+int64(i)*10, 10)
		sample = append(sample, `,"value":`...)
		sample = appendPyFloat(sample, float64(i%977)*0.25)
		sample = append(sample, '}')
	}
	sample = append(sample, ']')
	for try := range 2 {
		var buf bytes.Buffer
		zw.Reset(&buf)
		if _, err := zw.Write(sample); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
		if buf.Len() == 0 {
			return errors.New("nothing was written to the writer given to Reset")
		}
		var zr io.Reader
		var err error
		switch encoding {
		case "gzip":
			zr, err = gzip.NewReader(&buf)
		case "deflate":
			zr, err = zlib.NewReader(&buf)
		}
		if err == nil {
			var got []byte
			got, err = io.ReadAll(zr)
			if err == nil && !bytes.Equal(got, sample) {
				err = fmt.Errorf("decompressed %d bytes, want the %d written", len(got), len(sample))
			}
		}
		if err != nil {
			when := "first stream"
			if try == 1 {
				when = "stream after Reset"
			}
			return fmt.Errorf("%s is not valid %s: %w", when, encoding, err)
		}
	}
	return nil
}
