package apptuittest

import "time"

// dataLog is the data directory's log (WithDataDir).
type dataLog struct{}

func (l *dataLog) appendBatch(b *batch, base uint64) error { return nil }
func (l *dataLog) maybeCompact(st *store)                  {}
func (l *dataLog) compact(st *store) error                 { return nil }

type loadReport struct {
	points         int
	droppedRecords int
	droppedBytes   int64
}

func openDataLog(st *store, dir string, sync time.Duration, logf func(string, ...any)) (loadReport, error) {
	return loadReport{}, nil
}

func (st *store) close() {}
