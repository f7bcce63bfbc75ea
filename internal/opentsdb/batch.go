package opentsdb

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// Batch holds the accepted points of one put request until the whole body
// has been read and judged: a whole-body error found late (a syntax error at
// the end, a size limit) must store nothing, so nothing reaches the store
// before the end of the body.
//
// It is compact: each series is interned once per batch by its key, and
// each point is a few bytes in buf, in arrival order:
//
//	uvarint(series index) varint(ms - previous ms of that series) value
//
// where value is the float's bits XORed with the previous value of that
// series: a single 0 byte when equal, otherwise a byte 0x80|lead<<3|trail
// (the counts of zero bytes at the top and bottom of the XOR) and the
// 8-lead-trail bytes between them. A run of points of one series at a
// steady interval with repeating or slowly changing values costs 3 to 6
// bytes a point; the worst case is 19. The same encoding is the payload of a
// data-directory log record (see persist.go).
type Batch struct {
	index map[string]int32 // series key → position in defs
	defs  []batchSeries
	// bufs hold the encoded points: the first grows up to chunkSize, the
	// others are allocated at chunkSize, so that a growing batch makes no
	// garbage. A point never spans two chunks.
	bufs [][]byte
	n    int // points
}

const (
	chunkSize   = 64 << 10
	maxPointEnc = 1 + 2*binary.MaxVarintLen64 + 9 // bytes one point may take
)

type batchSeries struct {
	key      string
	n        int // points
	prevMs   int64
	prevBits uint64
}

// Add appends one point of the series with key (not retained: copied on
// first sight).
func (b *Batch) Add(key []byte, ms int64, v float64) {
	if b.index == nil {
		b.index = map[string]int32{}
	}
	i, ok := b.index[string(key)]
	if !ok {
		i = int32(len(b.defs))
		k := string(key)
		b.index[k] = i
		b.defs = append(b.defs, batchSeries{key: k})
	}
	d := &b.defs[i]
	n := len(b.bufs) - 1
	if n < 0 || (len(b.bufs[n])+maxPointEnc > chunkSize && len(b.bufs[n])+maxPointEnc > cap(b.bufs[n])) {
		size := 256
		if n >= 0 {
			size = chunkSize
		}
		b.bufs = append(b.bufs, make([]byte, 0, size))
		n++
	}
	buf := b.bufs[n]
	buf = binary.AppendUvarint(buf, uint64(i))
	buf = binary.AppendVarint(buf, ms-d.prevMs)
	vb := math.Float64bits(v)
	buf = AppendXOR(buf, vb^d.prevBits)
	b.bufs[n] = buf
	d.prevMs, d.prevBits = ms, vb
	d.n++
	b.n++
}

// AppendXOR appends the encoding of x, the XOR of a value's bits with the
// previous value's, to buf: 0 for x == 0, else 0x80|lead<<3|trail and the
// bytes between the leading and trailing zero bytes.
func AppendXOR(buf []byte, x uint64) []byte {
	if x == 0 {
		return append(buf, 0)
	}
	lead, trail := bits.LeadingZeros64(x)/8, bits.TrailingZeros64(x)/8
	buf = append(buf, byte(0x80|lead<<3|trail))
	for i := 7 - lead; i >= trail; i-- {
		buf = append(buf, byte(x>>(8*i)))
	}
	return buf
}

var errBadBatch = errors.New("malformed point batch")

// pointDecoder decodes encoded points, in order, for nseries series.
type pointDecoder struct {
	prevMs   []int64
	prevBits []uint64
}

func newPointDecoder(nseries int) *pointDecoder {
	return &pointDecoder{prevMs: make([]int64, nseries), prevBits: make([]uint64, nseries)}
}

// decode calls f for each point of buf. It fails without panicking on
// bytes that are not encoded points.
func (pd *pointDecoder) decode(buf []byte, f func(series int, ms int64, v float64)) error {
	prevMs, prevBits, nseries := pd.prevMs, pd.prevBits, len(pd.prevMs)
	for len(buf) > 0 {
		idx, w := binary.Uvarint(buf)
		if w <= 0 || idx >= uint64(nseries) {
			return errBadBatch
		}
		buf = buf[w:]
		d, w := binary.Varint(buf)
		if w <= 0 {
			return errBadBatch
		}
		buf = buf[w:]
		if len(buf) == 0 {
			return errBadBatch
		}
		var x uint64
		if c := buf[0]; c == 0 {
			buf = buf[1:]
		} else {
			lead, trail := int(c>>3&7), int(c&7)
			n := 8 - lead - trail
			if c&0x80 == 0 || c&0x40 != 0 || n <= 0 || len(buf) < 1+n {
				return errBadBatch
			}
			for _, by := range buf[1 : 1+n] {
				x = x<<8 | uint64(by)
			}
			x <<= 8 * trail
			buf = buf[1+n:]
		}
		ms := prevMs[idx] + d
		vb := prevBits[idx] ^ x
		prevMs[idx], prevBits[idx] = ms, vb
		f(int(idx), ms, math.Float64frombits(vb))
	}
	return nil
}

// Len returns the number of points in the batch.
func (b *Batch) Len() int { return b.n }

// NumSeries returns the number of series in the batch; series are numbered
// from 0 in order of first appearance.
func (b *Batch) NumSeries() int { return len(b.defs) }

// Series returns the key (see SeriesKey) of series i and its number of
// points in the batch.
func (b *Batch) Series(i int) (key string, points int) { return b.defs[i].key, b.defs[i].n }

// Encoded returns the batch's points in their compact encoding, in arrival
// order: the parts to concatenate (shared, not to be modified).
func (b *Batch) Encoded() [][]byte { return b.bufs }

// DecodeBatch rebuilds a batch from the keys of its series, their point
// counts and its points' encoding (Encoded, concatenated). It fails without
// panicking on anything that is not such a batch.
func DecodeBatch(keys []string, counts []int, points []byte) (*Batch, error) {
	if len(keys) != len(counts) {
		return nil, errBadBatch
	}
	b := &Batch{defs: make([]batchSeries, len(keys))}
	for i, k := range keys {
		if _, _, err := ParseSeriesKey(k); err != nil {
			return nil, errBadBatch
		}
		b.defs[i] = batchSeries{key: k, n: counts[i]}
	}
	seen := make([]int, len(keys))
	if err := newPointDecoder(len(keys)).decode(points, func(i int, _ int64, _ float64) { seen[i]++ }); err != nil {
		return nil, err
	}
	for i, n := range seen {
		if n != counts[i] {
			return nil, errBadBatch
		}
		b.n += n
	}
	b.bufs = [][]byte{points}
	return b, nil
}

// Each calls f with each point of the batch, in arrival order: the
// number of its series (see Series), its time in Unix milliseconds and
// its value.
func (b *Batch) Each(f func(series int, ms int64, v float64)) {
	pd := newPointDecoder(len(b.defs))
	for _, buf := range b.bufs {
		// The batch encoded these bytes itself: they cannot be malformed.
		_ = pd.decode(buf, f)
	}
}
