package apptuit

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
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
// not tried here: its first use is a Send's (see WithCompressor).
func (c *Client) initCompression() error {
	cfg := &c.cfg
	if cfg.newCompressor != nil {
		if cfg.compressionSet || cfg.levelSet {
			return errors.New("WithCompressor replaces WithCompression and WithCompressionLevel: give one or the other")
		}
		c.newZW, c.encoding = cfg.newCompressor, cfg.compressorEncoding
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
