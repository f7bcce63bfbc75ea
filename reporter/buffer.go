package reporter

import "github.com/apptuit-go/apptuit"

// retryStore keeps the batches of points that failed with a retryable
// error, for the next report, in the order they were first meant to be
// sent, up to a number of points. The reporter holds one report at a time,
// so a store need not be safe for concurrent use. Points are kept as
// PreparedPoints; a store that writes them out (to disk) can recover each
// one's name, tags, timestamp and value with Series.Metric and
// Series.Tags, and prepare the series again with Client.PrepareSeries.
type retryStore interface {
	// add appends batch b, which the store then owns, and returns how many
	// of the oldest points it dropped to make room.
	add(b []apptuit.PreparedPoint) (dropped int)
	// take removes and returns every batch held, oldest first.
	take() [][]apptuit.PreparedPoint
	// len returns the number of points held.
	len() int
}

// memoryBuffer is the retryStore in memory: when it would hold more than
// limit points, the oldest are dropped.
type memoryBuffer struct {
	limit   int
	n       int // points held
	batches [][]apptuit.PreparedPoint
}

func newMemoryBuffer(limit int) *memoryBuffer { return &memoryBuffer{limit: limit} }

func (q *memoryBuffer) add(b []apptuit.PreparedPoint) (dropped int) {
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

func (q *memoryBuffer) take() [][]apptuit.PreparedPoint {
	b := q.batches
	q.batches, q.n = nil, 0
	return b
}

func (q *memoryBuffer) len() int { return q.n }
