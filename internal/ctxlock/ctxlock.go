// Package ctxlock is a mutex whose waiters give up when their context
// ends: the line transports' lock on their connection (apptuit) and the
// reporter's lock that keeps reports from overlapping (reporter).
package ctxlock

import "context"

// Lock is held by one goroutine at a time. Make it with New; a nil Lock
// blocks forever.
type Lock chan struct{}

// New returns an unlocked Lock.
func New() Lock { return make(Lock, 1) }

// Acquire takes l, waiting for its holder to release it, unless ctx ends
// first: then it returns ctx's error and does not hold l. A free l is
// taken even when ctx has ended.
func (l Lock) Acquire(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Take takes l, waiting as long as its holder keeps it.
func (l Lock) Take() { l <- struct{}{} }

// Release releases l, which the caller holds.
func (l Lock) Release() { <-l }
