package apptuit

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/apptuit-go/apptuit/internal/ctxlock"
)

// DefaultXCollectorAddr is where XCollector's UDP bridge listens.
const DefaultXCollectorAddr = "127.0.0.1:8953"

// Limits of the line transports.
const (
	// MaxLineBytes is the longest line sent, newline excluded: OpenTSDB's
	// telnet decoder and tcollector/XCollector refuse lines of 1024 bytes
	// or more.
	MaxLineBytes = 1023
	// linePacketBytes is the largest UDP datagram XCollectorUDP sends:
	// XCollector reads 8192 bytes per datagram.
	linePacketBytes = 8192
)

// LineTransport sends points as OpenTSDB text lines instead of HTTP JSON:
// over TCP in the telnet form (TelnetTCP) or over UDP in XCollector's form
// (XCollectorUDP). Give it to a client with WithLineTransport; Send,
// SendTimeSeries and SendPrepared then write lines, and everything built on
// them (package reporter) works unchanged. Release its connection with
// Client.Close.
//
// Timestamps are written as the client's WithTimestampPrecision says, by
// the same rules and with the same refusals as over HTTP (see Precision):
// seconds, or milliseconds for a sub-second time, by default; InfluxDB's
// OpenTSDB listener needs PrecisionSeconds.
//
// The line protocols have no answers: a line the server refuses (a bad
// value, a name it does not accept, a database missing) is dropped by the
// server without the client knowing, so Send never returns a *SendError.
// What a nil error means differs: over TCP the lines reached the server as
// far as TCP can tell (see TelnetTCP); over UDP they were handed to the
// kernel, no more (see XCollectorUDP). A failure is a *NetworkError (and
// IsRetryable) whose Undelivered counts the points that may not have
// arrived.
//
// A LineTransport is safe for concurrent use; it writes the lines of one
// Send call together, so that lines of concurrent calls never interleave.
type LineTransport struct {
	network string // "tcp" or "udp"
	addr    string
	put     bool // lines start with "put "
	ascii   bool // names and tag values limited to tcollector's [-_./a-zA-Z0-9]
	packet  int

	sem  ctxlock.Lock // held by a Send, and guards tcp and udp
	tcp  *tcpConn     // TelnetTCP's connection (line_conn.go)
	udp  net.Conn     // XCollectorUDP's
	bufs sync.Pool    // of *[]byte: encoded lines
}

// TelnetTCP returns a transport that writes "put <metric> <timestamp>
// <value> <k>=<v> ...\n" lines over one TCP connection to addr (host:port),
// as OpenTSDB's telnet port, tcollector, InfluxDB's [[opentsdb]] listener
// and VictoriaMetrics' -opentsdbListenAddr take them. The connection is
// made at the first Send and made again after a failure.
//
// A Send returns nil once every line of the call is in the server's hands
// as far as TCP tells: written, every byte acknowledged by the server's TCP
// (on Linux and macOS, which tell; elsewhere, the connection still open),
// and, on a connection this Send made, 50 ms passed without the server
// closing it (a server that accepts and closes every connection would
// otherwise lose every call's lines). What the server sends back
// (OpenTSDB's error lines) is read and dropped as it comes; the last of it
// is quoted in the error when the server closes the connection. TCP cannot
// tell more: lines acknowledged by a server that then exits, or closes the
// connection without reading them, are lost without an error, and a
// refused line is dropped by the server.
//
// A Send fails, with a retryable *NetworkError, when the connection cannot
// be made or written, when the server closes or resets it before the
// lines are acknowledged and settled (errors.Is io.EOF, or the reset's
// error), or when the server does not take them within the timeout: it
// is not reading (errors.Is os.ErrDeadlineExceeded). Its Undelivered is
// then every point of the call: TCP tells which bytes the server's kernel
// took, not which lines the server read, so any of them may be lost. A
// failed attempt is retried as the client's retries and backoff allow
// (WithRetries, WithBackoff), each time writing all the call's lines on a
// new connection, so lines may arrive twice; a connection that breaks in
// the middle of a line may leave that line truncated on the server's side
// (InfluxDB stores a last line without its newline as it is).
//
// Bounds and cost: each attempt (connecting, writing, waiting for the
// acknowledgement) and the backoff pause after it take at most the
// client's timeout (WithTimeout) together, so a Send takes at most
// timeout × (retries+1) once its lines are encoded, not counting the wait
// for a concurrent Send on the same transport to finish; its ctx ends it
// sooner. With a timeout of 0 only ctx bounds it. A Send takes at
// least a round trip to the server (the acknowledgement), and 50 ms more
// on a new connection: send many points per call, as the reporter does.
// The connection is kept between calls; one the server closed meanwhile
// is noticed (read as it happens) and made again.
//
// Tag values may hold any character but Unicode white space, '=' and
// control characters (a line is split at white space and a tag at '=');
// note that OpenTSDB itself accepts in tag values only what it accepts in
// names, and silently drops other lines.
func TelnetTCP(addr string) *LineTransport {
	return &LineTransport{network: "tcp", addr: addr, put: true, sem: ctxlock.New()}
}

// XCollectorUDP returns a transport that sends "<metric> <timestamp>
// <value> <k>=<v> ...\n" lines in UDP datagrams of at most 8192 bytes,
// split at line ends, to XCollector's UDP bridge at addr (""
// means DefaultXCollectorAddr, 127.0.0.1:8953), as Apptuit's Java client
// does. XCollector checks every line against tcollector's pattern, so
// metric names, tag keys and tag values must be made of ASCII letters and
// digits, '-', '_', '.' and '/': anything else is a *ValidationError.
//
// XCollectorUDP is fire-and-forget: Send returns nil once the datagrams
// are handed to the kernel, which says nothing of their arrival. A
// datagram is dropped without an error when the receiver's buffer is full,
// when nothing listens, or on the way; nothing is retried. Only a write
// error the kernel reports (such as "connection refused" after an ICMP
// port unreachable answered an earlier datagram) fails a Send, with a
// *NetworkError whose Undelivered counts the points of the datagrams not
// sent; those sent before it are not known to have arrived or not.
func XCollectorUDP(addr string) *LineTransport {
	if addr == "" {
		addr = DefaultXCollectorAddr
	}
	return &LineTransport{network: "udp", addr: addr, ascii: true, packet: linePacketBytes, sem: ctxlock.New()}
}

// String describes the transport, e.g. "TelnetTCP(127.0.0.1:4242)".
func (t *LineTransport) String() string {
	if t.network == "udp" {
		return "XCollectorUDP(" + t.addr + ")"
	}
	return "TelnetTCP(" + t.addr + ")"
}

func (t *LineTransport) validate() error {
	if t == nil {
		return errors.New("WithLineTransport: transport is nil (use TelnetTCP or XCollectorUDP)")
	}
	host, port, err := net.SplitHostPort(t.addr)
	if err != nil {
		return fmt.Errorf("WithLineTransport: %s: address %q is not host:port: %w", t, t.addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || host == "" {
		return fmt.Errorf("WithLineTransport: %s: address %q needs a host and a port in 1..65535", t, t.addr)
	}
	return nil
}

// WithLineTransport makes the client send points as text lines with t
// (TelnetTCP or XCollectorUDP) instead of POSTing JSON to the endpoint.
// Such a client needs no API token, and its Query and QueryRange return an
// *UnsupportedError (matching errors.ErrUnsupported). Call Client.Close to
// close t's connection when done.
func WithLineTransport(t *LineTransport) Option {
	return func(c *config) error {
		if err := t.validate(); err != nil {
			return err
		}
		c.line = t
		return nil
	}
}

// UnsupportedError is returned by an operation the client's transport
// cannot perform: a query on a client with a line transport, which can only
// send. It matches errors.ErrUnsupported.
type UnsupportedError struct {
	Op        string // "query" or "promql"
	Transport string // e.g. "TelnetTCP(127.0.0.1:4242)"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("apptuit: %s: not available with the line transport %s, which can only send", e.Op, e.Transport)
}

// Is makes errors.Is(err, errors.ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// lineUnsupported returns the error of op on a client with a line
// transport, or nil.
func (c *Client) lineUnsupported(op string) error {
	if c.cfg.line == nil {
		return nil
	}
	return &UnsupportedError{Op: op, Transport: c.cfg.line.String()}
}

// Close releases what the client holds open: the line transport's
// connection, or the idle connections of the HTTP client New made (one given
// with WithHTTPClient is left alone). With a line transport it first waits
// for a Send in progress to end, which that Send's timeout and ctx bound.
// The client may still be used afterwards: a line transport connects again
// at the next Send.
func (c *Client) Close() error {
	if err := c.made(); err != nil {
		return err
	}
	if c.cfg.line != nil {
		return c.cfg.line.close()
	}
	if c.cfg.httpClient == nil {
		c.hc.CloseIdleConnections()
	}
	return nil
}
