package apptuit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// lineChunk is how many bytes of lines one TCP write carries: the unit
// resent after a failure.
const lineChunk = 64 << 10

// write sends lines (whole lines, newline-terminated) over the transport.
func (t *LineTransport) write(ctx context.Context, c *Client, b []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	size := lineChunk
	if t.network == "udp" {
		size = t.packet
	}
	for off := 0; off < len(b); {
		end := splitLines(b, off, size)
		if err := t.writeChunk(ctx, c, b[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// writeChunk writes p on the connection, connecting first when needed. Over
// TCP a failure is retried on a new connection as the client's retries and
// backoff allow; over UDP it is returned at once.
func (t *LineTransport) writeChunk(ctx context.Context, c *Client, p []byte) error {
	for attempt := 0; ; attempt++ {
		err := t.tryWrite(ctx, c, p)
		if err == nil {
			return nil
		}
		t.dropConn()
		if ctxErr := ctxDone(ctx); ctxErr != nil {
			return fmt.Errorf("apptuit: send: %w", ctxErr)
		}
		if t.network == "udp" || attempt >= c.cfg.retries {
			return &NetworkError{Op: "send", Err: fmt.Errorf("%s: %w", t, err)}
		}
		timer := time.NewTimer(c.backoff(attempt))
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("apptuit: send: %w", ctx.Err())
		case <-timer.C:
		}
	}
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

func (t *LineTransport) tryWrite(ctx context.Context, c *Client, p []byte) error {
	conn, err := t.connect(ctx, c)
	if err != nil {
		return err
	}
	var deadline time.Time
	if c.cfg.timeout > 0 {
		deadline = time.Now().Add(c.cfg.timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	// A cancelled ctx ends a write blocked on a peer that does not read.
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	n, err := conn.Write(p)
	if err == nil && n < len(p) {
		err = errors.New("short write")
	}
	return err
}

// connect returns the connection, dialling one when there is none. Over
// TCP it first checks that a connection kept from an earlier Send was not
// closed by the server meanwhile (a write to it would seem to succeed and
// be lost), discarding whatever the server wrote (OpenTSDB answers a bad
// line with an error line).
func (t *LineTransport) connect(ctx context.Context, c *Client) (net.Conn, error) {
	if t.conn != nil {
		if t.network == "udp" || probe(t.conn) == nil {
			return t.conn, nil
		}
		t.dropConn()
	}
	d := net.Dialer{Timeout: c.cfg.timeout}
	conn, err := d.DialContext(ctx, t.network, t.addr)
	if err != nil {
		return nil, err
	}
	t.conn = conn
	return conn, nil
}

// probeWait is how long probe waits for the server's FIN or data.
const probeWait = time.Millisecond

// probe reports an error if the server closed conn, reading (and dropping)
// up to 64 KiB of what it sent.
func probe(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(probeWait)); err != nil {
		return err
	}
	defer conn.SetReadDeadline(time.Time{})
	var buf [4096]byte
	for i := 0; i < 16; i++ {
		if _, err := conn.Read(buf[:]); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			return err
		}
	}
	return nil
}

func (t *LineTransport) dropConn() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// close closes the connection; the next Send makes a new one.
func (t *LineTransport) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	return err
}
