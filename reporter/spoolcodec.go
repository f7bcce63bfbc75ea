package reporter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apptuit-go/apptuit"
)

// A batch of points is kept in the spool as one record, encoded as
//
//	version  byte     2
//	series   uvarint  count, then per series:
//	           metric  uvarint length, bytes (the name as prepared, prefix included)
//	           tags    uvarint count, then pairs (key, value), each a uvarint
//	                   length and bytes, sorted by key (the client's global
//	                   tags are not included: they are merged again when the
//	                   series is prepared again)
//	points   uvarint  count, then per point:
//	           series  uvarint  index in the table above
//	           time    varint   Unix milliseconds
//	           value   8 bytes  IEEE 754 bits, little endian
//
// so each series' name and tags are written once per record, and a point
// costs 10 to 20 bytes before the spool compresses the record.
const spoolCodecVersion = 2

// seriesEncoder encodes the series table entries of prepared series,
// remembering them: a reporter sends the same series report after report.
type seriesEncoder struct {
	entries map[*apptuit.PreparedSeries][]byte
	index   map[*apptuit.PreparedSeries]int // of the record being encoded
	keys    []string
}

// maxEncodedSeries bounds the encoder's memory: past it, it starts afresh.
const maxEncodedSeries = 100000

func (e *seriesEncoder) entry(ps *apptuit.PreparedSeries) []byte {
	if b, ok := e.entries[ps]; ok {
		return b
	}
	if e.entries == nil || len(e.entries) >= maxEncodedSeries {
		e.entries = make(map[*apptuit.PreparedSeries][]byte)
	}
	tags := ps.Tags()
	e.keys = e.keys[:0]
	for k := range tags {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	b := appendString(nil, ps.Metric())
	b = binary.AppendUvarint(b, uint64(len(e.keys)))
	for _, k := range e.keys {
		b = appendString(b, k)
		b = appendString(b, tags[k])
	}
	e.entries[ps] = b
	return b
}

// appendBatch appends the encoding of pts to dst.
func (e *seriesEncoder) appendBatch(dst []byte, pts []apptuit.PreparedPoint) []byte {
	if e.index == nil {
		e.index = make(map[*apptuit.PreparedSeries]int)
	}
	clear(e.index)
	var order []*apptuit.PreparedSeries
	for _, p := range pts {
		if _, ok := e.index[p.Series]; !ok {
			e.index[p.Series] = len(order)
			order = append(order, p.Series)
		}
	}
	dst = append(dst, spoolCodecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(order)))
	for _, ps := range order {
		dst = append(dst, e.entry(ps)...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(pts)))
	for _, p := range pts {
		dst = binary.AppendUvarint(dst, uint64(e.index[p.Series]))
		dst = binary.AppendVarint(dst, p.UnixMilli)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.Value))
	}
	clear(e.index) // keep no series alive through it
	return dst
}

// appendString (collect_source.go) writes a uvarint length and the bytes.

// seriesEntry is a decoded series table entry; key is its encoding.
type seriesEntry struct {
	metric string
	tags   map[string]string
	key    string
}

// encPoint is a decoded point: its series' index, time and value.
type encPoint struct {
	series    int
	unixMilli int64
	value     float64
}

var errBatchCorrupt = errors.New("reporter: spooled batch does not decode")

// decodeBatch decodes a record made by appendBatch. It never allocates more
// than a small multiple of len(b), whatever b holds.
func decodeBatch(b []byte) ([]seriesEntry, []encPoint, error) {
	if len(b) == 0 || b[0] != spoolCodecVersion {
		return nil, nil, fmt.Errorf("%w: unknown version", errBatchCorrupt)
	}
	d := decoder{b: b[1:]}
	ns := d.uvarint()
	// A series takes at least 2 bytes, a point 10.
	if d.err != nil || ns > uint64(len(d.b))/2 {
		return nil, nil, fmt.Errorf("%w: bad series count", errBatchCorrupt)
	}
	series := make([]seriesEntry, ns)
	for i := range series {
		start := d.b
		series[i].metric = d.string()
		nt := d.uvarint()
		if d.err != nil || nt > uint64(len(d.b))/2 {
			return nil, nil, fmt.Errorf("%w: series %d", errBatchCorrupt, i)
		}
		series[i].tags = make(map[string]string, nt)
		for j := uint64(0); j < nt && d.err == nil; j++ {
			k := d.string()
			series[i].tags[k] = d.string()
		}
		if d.err != nil {
			return nil, nil, fmt.Errorf("%w: series %d", errBatchCorrupt, i)
		}
		series[i].key = string(start[:len(start)-len(d.b)])
	}
	np := d.uvarint()
	if d.err != nil || np > uint64(len(d.b))/10 {
		return nil, nil, fmt.Errorf("%w: bad point count", errBatchCorrupt)
	}
	pts := make([]encPoint, np)
	for i := range pts {
		idx := d.uvarint()
		pts[i] = encPoint{series: int(idx), unixMilli: d.varint(), value: d.float()}
		if d.err != nil || idx >= ns {
			return nil, nil, fmt.Errorf("%w: point %d", errBatchCorrupt, i)
		}
	}
	if len(d.b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes after the last point", errBatchCorrupt, len(d.b))
	}
	return series, pts, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBatchCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
