package server

import (
	"net/http"
	"time"
)

// Request records one API request the server received: an HTTP request,
// or the lines a line connection sent together (Method "TELNET", Path
// "put"; see Server.Serve), which are recorded as the put of their points
// (Status 204, or 400 when a line was refused, 401 when a line came
// before the token, 503 for a connection over the limit).
type Request struct {
	Time     time.Time     // when it arrived
	Method   string        // e.g. "POST"
	Path     string        // URL path, e.g. "/api/put" (cut at 2 KiB)
	RawQuery string        // URL query, e.g. "details" (cut at 2 KiB)
	Header   http.Header   // a copy, at most 4 KiB, each value cut at 1 KiB, credentials redacted
	BodySize int64         // decompressed body bytes read by /api/put (0 for other paths)
	Status   int           // status answered; 0 when the client left
	Accepted int           // points accepted: stored, or already past WithRetention (then counted in Evicted)
	Failed   int           // points rejected
	Evicted  int           // points evicted by WithRetention or WithMaxMemory when this put was stored (its own or older ones)
	Errors   []string      // what went wrong, at most 5 messages of 512 bytes: the error answered, or the first rejected points' ("metric: message")
	Duration time.Duration // from arrival to answer
}

// Requests returns a copy of the request log, oldest first: the newest
// WithRequestLogSize requests (1000 by default). Requests to the web
// page's files and to the introspection endpoints are not in it.
func (s *Server) Requests() []Request { return s.reqs.Snapshot() }

// record adds rec to the request log and hands it to WithRequestLog's
// function.
func (s *Server) record(rec Request) {
	s.reqs.Add(rec)
	if s.cfg.logf != nil {
		s.cfg.logf(rec)
	}
}
