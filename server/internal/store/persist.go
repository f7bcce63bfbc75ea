package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/server/internal/wal"
)

// dataLog keeps the store in a data directory (WithDataDir): an
// append-only log (package wal) of every committed batch, compacted into a
// snapshot of the live points when evictions have left it mostly dead.
//
// Records (the payloads of the log's records; each record also says how
// many points it holds, so that a damaged one is counted):
//
//	'B' batch:    uvarint(first arrival number) uvarint(series) { uvarint(len) key uvarint(points) } points
//	'S' snapshot: uvarint(len) key uvarint(points) { varint(ms delta) uvarint(arrival delta, zigzag) value }
//
// where a batch's points are its encoding in memory (opentsdb.Batch), and a
// snapshot record holds (part of) one series, its points sorted by (ms,
// arrival), values XOR-encoded as in a batch. Replaying applies them in
// order; points past the retention or over the byte budget are
// evicted as they would have been. A damaged record costs only itself
// (package wal moves it aside and says what it held).
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
	// snapshotChunk is the most points one snapshot record holds: what a
	// damaged byte in a snapshot costs at most (about 40 bytes of header
	// and key per record: 0.01 byte per point).
	snapshotChunk = 4096
)

// LoadReport says what the data directory held at the start.
type LoadReport struct {
	Points int // points loaded
	// LostRecords and LostPoints count the log records that damage (a torn
	// write, a flipped byte) made unreadable and the points they held;
	// where a damaged part's cost is unknown (the last record of the log
	// with an unreadable header) it counts none, and Unknown says so.
	LostRecords int
	LostPoints  int64
	Unknown     bool
	Aside       int64 // bytes moved aside into .corrupt files beside the log
}

// ErrLocked is matched (errors.Is) by the error of OpenLog on a directory
// another store, in this process or another, holds.
var ErrLocked = wal.ErrLocked

// OpenLog replays the log of dir into st (an empty store) and attaches
// it, so that commits are logged from now on, fsynced every sync (0: in
// every commit). logf reports what it found (the damaged parts of the log
// moved aside, one line each, and what was loaded) and what it does later
// (compactions). A log of the previous format is loaded, then converted by
// a compaction.
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
	points, series := st.counts()
	lr := LoadReport{Points: points}
	for _, dm := range rep.Damage {
		lr.LostRecords += dm.Records
		lr.LostPoints += dm.Items
		lr.Unknown = lr.Unknown || !dm.Exact
		lr.Aside += dm.Bytes
		logf("data directory %s: %s", dir, damageLine(dir, dm))
	}
	msg := fmt.Sprintf("data directory %s: loaded %d points of %d series from %d records (%d bytes) in %v",
		dir, points, series, rep.Records, rep.Bytes, time.Since(start).Round(time.Millisecond))
	if len(rep.Damage) > 0 {
		msg += fmt.Sprintf("; damaged: %s, %d bytes moved aside", lostText(lr.LostRecords, lr.LostPoints, !lr.Unknown), lr.Aside)
	}
	logf("%s", msg)
	if rep.Format1 > 0 {
		before := w.Size()
		if err := d.compact(st); err != nil {
			logf("data directory %s: converting the log from format 1 to format 2 failed (it stays readable; retried at the next start): %v", dir, err)
		} else {
			logf("data directory %s: converted the log from format 1 to format 2 (%d bytes to %d)", dir, before, w.Size())
		}
	}
	d.maybeCompact(st)
	return lr, nil
}

// damageLine describes a damaged part of the log.
func damageLine(dir string, dm wal.Damage) string {
	lost := lostText(dm.Records, dm.Items, dm.Exact)
	if dm.Bytes == 0 {
		return fmt.Sprintf("%s: records missing before offset %d: %s", dm.Segment, dm.Offset, lost)
	}
	return fmt.Sprintf("%s: %d unreadable bytes at offset %d (%s): %s; moved aside to %s",
		dm.Segment, dm.Bytes, dm.Offset, dm.Reason, lost, filepath.Join(dir, dm.MovedTo))
}

// lostText says how many records and points were lost: exactly, or at
// least.
func lostText(records int, points int64, exact bool) string {
	s := fmt.Sprintf("%d %s of %d %s", records, plural(records, "record"), points, plural(int(points), "point"))
	switch {
	case exact && records == 0:
		return "no record lost"
	case exact:
		return "lost " + s
	case records == 0:
		return "lost an unknown number of records (no record header there is readable)"
	}
	return "lost at least " + s
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
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
	if err := d.w.Append(b.Len(), parts...); err != nil {
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
	points, _ := st.counts()
	if d.logPoints <= 2*points+d.slack {
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
		d.dir, before, d.w.Size(), points, time.Since(start).Round(time.Millisecond))
}

// compact rewrites the log as a snapshot of st. The caller holds the
// store's lock.
func (d *dataLog) compact(st *Store) error {
	err := d.w.Rewrite(func(add func(int, ...[]byte) error) error {
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
			return add(len(ms), rec)
		})
	})
	if err != nil {
		return err
	}
	d.logPoints, _ = st.counts()
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
		st.replayBatch(b, base)
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
		st.replayBatch(&b, max(st.nextSeq, prevSeq+1))
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

// What the log needs of the store. These, with Store.dump (the snapshot's
// points), are the only places persist.go reaches into the store's
// representation (with st.mu, st.log and Commit's calls of appendBatch and
// maybeCompact).

// replayBatch applies a logged batch whose points are numbered from base,
// evicting as Commit would. The caller holds mu.
func (st *Store) replayBatch(b *opentsdb.Batch, base uint64) {
	st.applyBatch(b, base)
	st.evict()
}

// counts returns the points and series stored. The caller holds mu.
func (st *Store) counts() (points, series int) { return st.points, len(st.byKey) }
