package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/server/internal/wal"
)

// dataLog keeps the store in a data directory (WithDataDir): an
// append-only log (package wal) of every committed batch, compacted into a
// snapshot of the live points when evictions have left it mostly dead.
//
// Records:
//
//	'B' batch:    uvarint(first arrival number) uvarint(series) { uvarint(len) key uvarint(points) } points
//	'S' snapshot: uvarint(len) key uvarint(points) { varint(ms delta) uvarint(arrival delta, zigzag) value }
//
// where a batch's points are its encoding in memory (opentsdb.Batch), and a
// snapshot record holds (part of) one series, its points sorted by (ms,
// arrival), values XOR-encoded as in a batch. Replaying applies them in
// order; points past the retention or over the byte budget are
// evicted as they would have been.
type dataLog struct {
	w         *wal.Log
	logPoints int // points in the log's records (live or not)
	slack     int // dead points tolerated before a compaction
	logf      func(string, ...any)
	dir       string
}

const (
	recBatch    = 'B'
	recSnapshot = 'S'
	// defaultSlack is how many dead points the log may hold beyond twice
	// the live ones before it is compacted.
	defaultSlack = 1 << 20
	// snapshotChunk is the most points one snapshot record holds.
	snapshotChunk = 64 << 10
)

// LoadReport says what the data directory held at the start.
type LoadReport struct {
	Points         int   // points loaded
	DroppedRecords int   // torn or corrupt records dropped
	DroppedBytes   int64 // their bytes
}

// ErrLocked is matched (errors.Is) by the error of OpenLog on a directory
// another store, in this process or another, holds.
var ErrLocked = wal.ErrLocked

// OpenLog replays the log of dir into st (an empty store) and attaches
// it, so that commits are logged from now on, fsynced every sync (0: in
// every commit). logf reports what it found and what it does later
// (compactions).
func (st *Store) OpenLog(dir string, sync time.Duration, logf func(string, ...any)) (LoadReport, error) {
	start := time.Now()
	d := &dataLog{slack: defaultSlack, logf: logf, dir: dir}
	st.mu.Lock()
	defer st.mu.Unlock()
	w, rep, err := wal.Open(dir, wal.Options{SyncInterval: sync}, func(p []byte) error {
		n, err := st.replay(p)
		d.logPoints += n
		return err
	})
	if err != nil {
		return LoadReport{}, fmt.Errorf("opening the data directory %s: %w", dir, err)
	}
	d.w = w
	st.log = d
	lr := LoadReport{Points: st.points}
	for _, dr := range rep.Drops {
		lr.DroppedRecords++
		lr.DroppedBytes += dr.Bytes
		logf("data directory %s: dropped %d bytes of %s at offset %d: %s", dir, dr.Bytes, dr.Segment, dr.Offset, dr.Reason)
	}
	logf("data directory %s: loaded %d points of %d series from %d records (%d bytes) in %v",
		dir, st.points, len(st.byKey), rep.Records, rep.Bytes, time.Since(start).Round(time.Millisecond))
	d.maybeCompact(st)
	return lr, nil
}

// appendBatch logs b, whose points are numbered from base. The caller holds
// the store's lock.
func (d *dataLog) appendBatch(b *opentsdb.Batch, base uint64) error {
	h := []byte{recBatch}
	h = binary.AppendUvarint(h, base)
	h = binary.AppendUvarint(h, uint64(b.NumSeries()))
	for i := range b.NumSeries() {
		key, n := b.Series(i)
		h = binary.AppendUvarint(h, uint64(len(key)))
		h = append(h, key...)
		h = binary.AppendUvarint(h, uint64(n))
	}
	parts := append([][]byte{h}, b.Encoded()...)
	if err := d.w.Append(parts...); err != nil {
		return fmt.Errorf("writing the data log: %w", err)
	}
	d.logPoints += b.Len()
	return nil
}

// maybeCompact rewrites the log as a snapshot of st once it holds more
// than twice the live points plus the slack. The caller holds the store's
// lock; puts wait for the compaction (about 12 bytes written per live
// point).
func (d *dataLog) maybeCompact(st *Store) {
	if d.logPoints <= 2*st.points+d.slack {
		return
	}
	start := time.Now()
	before := d.w.Size()
	if err := d.compact(st); err != nil {
		d.logf("data directory %s: compaction failed (the log keeps growing; retried later): %v", d.dir, err)
		d.slack *= 2
		return
	}
	d.logf("data directory %s: compacted %d bytes to %d (%d live points) in %v",
		d.dir, before, d.w.Size(), st.points, time.Since(start).Round(time.Millisecond))
}

// compact rewrites the log as a snapshot of st. The caller holds the
// store's lock.
func (d *dataLog) compact(st *Store) error {
	err := d.w.Rewrite(func(add func(...[]byte) error) error {
		var rec []byte
		return st.dump(snapshotChunk, func(key string, ms []int64, val []float64) error {
			rec = append(rec[:0], recSnapshot)
			rec = binary.AppendUvarint(rec, uint64(len(key)))
			rec = append(rec, key...)
			rec = binary.AppendUvarint(rec, uint64(len(ms)))
			var prevMs int64
			var prevBits uint64
			for i := range ms {
				rec = binary.AppendVarint(rec, ms[i]-prevMs)
				rec = binary.AppendVarint(rec, 0) // arrival numbers: the store keeps none
				vb := math.Float64bits(val[i])
				rec = opentsdb.AppendXOR(rec, vb^prevBits)
				prevMs, prevBits = ms[i], vb
			}
			return add(rec)
		})
	})
	if err != nil {
		return err
	}
	d.logPoints = st.points
	return nil
}

func (d *dataLog) close() error { return d.w.Close() }

var errBadRecord = errors.New("malformed record")

// replay applies one log record to st and returns the points it holds. A
// malformed record changes nothing and is an error (the log drops it and
// what follows). The caller holds the store's lock.
func (st *Store) replay(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errBadRecord
	}
	r := reader{b: p[1:]}
	switch p[0] {
	case recBatch:
		base := r.uvarint()
		nser := r.uvarint()
		if r.bad || nser > uint64(len(r.b)) {
			return 0, errBadRecord
		}
		keys, counts := make([]string, nser), make([]int, nser)
		for i := range keys {
			key := r.bytes()
			n := r.uvarint()
			if r.bad || n > uint64(len(p)) {
				return 0, errBadRecord
			}
			keys[i], counts[i] = string(key), int(n)
		}
		b, err := opentsdb.DecodeBatch(keys, counts, r.b)
		if err != nil {
			return 0, errBadRecord
		}
		st.applyBatch(b, base)
		st.evict()
		return b.Len(), nil
	case recSnapshot:
		key := r.bytes()
		n := r.uvarint()
		if r.bad || n > uint64(len(r.b)) {
			return 0, errBadRecord
		}
		if _, _, err := opentsdb.ParseSeriesKey(string(key)); err != nil {
			return 0, errBadRecord
		}
		// The points, in time and arrival order, as a batch of one series.
		var b opentsdb.Batch
		var prevMs int64
		var prevSeq, prevBits uint64
		for range n {
			prevMs += r.varint()
			prevSeq += uint64(r.varint())
			prevBits ^= r.xor()
			if r.bad {
				return 0, errBadRecord
			}
			b.Add(key, prevMs, math.Float64frombits(prevBits))
		}
		if len(r.b) != 0 {
			return 0, errBadRecord
		}
		st.applyBatch(&b, max(st.nextSeq, prevSeq+1))
		st.evict()
		return int(n), nil
	}
	return 0, errBadRecord
}

// reader decodes the parts of a record; bad is set on the first error.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) xor() uint64 {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	if c == 0 {
		r.b = r.b[1:]
		return 0
	}
	lead, trail := int(c>>3&7), int(c&7)
	n := 8 - lead - trail
	if c&0x80 == 0 || c&0x40 != 0 || n <= 0 || len(r.b) < 1+n {
		r.bad = true
		return 0
	}
	var x uint64
	for _, by := range r.b[1 : 1+n] {
		x = x<<8 | uint64(by)
	}
	r.b = r.b[1+n:]
	return x << (8 * trail)
}

// Close flushes and closes the data directory's log, if any.
func (st *Store) Close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.log != nil {
		st.log.close()
	}
}
