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

var errBatchCorrupt = errors.New("reporter: spooled batch does not decode")

// decodeBatch decodes a record made by appendBatch, appending its points
// to dst. series is called once per entry of the record's series table,
// with the entry's encoding (a slice of b, which parseSeries decodes), and
// returns the entry's prepared series, or nil to give its points up (their
// number is returned). On an error dst is returned as it was. Besides dst,
// it allocates one pointer per series, whatever b holds.
func decodeBatch(dst []apptuit.PreparedPoint, b []byte, series func(entry []byte) *apptuit.PreparedSeries) ([]apptuit.PreparedPoint, int, error) {
	if len(b) == 0 || b[0] != spoolCodecVersion {
		return dst, 0, fmt.Errorf("%w: unknown version", errBatchCorrupt)
	}
	d := decoder{b: b[1:]}
	ns := d.uvarint()
	// A series takes at least 2 bytes, a point 10.
	if d.err != nil || ns > uint64(len(d.b))/2 {
		return dst, 0, fmt.Errorf("%w: bad series count", errBatchCorrupt)
	}
	table := make([]*apptuit.PreparedSeries, ns)
	for i := range table {
		entry := d.b
		if !d.skipSeries() {
			return dst, 0, fmt.Errorf("%w: series %d", errBatchCorrupt, i)
		}
		table[i] = series(entry[:len(entry)-len(d.b)])
	}
	np := d.uvarint()
	if d.err != nil || np > uint64(len(d.b))/10 {
		return dst, 0, fmt.Errorf("%w: bad point count", errBatchCorrupt)
	}
	start := len(dst)
	dst = slices.Grow(dst, int(np))
	given := 0
	for i := range np {
		idx := d.uvarint()
		ms, v := d.varint(), d.float()
		if d.err != nil || idx >= ns {
			return dst[:start], 0, fmt.Errorf("%w: point %d", errBatchCorrupt, i)
		}
		if table[idx] == nil {
			given++
			continue
		}
		dst = append(dst, apptuit.PreparedPoint{Series: table[idx], UnixMilli: ms, Value: v})
	}
	if len(d.b) != 0 {
		return dst[:start], 0, fmt.Errorf("%w: %d bytes after the last point", errBatchCorrupt, len(d.b))
	}
	return dst, given, nil
}

// parseSeries decodes a series table entry that decodeBatch handed over:
// the metric name and the tags.
func parseSeries(entry []byte) (string, map[string]string, error) {
	d := decoder{b: entry}
	metric := d.string()
	nt := d.uvarint()
	if d.err != nil || nt > uint64(len(d.b))/2 {
		return "", nil, fmt.Errorf("%w: series %q", errBatchCorrupt, metric)
	}
	tags := make(map[string]string, nt)
	for range nt {
		k := d.string()
		tags[k] = d.string()
	}
	if d.err != nil || len(d.b) != 0 {
		return "", nil, fmt.Errorf("%w: series %q", errBatchCorrupt, metric)
	}
	return metric, tags, nil
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

// skipSeries skips a series table entry, reporting whether it is whole.
func (d *decoder) skipSeries() bool {
	d.skip()
	nt := d.uvarint()
	if d.err != nil || nt > uint64(len(d.b))/2 {
		return false
	}
	for j := uint64(0); j < 2*nt && d.err == nil; j++ {
		d.skip()
	}
	return d.err == nil
}

// skip skips a string.
func (d *decoder) skip() {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return
	}
	d.b = d.b[n:]
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
