package server

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// OpenTSDB's telnet-style protocol, on Serve's port (port.go): one command
// per line, ended by "\n" or "\r\n".
//
//	put <metric> <timestamp> <value> <tagk>=<tagv> ...   store a point
//	version, help, stats                                 answered with text lines
//	auth <token>                                         with WithToken: before put and stats
//	exit                                                 close the connection
//
// A put line is judged by the rule of a JSON put's point, with its
// messages (opentsdb.LineBatch); a refused line is answered "put:
// <reason>", counted and logged, and the connection goes on. Nothing is
// answered to a good line. The points of the lines received together
// (until the client pauses, at most commitDelay after the first of them,
// or 64 KiB of lines) are committed together, as the points of an HTTP
// put body are:
// through the same Commit, into the request log as one record (Method
// "TELNET", Path "put", Status 204, or 400 when a line was refused, as
// /api/put would answer).
//
// Bounds: a line is at most maxLineBytes (a longer one is refused and
// skipped to its end), at most maxLineConns connections at once (the next
// is answered with an error line and closed), a connection that completes
// no line for lineIdleTimeout is closed, and the answers a client does
// not read are dropped beyond maxAnswerBytes rather than ever holding up
// the reading: collectd's write_tsdb, for one, never reads them.
//
// Authentication: OpenTSDB's telnet has none of its own; OpenTSDB 2.4's
// authentication plugins take a first command and answer AUTH_SUCCESS or
// AUTH_FAIL. With WithToken a connection must first send "auth <token>"
// (answered "AUTH_SUCCESS", or "AUTH_FAIL" for a wrong token; the
// connection stays open), and put and stats lines before it are refused
// and logged with status 401. Without WithToken, as over HTTP, anything
// is accepted.
const (
	// maxLineBytes bounds a line, its end included: 4 KiB, four times
	// OpenTSDB's 1 KiB (tcollector, collectd's write_tsdb and TelnetTCP
	// send at most 1 KiB).
	maxLineBytes    = 4 << 10
	maxLineConns    = 64       // line connections at once
	lineCommitBytes = 64 << 10 // lines committed together, at most
	lineIdleTimeout = 10 * time.Minute
	maxAnswerBytes  = 16 << 10 // answers waiting for a client that does not read them
	answerWait      = 5 * time.Second
	// commitDelay is how long lines wait, from the first, for more before
	// they are committed when the client pauses: a stream over TCP comes in
	// segments of a few KiB, and a commit per segment would fill the
	// request log and cost a store commit per few dozen lines.
	commitDelay = 20 * time.Millisecond
)

// lineConn is one connection speaking lines.
type lineConn struct {
	s      *Server
	conn   net.Conn
	br     *bufio.Reader
	out    *answerWriter
	authed bool
	// The lines judged since the last commit: their points, counts and
	// bytes, when the first of them arrived, and whether one was refused
	// for want of the token.
	lines  opentsdb.LineBatch
	bytes  int64
	start  time.Time
	unauth bool
	// deadline is when the next line must be complete; waitUntil, when
	// set, an earlier end to a wait for more lines before a commit.
	deadline  time.Time
	waitUntil time.Time
}

// errClosing ends the reading of a line connection when the server closes.
var errClosing = errors.New("server closing")

// serveLines serves c, whose first byte, already read, is first, as a line
// connection, until it ends or the server closes.
func (s *Server) serveLines(c net.Conn, first byte) {
	lc := &lineConn{s: s, conn: c, authed: s.cfg.token == ""}
	if msg := s.addLineConn(lc); msg != "" {
		// Answered, then what the client sent is read (a little, briefly)
		// before closing, lest closing with unread data reset the
		// connection and lose the answer.
		c.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(c, msg+"\n")
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, maxLineBytes))
		c.Close()
		s.record(Request{Time: time.Now(), Method: "TELNET", Path: "put", Status: 503, Errors: []string{msg}})
		return
	}
	defer s.removeLineConn(lc)
	lc.run(first)
}

// addLineConn registers lc, or returns why it is refused.
func (s *Server) addLineConn(lc *lineConn) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return "error: the server is closing"
	default:
	}
	if len(s.lineConns) >= maxLineConns {
		return fmt.Sprintf("error: too many connections: the server takes %d line connections at once; retry later", maxLineConns)
	}
	if s.lineConns == nil {
		s.lineConns = map[*lineConn]struct{}{}
	}
	s.lineConns[lc] = struct{}{}
	s.lineWG.Add(1)
	return ""
}

func (s *Server) removeLineConn(lc *lineConn) {
	s.mu.Lock()
	delete(s.lineConns, lc)
	s.mu.Unlock()
	s.lineWG.Done()
}

// startSniff registers a connection whose first byte is being read, so
// that Close closes it; it returns false when the server is closing.
func (s *Server) startSniff(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return false
	default:
	}
	if s.sniffing == nil {
		s.sniffing = map[net.Conn]struct{}{}
	}
	s.sniffing[c] = struct{}{}
	return true
}

func (s *Server) endSniff(c net.Conn) {
	s.mu.Lock()
	delete(s.sniffing, c)
	s.mu.Unlock()
}

// stopLines makes the line connections stop reading (each commits what it
// has read) and closes the connections whose first byte has not come. The
// caller has closed s.done.
func (s *Server) stopLines() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for lc := range s.lineConns {
		lc.conn.SetReadDeadline(time.Unix(1, 0))
	}
	for c := range s.sniffing {
		c.Close()
	}
}

func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Read reads from the connection within the line's deadline; once the
// server is closing, it fails. (Close sets a past deadline after closing
// s.done; setting ours first, then checking, cannot undo it.)
func (c *lineConn) Read(p []byte) (int, error) {
	d := c.deadline
	if !c.waitUntil.IsZero() && c.waitUntil.Before(d) {
		d = c.waitUntil
	}
	c.conn.SetReadDeadline(d)
	if c.s.closing() {
		return 0, errClosing
	}
	return c.conn.Read(p)
}

func (c *lineConn) run(first byte) {
	defer c.conn.Close()
	c.out = newAnswerWriter(c.conn)
	c.deadline = time.Now().Add(c.s.cfg.lineIdle)
	c.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader([]byte{first}), c), maxLineBytes)
	for {
		if !c.lineBuffered() && c.lines.Lines() > 0 {
			c.awaitMore()
		}
		line, size, err := c.readLine()
		if size > 0 {
			if c.lines.Lines() == 0 && c.bytes == 0 {
				c.start = time.Now()
			}
			c.bytes += int64(size)
		}
		if err != nil {
			if size > 0 && !errors.Is(err, errLineTooLong) {
				c.lines.Refuse(fmt.Sprintf("incomplete line: the connection ended (or idled out) %d bytes into a line; the line is dropped", size))
			}
			if !errors.Is(err, errLineTooLong) {
				break
			}
			msg := fmt.Sprintf("line too long: longer than %d bytes; the line is dropped", maxLineBytes)
			c.lines.Refuse(msg)
			c.out.add("put: " + msg + "\n")
			continue
		}
		c.deadline = time.Now().Add(c.s.cfg.lineIdle)
		if c.handle(line) {
			break
		}
		if c.bytes >= lineCommitBytes {
			c.commit()
		}
	}
	c.commit()
	wait := answerWait
	if c.s.closing() {
		wait = 0
	}
	if n := c.out.close(wait); n > 0 {
		c.s.cfg.messages()("telnet %s: %d answers dropped: the client did not read them", c.conn.RemoteAddr(), n)
	}
}

// awaitMore waits for more bytes, until the pending lines are commitDelay
// old at most, and commits the pending lines if none come (or the
// connection ends or fails: the reading then meets that again).
func (c *lineConn) awaitMore() {
	until := c.start.Add(commitDelay)
	if n := c.br.Buffered(); n < maxLineBytes && time.Now().Before(until) {
		c.waitUntil = until
		_, err := c.br.Peek(n + 1)
		c.waitUntil = time.Time{}
		if err == nil {
			return
		}
	}
	c.commit()
}

// lineBuffered reports whether a whole line is buffered, so that reading
// it does not wait for the client.
func (c *lineConn) lineBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its end ("\n" or "\r\n") and its
// size with the end. A line longer than maxLineBytes is skipped to its end
// and reported as errLineTooLong. At the end of the connection (or a read
// error) it returns the error and the size of a last line left incomplete.
func (c *lineConn) readLine() (line []byte, size int, err error) {
	line, err = c.br.ReadSlice('\n')
	size = len(line)
	if err == nil {
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, size, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, size, err
	}
	for err == bufio.ErrBufferFull {
		line, err = c.br.ReadSlice('\n')
		size += len(line)
	}
	if err != nil {
		return nil, size, err
	}
	return nil, size, errLineTooLong
}

// handle serves one line; it returns true to end the connection.
func (c *lineConn) handle(line []byte) (quit bool) {
	line = bytes.TrimLeft(line, " ")
	if len(line) == 0 {
		return false
	}
	cmd, args, _ := bytes.Cut(line, []byte(" "))
	switch string(cmd) {
	case "put":
		if !c.authed {
			c.unauthorized("put")
			return false
		}
		if reason := c.lines.Put(args); reason != "" {
			c.out.add("put: " + reason + "\n")
		}
	case "auth":
		c.auth(bytes.TrimSpace(args))
	case "exit":
		return true
	case "help":
		c.out.add("available commands: auth exit help put stats version\n")
	case "version":
		c.out.add("apptuit-go " + apptuit.Version + " (apptuit serve, " + runtime.Version() + ")\n")
	case "stats":
		if !c.authed {
			c.unauthorized("stats")
			return false
		}
		c.commit() // the counts include the lines before
		c.out.add(string(c.s.statsLines(time.Now())))
	default:
		msg := "unknown command: " + opentsdb.Cut(string(cmd), 64) + ".  Try `help'."
		c.lines.Refuse(msg)
		c.out.add(msg + "\n")
	}
	return false
}

// unauthorized refuses cmd on a connection that has not sent the token.
func (c *lineConn) unauthorized(cmd string) {
	msg := cmd + `: unauthorized: this server requires a token; send "auth <token>" first`
	c.lines.Refuse(msg)
	c.unauth = true
	c.out.add(msg + "\n")
}

// auth checks the token of an "auth" line, as WithToken's header is
// checked: in constant time, and without one set any is accepted.
func (c *lineConn) auth(token []byte) {
	if c.s.cfg.token == "" || (len(token) > 0 && subtle.ConstantTimeCompare(token, []byte(c.s.cfg.token)) == 1) {
		c.authed = true
		c.out.add("AUTH_SUCCESS\r\n")
		return
	}
	c.lines.Refuse("auth: the token is invalid")
	c.unauth = true
	c.out.add("AUTH_FAIL\r\n")
}

// commit stores the points of the lines judged since the last commit and
// records them in the request log as one request.
func (c *lineConn) commit() {
	if c.lines.Lines() == 0 {
		c.bytes = 0
		return
	}
	b, res := c.lines.Take()
	rec := Request{
		Time: c.start, Method: "TELNET", Path: "put", BodySize: c.bytes, Status: 204,
		Accepted: res.Accepted, Failed: res.Failed, Errors: res.Errors,
	}
	if res.Failed > 0 {
		rec.Status = 400
	}
	if c.unauth {
		rec.Status = 401
	}
	if b.Len() > 0 {
		evicted, err := c.s.put.Commit(b)
		if err != nil {
			msg := "storing the points: " + err.Error()
			rec.Status, rec.Accepted, rec.Failed, rec.Errors = 500, 0, res.Accepted+res.Failed, []string{msg}
			c.out.add("put: " + msg + "\n")
		}
		rec.Evicted = evicted
	}
	rec.Duration = time.Since(c.start)
	c.s.record(rec)
	c.bytes, c.unauth = 0, false
}

// statsLines answers "stats": the server's counts as OpenTSDB's stats
// lines, "<metric> <unix seconds> <value> [<tag>=<value>]".
func (s *Server) statsLines(now time.Time) []byte {
	st := s.Stats()
	s.mu.Lock()
	conns := len(s.lineConns)
	s.mu.Unlock()
	ts := strconv.FormatInt(now.Unix(), 10)
	var b []byte
	line := func(metric string, v uint64, tag string) {
		b = append(b, "apptuit.serve."+metric+" "+ts+" "...)
		b = strconv.AppendUint(b, v, 10)
		if tag != "" {
			b = append(b, " "+tag...)
		}
		b = append(b, '\n')
	}
	line("points", uint64(st.Points), "")
	line("series", uint64(st.Series), "")
	line("points.accepted", st.Accepted, "")
	line("points.evicted", st.EvictedByAge, "reason=retention")
	line("points.evicted", st.EvictedByMemory, "reason=max_memory")
	line("bytes", uint64(st.Bytes), "")
	line("requests", st.Requests, "")
	line("connections", uint64(conns), "type=telnet")
	return b
}

// answerWriter writes a line connection's answers from its own goroutine,
// so that a client that does not read them never holds up the reading of
// its lines: beyond maxAnswerBytes waiting, answers are dropped (and
// counted), and after a failed write (the client gone, or not reading for
// writeTimeout) all are.
type answerWriter struct {
	conn    net.Conn
	mu      sync.Mutex
	pending []byte
	dropped int
	failed  bool
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

func newAnswerWriter(conn net.Conn) *answerWriter {
	a := &answerWriter{conn: conn, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// add queues s, a whole answer line.
func (a *answerWriter) add(s string) {
	a.mu.Lock()
	if a.failed || len(a.pending)+len(s) > maxAnswerBytes {
		a.dropped++
		a.mu.Unlock()
		return
	}
	a.pending = append(a.pending, s...)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *answerWriter) run() {
	defer close(a.done)
	var spare []byte
	for {
		quitting := false
		select {
		case <-a.wake:
		case <-a.quit:
			quitting = true
		}
		a.mu.Lock()
		b := a.pending
		a.pending = spare[:0]
		a.mu.Unlock()
		if len(b) > 0 {
			a.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := a.conn.Write(b); err != nil {
				a.mu.Lock()
				a.failed, a.pending = true, nil
				a.mu.Unlock()
				return
			}
		}
		spare = b
		if quitting {
			return
		}
	}
}

// close writes what is queued, waiting for it at most wait, and returns
// how many answers were dropped. The caller then closes the connection,
// which ends a write still blocked.
func (a *answerWriter) close(wait time.Duration) int {
	close(a.quit)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}
