package reqlog

import "sync"

// Ring keeps the newest records in a ring of fixed size and counts them
// all. It is safe for concurrent use; its zero value keeps none (see
// NewRing).
type Ring[T any] struct {
	mu    sync.Mutex
	ring  []T
	next  int // where the next record goes
	full  bool
	total uint64
}

// NewRing returns a ring that keeps the newest n records.
func NewRing[T any](n int) *Ring[T] { return &Ring[T]{ring: make([]T, n)} }

// Add records r, forgetting the oldest record when the ring is full.
func (l *Ring[T]) Add(r T) {
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

// Snapshot returns a copy of the records kept, oldest first.
func (l *Ring[T]) Snapshot() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]T(nil), l.ring[:l.next]...)
	}
	out := make([]T, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// Count returns how many records were added since the start or Reset.
func (l *Ring[T]) Count() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Cap returns how many records the ring keeps.
func (l *Ring[T]) Cap() int { return len(l.ring) }

// Reset forgets every record and the count.
func (l *Ring[T]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ring)
	l.next, l.full, l.total = 0, false, 0
}
