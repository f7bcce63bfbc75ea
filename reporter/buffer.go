package reporter

import "github.com/apptuit-go/apptuit"

// retryBuffer keeps batches of points that failed with a retryable error, in
// the order they were first meant to be sent, up to a number of points. When
// it would hold more, the oldest points are dropped. It is not safe for
// concurrent use: the reporter's mutex guards it.
type retryBuffer struct {
	limit   int
	n       int // points held
	batches [][]apptuit.DataPoint
}

// add appends b (which the buffer then owns) and returns how many of the
// oldest points were dropped to make room.
func (q *retryBuffer) add(b []apptuit.DataPoint) (dropped int) {
	if len(b) == 0 {
		return 0
	}
	q.batches = append(q.batches, b)
	q.n += len(b)
	for q.n > q.limit && len(q.batches) > 0 {
		excess := q.n - q.limit
		first := q.batches[0]
		if len(first) <= excess {
			q.batches[0] = nil
			q.batches = q.batches[1:]
			q.n -= len(first)
			dropped += len(first)
			continue
		}
		q.batches[0] = first[excess:]
		q.n -= excess
		dropped += excess
	}
	return dropped
}

// take removes and returns every batch held, oldest first.
func (q *retryBuffer) take() [][]apptuit.DataPoint {
	b := q.batches
	q.batches, q.n = nil, 0
	return b
}

// len returns the number of points held.
func (q *retryBuffer) len() int { return q.n }
