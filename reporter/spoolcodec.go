package reporter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/apptuit-go/apptuit"
)

// A batch of points is kept in the spool as one record, encoded as
//
//	version  byte     1
//	count    uvarint  points
//	then per point:
//	metric   uvarint length, bytes
//	tags     uvarint 0 when the point's tags equal the previous point's, else
//	         n+1 followed by n pairs (key, value), each a uvarint length and
//	         bytes, sorted by key
//	time     varint   Unix milliseconds
//	value    8 bytes  IEEE 754 bits, little endian
//
// The spool compresses and checksums the record; a report's points share
// their tags map per metric, so the tags of most points cost one byte.
const spoolCodecVersion = 1

// appendBatch appends the encoding of pts to dst.
func appendBatch(dst []byte, pts []apptuit.DataPoint) []byte {
	dst = append(dst, spoolCodecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(pts)))
	var prev map[string]string
	var keys []string
	for i, p := range pts {
		dst = appendString(dst, p.Metric)
		if i > 0 && sameTags(p.Tags, prev) {
			dst = append(dst, 0)
		} else {
			keys = keys[:0]
			for k := range p.Tags {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			dst = binary.AppendUvarint(dst, uint64(len(keys))+1)
			for _, k := range keys {
				dst = appendString(dst, k)
				dst = appendString(dst, p.Tags[k])
			}
			prev = p.Tags
		}
		dst = binary.AppendVarint(dst, p.Timestamp.UnixMilli())
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.Value))
	}
	return dst
}

// sameTags reports whether a and b hold the same tags, cheaply when they
// are the same map.
func sameTags(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	return maps.Equal(a, b)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errBatchCorrupt = errors.New("reporter: spooled batch does not decode")

// decodeBatch decodes a record made by appendBatch. Consecutive points with
// the same tags share one map. It never allocates more than a small
// multiple of len(b), whatever b holds.
func decodeBatch(b []byte) ([]apptuit.DataPoint, error) {
	if len(b) == 0 || b[0] != spoolCodecVersion {
		return nil, fmt.Errorf("%w: unknown version", errBatchCorrupt)
	}
	d := decoder{b: b[1:]}
	n := d.uvarint()
	// Each point takes at least 11 bytes (metric length, tags, time, value).
	if d.err != nil || n > uint64(len(d.b))/11 {
		return nil, fmt.Errorf("%w: bad point count", errBatchCorrupt)
	}
	pts := make([]apptuit.DataPoint, n)
	var tags map[string]string
	for i := range pts {
		pts[i].Metric = d.string()
		switch nt := d.uvarint(); {
		case d.err != nil:
		case nt == 0:
			if i == 0 {
				d.fail()
			}
		case nt-1 > uint64(len(d.b))/2:
			d.fail()
		default:
			tags = make(map[string]string, nt-1)
			for j := uint64(0); j < nt-1 && d.err == nil; j++ {
				k := d.string()
				tags[k] = d.string()
			}
		}
		pts[i].Tags = tags
		pts[i].Timestamp = time.UnixMilli(d.varint())
		pts[i].Value = d.float()
		if d.err != nil {
			return nil, fmt.Errorf("%w: point %d", errBatchCorrupt, i)
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last point", errBatchCorrupt, len(d.b))
	}
	return pts, nil
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
