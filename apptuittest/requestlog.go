package apptuittest

import (
	"net/http"
	"sort"
	"sync"
	"unicode/utf8"
)

// requestLog keeps the newest records in a ring of fixed size.
type requestLog struct {
	mu    sync.Mutex
	ring  []Request
	next  int // where the next record goes
	full  bool
	total uint64
}

func (l *requestLog) init(n int) { l.ring = make([]Request, n) }

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.ring) == 0 {
		return
	}
	l.ring[l.next] = r
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
}

// snapshot returns the records kept, oldest first.
func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]Request(nil), l.ring[:l.next]...)
	}
	out := make([]Request, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

func (l *requestLog) count() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ring)
	l.next, l.full, l.total = 0, false, 0
}

// Bounds on what a record keeps of a request.
const (
	maxLoggedURL         = 2 << 10 // path, and query
	maxLoggedHeaderValue = 1 << 10
	maxLoggedHeaders     = 4 << 10 // keys and values, in all
)

// loggedHeader returns the copy of h a record keeps: keys in sorted order
// until maxLoggedHeaders bytes, each value cut at maxLoggedHeaderValue, and
// credentials redacted.
func loggedHeader(h http.Header) http.Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(http.Header, len(keys))
	total := 0
	for _, k := range keys {
		for _, v := range h[k] {
			v = cut(redactValue(k, v), maxLoggedHeaderValue)
			if total += len(k) + len(v); total > maxLoggedHeaders {
				return out
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// redactValue hides the credentials a header value may carry.
func redactValue(key, v string) string {
	switch http.CanonicalHeaderKey(key) {
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := cutSpace(v); ok {
			return scheme + " [redacted]"
		}
		return "[redacted]"
	case "Cookie":
		return "[redacted]"
	}
	return v
}

// cut returns s cut to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
