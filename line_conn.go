package apptuit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"time"
)

// This file holds the line transports' connections: what a Send writes on
// them and what it may then claim. Over TCP a Send returns nil only when
// its lines are known to be in the server's hands as far as TCP can tell;
// over UDP it returns once the datagrams are handed to the kernel.

const (
	// lineSettle is how long a Send waits, on a TCP connection it made,
	// after the server's TCP acknowledged its lines, for the server to close
	// the connection: a server that accepts and closes every connection (at
	// its connection limit, shutting down, another protocol's port) takes
	// the lines into its kernel and drops them unread.
	lineSettle = 50 * time.Millisecond
	// maxAckPoll is the longest pause between two looks at the bytes the
	// server's TCP has not acknowledged (the looks start 20µs apart).
	maxAckPoll = 5 * time.Millisecond
	// maxServerSaid is how much of what the server wrote last is kept to
	// quote in an error.
	maxServerSaid = 256
)

// write writes b, the lines of points points, over the transport.
func (t *LineTransport) write(ctx context.Context, c *Client, b []byte, points int) error {
	if t.network == "udp" {
		return t.sendUDP(ctx, c, b, points)
	}
	return t.sendTCP(ctx, c, b, points)
}

// sendTCP writes b on a TCP connection and confirms it (see confirm); a
// failure is retried as the client's retries allow, each attempt writing
// all of b on a new connection. An attempt, connecting included, and the
// backoff pause after it take at most the client's timeout together, and
// the call at most timeout × (retries+1) (the last attempt is cut short by
// what the earlier ones overran).
func (t *LineTransport) sendTCP(ctx context.Context, c *Client, b []byte, points int) error {
	if err := t.sem.Acquire(ctx); err != nil {
		return lineCtxError(err, points)
	}
	defer t.sem.Release()
	timeout, retries := c.cfg.timeout, c.cfg.retries
	var end time.Time // of the call
	if timeout > 0 && timeout <= math.MaxInt64/time.Duration(retries+1) {
		end = time.Now().Add(timeout * time.Duration(retries+1))
	}
	for attempt := 0; ; attempt++ {
		var slot time.Time // the end of this attempt and its pause
		if timeout > 0 {
			slot = time.Now().Add(timeout)
		}
		if !end.IsZero() && end.Before(slot) {
			slot = end
		}
		deadline := slot
		if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
		err := t.attemptTCP(ctx, b, deadline)
		if err == nil {
			return nil
		}
		t.dropConn()
		if ctxErr := ctxDone(ctx); ctxErr != nil {
			return lineCtxError(ctxErr, points)
		}
		if attempt >= retries {
			return &NetworkError{Op: "send", Attempts: attempt + 1, Undelivered: points, Total: points,
				Err: fmt.Errorf("%s: %w", t, err), words: wordsTCP}
		}
		pause := c.backoff(attempt)
		if !slot.IsZero() {
			pause = min(pause, time.Until(slot))
		}
		if pause <= 0 {
			continue
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return lineCtxError(ctx.Err(), points)
		case <-timer.C:
		}
	}
}

// lineCtxError is the error of a Send whose ctx ended before its lines were
// confirmed.
func lineCtxError(err error, points int) error {
	return fmt.Errorf("apptuit: send: %s%w", mayNotHaveArrived(points, points), err)
}

// ctxDone returns ctx's error, first waiting for it when ctx's deadline has
// passed: a write given ctx's deadline times out a moment before ctx's own
// timer marks it done, and that failure is the deadline's, not the
// network's.
func ctxDone(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		<-ctx.Done()
	}
	return ctx.Err()
}

// attemptTCP writes all of b on the kept connection, or on a new one if
// the server closed it since the last Send, and confirms it.
func (t *LineTransport) attemptTCP(ctx context.Context, b []byte, deadline time.Time) error {
	tc, err := t.connTCP(ctx, deadline)
	if err != nil {
		return err
	}
	if err := tc.SetWriteDeadline(deadline); err != nil {
		return err
	}
	var n int
	if ctx.Done() == nil {
		n, err = tc.Write(b)
	} else {
		// A cancelled ctx ends a write blocked on a server that does not read.
		// If it ran, wait for it: run late, it would cut the next Send's write.
		done := make(chan struct{})
		stop := context.AfterFunc(ctx, func() { tc.SetWriteDeadline(time.Unix(1, 0)); close(done) })
		n, err = tc.Write(b)
		if !stop() {
			<-done
		}
	}
	if err != nil {
		return tc.writeFailed(n, len(b), err)
	}
	return tc.confirm(ctx, deadline, len(b))
}

// connTCP returns the kept connection, unless the server closed it since
// the last Send (after that Send's lines were confirmed), else dials one.
func (t *LineTransport) connTCP(ctx context.Context, deadline time.Time) (*tcpConn, error) {
	if t.tcp != nil {
		if !t.tcp.ended() {
			return t.tcp, nil
		}
		t.dropConn()
	}
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	t.tcp = newTCPConn(conn)
	return t.tcp, nil
}

// tcpConn is a TelnetTCP connection and the goroutine that reads it. The
// telnet protocol answers good lines with nothing, so whatever the server
// writes (OpenTSDB's error lines, an HTTP server's 400) is read and dropped
// as it comes, the last of it kept for errors, and the end of the stream
// tells that the server closed or reset the connection.
type tcpConn struct {
	net.Conn
	acks  *ackCounter // nil where the system cannot tell
	fresh bool        // made by the current Send: no Send has seen it stay open
	timer *time.Timer // the waits of confirm

	end  chan struct{} // closed when the reader ends
	err  error         // why it ended: io.EOF (the server closed) or the read's error; set before end is closed
	said []byte        // the last bytes the server wrote; read only after end is closed
}

func newTCPConn(conn net.Conn) *tcpConn {
	tc := &tcpConn{Conn: conn, acks: newAckCounter(conn), fresh: true, timer: time.NewTimer(time.Hour), end: make(chan struct{})}
	tc.timer.Stop()
	go tc.read()
	return tc
}

// read reads the connection until it ends.
func (tc *tcpConn) read() {
	defer close(tc.end)
	buf := make([]byte, 4096)
	for {
		n, err := tc.Conn.Read(buf)
		tc.keep(buf[:n])
		if err != nil {
			tc.err = err
			return
		}
	}
}

// keep appends p to said, which keeps the last maxServerSaid bytes.
func (tc *tcpConn) keep(p []byte) {
	if len(p) == 0 {
		return
	}
	if tc.said == nil {
		tc.said = make([]byte, 0, 2*maxServerSaid)
	}
	p = p[max(0, len(p)-maxServerSaid):]
	if over := len(tc.said) + len(p) - maxServerSaid; over > 0 {
		tc.said = append(tc.said[:0], tc.said[over:]...)
	}
	tc.said = append(tc.said, p...)
}

// ended reports whether the server closed or reset the connection (as
// far as the reader has seen).
func (tc *tcpConn) ended() bool {
	select {
	case <-tc.end:
		return true
	default:
		return false
	}
}

// close closes the connection and waits for its reader to end.
func (tc *tcpConn) close() error {
	err := tc.Conn.Close()
	<-tc.end
	return err
}

// confirm returns nil once the lines written (n bytes) are as far in the
// server's hands as TCP tells: the server's TCP acknowledged every byte
// (on Linux and macOS, which tell), and on a connection made by this Send
// lineSettle passed without the server closing it. It returns an error
// when the server closes or resets the connection first, or when the
// deadline passes before the acknowledgement: the server is not reading.
func (tc *tcpConn) confirm(ctx context.Context, deadline time.Time, n int) error {
	pause := 20 * time.Microsecond
	for tc.acks != nil {
		left, ok := tc.acks.unacked()
		if !ok || left == 0 {
			break
		}
		d := pause
		if !deadline.IsZero() {
			r := time.Until(deadline)
			if r <= 0 {
				return fmt.Errorf("the server's TCP acknowledged %d of the %d bytes written within the timeout (the server is not reading): %w", n-left, n, os.ErrDeadlineExceeded)
			}
			d = min(d, r)
		}
		pause = min(2*pause, maxAckPoll)
		if err := tc.wait(ctx, d, n); err != nil {
			return err
		}
	}
	if tc.fresh {
		d := lineSettle
		if !deadline.IsZero() {
			d = min(d, time.Until(deadline))
		}
		if d > 0 {
			if err := tc.wait(ctx, d, n); err != nil {
				return err
			}
		}
	}
	if tc.ended() {
		return tc.closed(n)
	}
	tc.fresh = false
	return nil
}

// wait waits for d to pass; it returns an error if the server closes the
// connection or ctx ends first.
func (tc *tcpConn) wait(ctx context.Context, d time.Duration, n int) error {
	tc.timer.Reset(d)
	select {
	case <-tc.timer.C:
		return nil
	case <-tc.end:
		tc.timer.Stop()
		return tc.closed(n)
	case <-ctx.Done():
		tc.timer.Stop()
		return ctx.Err()
	}
}

// closed is the error of a connection the server closed or reset with n
// bytes written on it by the current Send; the reader has ended.
func (tc *tcpConn) closed(n int) error {
	return fmt.Errorf("the server %s the connection with %d bytes written%s: %w", tc.how(), n, tc.quote(), tc.err)
}

// how is "closed" if the server closed the connection (the reader read to
// its end), else "reset"; the reader has ended.
func (tc *tcpConn) how() string {
	if errors.Is(tc.err, io.EOF) {
		return "closed"
	}
	return "reset"
}

// writeFailed is the error of a write that failed after n of size bytes.
func (tc *tcpConn) writeFailed(n, size int, err error) error {
	if tc.ended() {
		return fmt.Errorf("the server %s the connection with %d of %d bytes written%s: %w", tc.how(), n, size, tc.quote(), err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%d of %d bytes written within the timeout (the server is not reading): %w", n, size, err)
	}
	return fmt.Errorf("%d of %d bytes written: %w", n, size, err)
}

// quote returns "; it wrote <what it wrote last>", or "" if it wrote
// nothing; the reader has ended.
func (tc *tcpConn) quote() string {
	if len(tc.said) == 0 {
		return ""
	}
	return "; it wrote " + strconv.Quote(string(tc.said))
}

// sendUDP writes b in datagrams of whole lines, at most t.packet bytes
// each. Nothing tells whether they arrive: only a write error the kernel
// reports (a port unreachable) fails the Send, and counts the points of
// the datagrams not sent.
func (t *LineTransport) sendUDP(ctx context.Context, c *Client, b []byte, points int) error {
	if err := t.sem.Acquire(ctx); err != nil {
		return fmt.Errorf("apptuit: send: %s%w", notSent(points, points), err)
	}
	defer t.sem.Release()
	fail := func(off int, err error) error {
		t.dropConn()
		if ctxErr := ctxDone(ctx); ctxErr != nil {
			return fmt.Errorf("apptuit: send: %s%w", notSent(bytes.Count(b[off:], []byte{'\n'}), points), ctxErr)
		}
		return &NetworkError{Op: "send", Attempts: 1, Undelivered: bytes.Count(b[off:], []byte{'\n'}), Total: points,
			Err: fmt.Errorf("%s: %w", t, err), words: wordsUDP}
	}
	if t.udp == nil {
		d := net.Dialer{Timeout: c.cfg.timeout}
		conn, err := d.DialContext(ctx, "udp", t.addr)
		if err != nil {
			return fail(0, err)
		}
		t.udp = conn
	}
	var deadline time.Time
	if c.cfg.timeout > 0 {
		deadline = time.Now().Add(c.cfg.timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if err := t.udp.SetWriteDeadline(deadline); err != nil {
		return fail(0, err)
	}
	for off := 0; off < len(b); {
		end := splitLines(b, off, t.packet)
		if err := ctx.Err(); err != nil {
			return fail(off, err)
		}
		if _, err := t.udp.Write(b[off:end]); err != nil {
			return fail(off, err)
		}
		off = end
	}
	return nil
}

func (t *LineTransport) dropConn() {
	if t.tcp != nil {
		t.tcp.close()
		t.tcp = nil
	}
	if t.udp != nil {
		t.udp.Close()
		t.udp = nil
	}
}

// close closes the connection; the next Send makes a new one.
func (t *LineTransport) close() error {
	t.sem.Take()
	defer t.sem.Release()
	var err error
	if t.tcp != nil {
		err = t.tcp.close()
		t.tcp = nil
	}
	if t.udp != nil {
		err = t.udp.Close()
		t.udp = nil
	}
	return err
}
