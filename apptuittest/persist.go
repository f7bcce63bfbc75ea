package apptuittest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apptuit-go/apptuit/internal/wal"
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
// where a batch's points are its encoding in memory (see batch), and a
// snapshot record holds (part of) one series, its points sorted by (ms,
// arrival), values XOR-encoded as in a batch. Replaying applies them in
// order; points past the retention or over the max-points bound are
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

// loadReport says what the data directory held at the start.
type loadReport struct {
	points         int
	droppedRecords int
	droppedBytes   int64
}

// openDataLog replays the log of dir into st and attaches it, so that
// commits are logged from now on.
func openDataLog(st *store, dir string, sync time.Duration, logf func(string, ...any)) (loadReport, error) {
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
		return loadReport{}, fmt.Errorf("opening the data directory %s: %w", dir, err)
	}
	d.w = w
	st.log = d
	lr := loadReport{points: st.points}
	for _, dr := range rep.Drops {
		lr.droppedRecords++
		lr.droppedBytes += dr.Bytes
		logf("apptuittest: data directory %s: dropped %d bytes of %s at offset %d: %s", dir, dr.Bytes, dr.Segment, dr.Offset, dr.Reason)
	}
	logf("apptuittest: data directory %s: loaded %d points of %d series from %d records (%d bytes) in %v",
		dir, st.points, len(st.byKey), rep.Records, rep.Bytes, time.Since(start).Round(time.Millisecond))
	d.maybeCompact(st)
	return lr, nil
}

// appendBatch logs b, whose points are numbered from base. The caller holds
// the store's lock.
func (d *dataLog) appendBatch(b *batch, base uint64) error {
	h := []byte{recBatch}
	h = binary.AppendUvarint(h, base)
	h = binary.AppendUvarint(h, uint64(len(b.defs)))
	for _, def := range b.defs {
		h = binary.AppendUvarint(h, uint64(len(def.key)))
		h = append(h, def.key...)
		h = binary.AppendUvarint(h, uint64(def.n))
	}
	parts := append([][]byte{h}, b.bufs...)
	if err := d.w.Append(parts...); err != nil {
		return fmt.Errorf("writing the data log: %w", err)
	}
	d.logPoints += b.n
	return nil
}

// maybeCompact rewrites the log as a snapshot of st once it holds more
// than twice the live points plus the slack. The caller holds the store's
// lock; puts wait for the compaction (about 12 bytes written per live
// point).
func (d *dataLog) maybeCompact(st *store) {
	if d.logPoints <= 2*st.points+d.slack {
		return
	}
	start := time.Now()
	before := d.w.Size()
	if err := d.compact(st); err != nil {
		d.logf("apptuittest: data directory %s: compaction failed (the log keeps growing; retried later): %v", d.dir, err)
		d.slack *= 2
		return
	}
	d.logf("apptuittest: data directory %s: compacted %d bytes to %d (%d live points) in %v",
		d.dir, before, d.w.Size(), st.points, time.Since(start).Round(time.Millisecond))
}

// compact rewrites the log as a snapshot of st. The caller holds the
// store's lock.
func (d *dataLog) compact(st *store) error {
	err := d.w.Rewrite(func(add func(...[]byte) error) error {
		var rec []byte
		for _, s := range st.byKey {
			for lo := 0; lo < len(s.ms); lo += snapshotChunk {
				hi := min(lo+snapshotChunk, len(s.ms))
				rec = append(rec[:0], recSnapshot)
				rec = binary.AppendUvarint(rec, uint64(len(s.key)))
				rec = append(rec, s.key...)
				rec = binary.AppendUvarint(rec, uint64(hi-lo))
				var prevMs int64
				var prevSeq, prevBits uint64
				for i := lo; i < hi; i++ {
					rec = binary.AppendVarint(rec, s.ms[i]-prevMs)
					rec = binary.AppendVarint(rec, int64(s.seq[i]-prevSeq))
					vb := math.Float64bits(s.val[i])
					rec = appendXOR(rec, vb^prevBits)
					prevMs, prevSeq, prevBits = s.ms[i], s.seq[i], vb
				}
				if err := add(rec); err != nil {
					return err
				}
			}
		}
		return nil
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
func (st *store) replay(p []byte) (int, error) {
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
		b := &batch{defs: make([]batchSeries, nser)}
		total := 0
		for i := range b.defs {
			key := r.bytes()
			n := r.uvarint()
			if r.bad || n > uint64(len(p)) {
				return 0, errBadRecord
			}
			b.defs[i] = batchSeries{key: string(key), n: int(n)}
			total += int(n)
			if _, _, err := parseSeriesKey(b.defs[i].key); err != nil {
				return 0, errBadRecord
			}
		}
		// Check the points before applying any.
		counts := make([]int, nser)
		if err := newPointDecoder(int(nser)).decode(r.b, func(i int, _ int64, _ float64) { counts[i]++ }); err != nil {
			return 0, errBadRecord
		}
		for i, c := range counts {
			if c != b.defs[i].n {
				return 0, errBadRecord
			}
		}
		b.bufs, b.n = [][]byte{r.b}, total
		st.applyBatch(b, base)
		st.evict()
		return total, nil
	case recSnapshot:
		key := r.bytes()
		n := r.uvarint()
		if r.bad || n > uint64(len(r.b)) {
			return 0, errBadRecord
		}
		if _, _, err := parseSeriesKey(string(key)); err != nil {
			return 0, errBadRecord
		}
		ms, val, seq := make([]int64, n), make([]float64, n), make([]uint64, n)
		var prevMs int64
		var prevSeq, prevBits uint64
		for i := range ms {
			prevMs += r.varint()
			prevSeq += uint64(r.varint())
			prevBits ^= r.xor()
			if r.bad {
				return 0, errBadRecord
			}
			ms[i], seq[i], val[i] = prevMs, prevSeq, math.Float64frombits(prevBits)
		}
		if len(r.b) != 0 {
			return 0, errBadRecord
		}
		s := st.seriesFor(string(key))
		cutoff := st.cutoff()
		for i := range ms {
			st.accepted++
			if ms[i] < cutoff {
				st.evictAge++
				continue
			}
			s.ms, s.val, s.seq = append(s.ms, ms[i]), append(s.val, val[i]), append(s.seq, seq[i])
			st.points++
			st.nextSeq = max(st.nextSeq, seq[i]+1)
		}
		st.settle(s)
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

// close flushes and closes the data directory's log, if any.
func (st *store) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.log != nil {
		st.log.close()
	}
}
