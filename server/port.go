package server

import (
	"net"
	"sync"
	"time"
)

// Serve's port takes HTTP and OpenTSDB's telnet-style lines (telnet.go),
// as OpenTSDB's port 4242 does: the first byte of a connection tells them
// apart. A connection whose first byte is a lowercase ASCII letter speaks
// lines (every command is a lowercase word: put, version, help, stats,
// auth, exit); any other is HTTP, served by net/http. OpenTSDB's own rule
// (an uppercase letter is HTTP, anything else lines) is the same for both
// protocols' real clients; this one also sends a TLS handshake (0x16) to
// net/http, whose 400 a TLS client reports as "server gave HTTP response
// to HTTPS client", rather than reading its bytes as lines.
//
// A browser cannot reach the line protocol: what it opens to an http://
// URL starts with a request line whose method is uppercase (fetch and
// forms send GET, POST, ... in uppercase; a method in lowercase other
// than those is not simple, so a cross-site page can send it only after a
// CORS preflight, an OPTIONS request this server never approves), and it
// stays HTTP for the connection's life; a body, however crafted, is never
// read as lines. An https:// URL starts with a TLS handshake, which is
// HTTP here. So the guards against foreign pages (Host, Origin, the
// content type of writes) hold on this port whatever a page sends.

// isLineStart reports whether a connection whose first byte is b speaks
// the line protocol.
func isLineStart(b byte) bool { return 'a' <= b && b <= 'z' }

// portListener accepts the connections of Serve's listener and hands the
// HTTP ones to net/http through Accept, serving the line ones itself. The
// first byte is read in a goroutine per connection (for at most
// readHeaderTimeout), so a silent client delays no one.
type portListener struct {
	net.Listener
	s      *Server
	conns  chan net.Conn
	errs   chan error
	done   chan struct{} // closed by Close
	closed sync.Once
}

func (s *Server) newPortListener(l net.Listener) *portListener {
	p := &portListener{Listener: l, s: s, conns: make(chan net.Conn), errs: make(chan error), done: make(chan struct{})}
	go p.acceptLoop()
	return p
}

// Accept returns the next HTTP connection, or an error of the underlying
// listener's Accept (net/http retries the temporary ones).
func (p *portListener) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case err := <-p.errs:
		return nil, err
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close closes the underlying listener; connections already accepted are
// the server's to close.
func (p *portListener) Close() error {
	err := net.ErrClosed
	p.closed.Do(func() {
		close(p.done)
		err = p.Listener.Close()
	})
	return err
}

func (p *portListener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := p.Listener.Accept()
		if err == nil {
			delay = 0
			go p.sniff(c)
			continue
		}
		select {
		case p.errs <- err:
		case <-p.done:
			return
		}
		// Until net/http, told of the error, retries or closes us.
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-p.done:
			t.Stop()
			return
		}
	}
}

// sniff reads the first byte of c and serves c as lines or hands it to
// net/http.
func (p *portListener) sniff(c net.Conn) {
	if !p.s.startSniff(c) {
		c.Close()
		return
	}
	var first [1]byte
	c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
	n, err := c.Read(first[:])
	for err == nil && n == 0 {
		n, err = c.Read(first[:])
	}
	p.s.endSniff(c)
	if err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	if isLineStart(first[0]) {
		p.s.serveLines(c, first[0])
		return
	}
	select {
	case p.conns <- &peekedConn{Conn: c, first: first[:]}:
	case <-p.done:
		c.Close()
	}
}

// peekedConn is a connection whose first bytes were read already: Read
// returns them first.
type peekedConn struct {
	net.Conn
	first []byte
}

func (c *peekedConn) Read(b []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(b, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// CloseWrite lets net/http half-close the connection after an answer that
// ends it, as it does for a *net.TCPConn, so the client reads the whole
// answer.
func (c *peekedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
