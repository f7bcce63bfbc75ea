package apptuittest

import (
	"sync"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	faultFail
	faultStall
	faultDrop
)

type fault struct {
	kind   faultKind
	n      int
	status int
	delay  time.Duration
}

// faultQueue holds pending faults in the order they were asked for; each
// applies to its count of requests, then the next one starts.
type faultQueue struct {
	mu sync.Mutex
	q  []fault
}

func (f *faultQueue) push(ft fault) {
	if ft.n <= 0 {
		return
	}
	f.mu.Lock()
	f.q = append(f.q, ft)
	f.mu.Unlock()
}

func (f *faultQueue) next() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q) == 0 {
		return fault{}
	}
	ft := f.q[0]
	f.q[0].n--
	if f.q[0].n == 0 {
		f.q = f.q[1:]
	}
	return ft
}

func (f *faultQueue) reset() {
	f.mu.Lock()
	f.q = nil
	f.mu.Unlock()
}

func (f *faultQueue) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ft := range f.q {
		n += ft.n
	}
	return n
}

// FailNext makes the next n requests (any path) answer status with a JSON
// error body {"error":{"code":status,"message":"injected fault: …"}} and
// store nothing. Faults queue up: calls made one after the other apply one
// after the other. A status outside 100..599 is answered as 500, with the
// message naming the status asked for.
func (s *Server) FailNext(n, status int) { s.faults.push(fault{kind: faultFail, n: n, status: status}) }

// StallNext makes the next n requests wait d before being handled normally.
// A client that gives up while waiting gets nothing and stores nothing; a
// client that waits gets the normal answer (points stored). Close releases
// stalled requests with 503.
func (s *Server) StallNext(n int, d time.Duration) {
	s.faults.push(fault{kind: faultStall, n: n, delay: d})
}

// DropNext makes the next n requests read their body and then have their
// connection closed without any response; nothing is stored.
func (s *Server) DropNext(n int) { s.faults.push(fault{kind: faultDrop, n: n}) }

// PendingFaults returns how many requests are still to be faulted.
func (s *Server) PendingFaults() int { return s.faults.pending() }
