package apptuit

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bodyTestClient returns a client with comp and the source of series of
// the given sizes, with the JSON document a body of all of it must carry.
func bodyTestSource(t *testing.T, comp Compression, sizes ...int) (*Client, *seriesSet, int, []byte) {
	t.Helper()
	c := mustNew(t, WithToken("t"), WithIgnoreEnvTags(), WithCompression(comp))
	var series []*TimeSeries
	for k, n := range sizes {
		s, err := NewTimeSeries("m.body", map[string]string{"k": strconv.Itoa(k)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			s.AddUnix(1700000000+int64(i), float64(i)+0.5)
		}
		series = append(series, s)
	}
	src, total := benchSource(c, series)
	return c, src, total, jsonDoc(c, src, 0, total)
}

func decompress(t *testing.T, comp Compression, b []byte) []byte {
	t.Helper()
	var zr io.Reader
	var err error
	switch comp {
	case Gzip:
		zr, err = gzip.NewReader(bytes.NewReader(b))
	case Deflate:
		zr, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return b
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A body read whole, by WriteTo or by Reads of any size, with one CPU or
// more (the encoding goroutine), is the document, for empty, one-chunk and
// many-chunk bodies.
func TestBodyStreamsTheDocument(t *testing.T) {
	checkNoLeaks(t)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, comp := range []Compression{Gzip, Deflate, NoCompression} {
			for _, size := range []int{1, 10, 900, 8000} { // 12,001 points: about 13 chunks
				c, src, total, want := bodyTestSource(t, comp, size, size/2+1)
				for _, how := range []string{"WriteTo", "Read 7", "Read 65536"} {
					if how == "Read 7" && size > 900 {
						continue // slow under -race; the small bodies cover it
					}
					name := comp.String() + "/" + strconv.Itoa(total) + "/" + how + "/procs=" + strconv.Itoa(procs)
					body, err := c.newBody(src, 0, total)
					if err != nil {
						t.Fatal(err)
					}
					got := readWhole(t, name, body, how)
					if doc := decompress(t, comp, got.Bytes()); !bytes.Equal(doc, want) {
						t.Errorf("%s: %d bytes, want %d", name, len(doc), len(want))
					}
				}
				// A batch from the middle of the sequence.
				if total > 4 {
					body, _ := c.newBody(src, 1, total-1)
					var got bytes.Buffer
					body.WriteTo(&got)
					body.Close()
					if doc := decompress(t, comp, got.Bytes()); !bytes.Equal(doc, jsonDoc(c, src, 1, total-1)) {
						t.Errorf("%s/%d: middle batch differs", comp, total)
					}
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

// readBodyAs reads body whole the way how says: "WriteTo", "Read N" (Reads
// of N bytes) or "Read N then WriteTo".
func readBodyAs(body io.ReadCloser, how string) (*bytes.Buffer, error) {
	var got bytes.Buffer
	var n int
	rest, then := strings.CutSuffix(how, " then WriteTo")
	if _, err := fmt.Sscanf(rest, "Read %d", &n); err != nil {
		_, err := body.(io.WriterTo).WriteTo(&got)
		return &got, err
	}
	if then {
		buf := make([]byte, n)
		m, err := io.ReadFull(body, buf)
		got.Write(buf[:m])
		if err != nil {
			return &got, err
		}
		_, err = body.(io.WriterTo).WriteTo(&got)
		return &got, err
	}
	_, err := io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{body}, make([]byte, n))
	return &got, err
}

// readWhole reads body to its end with readBodyAs, checks that a Read
// after the end gives io.EOF, and closes it.
func readWhole(t *testing.T, name string, body io.ReadCloser, how string) *bytes.Buffer {
	t.Helper()
	got, err := readBodyAs(body, how)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if n, err := body.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("%s: Read after the end = %d, %v", name, n, err)
	}
	body.Close()
	return got
}

// watchedSource records reads of its points that end after closed is set;
// each read takes at least delay.
type watchedSource struct {
	pointSet
	delay     time.Duration
	closed    atomic.Bool
	lateReads atomic.Int64
}

func (w *watchedSource) read(i, n int, scr *scratch) ([]PreparedPoint, error) {
	pts, err := w.pointSet.read(i, n, scr)
	time.Sleep(w.delay)
	if w.closed.Load() {
		w.lateReads.Add(1)
	}
	return pts, err
}

// blockingWriter takes n bytes, then blocks every Write until released.
type blockingWriter struct {
	n       int
	blocked chan struct{}
	release chan struct{}
	once    sync.Once
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if w.n > 0 {
		w.n -= len(p)
		return len(p), nil
	}
	w.once.Do(func() { close(w.blocked) })
	<-w.release
	return 0, errors.New("connection closed")
}

// bodyKind is one of the two request bodies: streamed (body.go) or
// compressed in parallel (body_parallel.go), with the compression the tests
// use for it.
type bodyKind struct {
	name string
	comp Compression
	make func(c *Client, src pointSet, from, to int) io.ReadCloser
}

func bodyKinds() []bodyKind {
	return []bodyKind{
		{"streamed", Gzip, func(c *Client, src pointSet, from, to int) io.ReadCloser {
			b, _ := c.newBody(src, from, to)
			return b
		}},
		{"parallel", Gzip, func(c *Client, src pointSet, from, to int) io.ReadCloser {
			b, _ := c.newParBody(src, from, to)
			return b
		}},
	}
}

// Close while WriteTo is blocked on the connection returns without
// waiting for the write; WriteTo then fails, and so does a Read.
func TestBodyCloseDuringBlockedWrite(t *testing.T) {
	checkNoLeaks(t)
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	for _, kind := range bodyKinds() {
		c, src, total, _ := bodyTestSource(t, kind.comp, 200000)
		body := kind.make(c, src, 0, total)
		w := &blockingWriter{n: 64 << 10, blocked: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error)
		go func() {
			_, err := body.(io.WriterTo).WriteTo(w)
			done <- err
		}()
		<-w.blocked
		closed := make(chan struct{})
		go func() {
			body.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Close waited for the blocked write", kind.name)
		}
		close(w.release)
		if err := <-done; err == nil {
			t.Errorf("%s: WriteTo succeeded after Close", kind.name)
		}
		if _, err := body.Read(make([]byte, 10)); !errors.Is(err, errBodyClosed) {
			t.Errorf("%s: Read after Close: %v", kind.name, err)
		}
		if err := body.Close(); err != nil {
			t.Errorf("%s: second Close: %v", kind.name, err)
		}
	}
}

// Close while the encoders are busy waits for them: the points are not read
// once Close has returned (the caller may then change them).
func TestBodyCloseStopsTheEncoder(t *testing.T) {
	checkNoLeaks(t)
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	for _, kind := range bodyKinds() {
		c, src, total, _ := bodyTestSource(t, kind.comp, 200000)
		for i := range 10 {
			ws := &watchedSource{pointSet: src, delay: time.Millisecond}
			body := kind.make(c, ws, 0, total)
			done := make(chan error)
			go func() {
				_, err := body.(io.WriterTo).WriteTo(io.Discard)
				done <- err
			}()
			time.Sleep(time.Duration(3+i) * time.Millisecond)
			body.Close()
			ws.closed.Store(true)
			if err := <-done; !errors.Is(err, errBodyClosed) {
				t.Errorf("%s: WriteTo: %v, want errBodyClosed", kind.name, err)
			}
			time.Sleep(5 * time.Millisecond) // an encoder still running would read by then
			if n := ws.lateReads.Load(); n != 0 {
				t.Errorf("%s: the source was read %d times after Close returned", kind.name, n)
			}
		}
		// Closed before it is read: WriteTo fails, nothing starts.
		body := kind.make(c, src, 0, total)
		body.Close()
		if _, err := body.(io.WriterTo).WriteTo(io.Discard); !errors.Is(err, errBodyClosed) {
			t.Errorf("%s: WriteTo after Close: %v, want errBodyClosed", kind.name, err)
		}
	}
}

// Close from another goroutine while Reads go on: no race, no deadlock,
// and Reads fail once it has returned.
func TestBodyCloseDuringReads(t *testing.T) {
	checkNoLeaks(t)
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	kinds := bodyKinds()
	kinds[0].comp = Deflate // the streamed body with zlib as well
	for _, kind := range kinds {
		c, src, total, _ := bodyTestSource(t, kind.comp, 100000)
		for i := range 20 {
			body := kind.make(c, src, 0, total)
			errc := make(chan error)
			go func() {
				buf := make([]byte, 1000)
				for {
					if _, err := body.Read(buf); err != nil {
						errc <- err
						return
					}
				}
			}()
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			body.Close()
			if err := <-errc; err != io.EOF && !errors.Is(err, errBodyClosed) {
				t.Fatalf("%s: Read: %v", kind.name, err)
			}
		}
	}
}

// failingCompressor fails its Write after n bytes.
type failingCompressor struct {
	w io.Writer
	n int
}

func (f *failingCompressor) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("compressor out of memory")
	}
	return f.w.Write(p)
}
func (f *failingCompressor) Close() error      { return nil }
func (f *failingCompressor) Reset(w io.Writer) { f.w = w }

func TestBodyCompressorError(t *testing.T) {
	checkNoLeaks(t)
	c, src, total, _ := bodyTestSource(t, Gzip, 50000)
	c.compressors = sync.Pool{}
	c.parGzip = false // the streamed path, whose compressor is replaced
	c.newZW = func(w io.Writer) (Compressor, error) { return &failingCompressor{w: w, n: 200 << 10}, nil }
	body, _ := c.newBody(src, 0, total)
	_, err := body.WriteTo(io.Discard)
	if err == nil || err.Error() != "compress: compressor out of memory" {
		t.Errorf("WriteTo: %v", err)
	}
	if _, rerr := body.Read(make([]byte, 10)); rerr != err {
		t.Errorf("Read after the failure: %v, want the same error", rerr)
	}
	body.Close()
}
