package opentsdb

import (
	"encoding/binary"
	"errors"
	"sort"
)

// A series key (SeriesKeyOf) is the canonical byte form of a metric and its tag set, the
// identity under which the store interns a series:
//
//	uvarint(len(metric)) metric { uvarint(len(k)) k uvarint(len(v)) v }
//
// with the tags sorted by key. Every part is length-prefixed, so two
// different series never share a key, whatever bytes their names hold.

// appendSeriesKey appends the key of metric and tags (sorted by key, no
// duplicate keys) to b.
func appendSeriesKey(b []byte, metric []byte, tags []tagPair) []byte {
	b = appendBytes(b, metric)
	for _, t := range tags {
		b = appendBytes(b, t.k)
		b = appendBytes(b, t.v)
	}
	return b
}

// SeriesKeyOf returns the key of metric and a tag map.
func SeriesKeyOf(metric string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := appendBytes(nil, []byte(metric))
	for _, k := range keys {
		b = appendBytes(b, []byte(k))
		b = appendBytes(b, []byte(tags[k]))
	}
	return string(b)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadSeriesKey = errors.New("malformed series key")

// ParseSeriesKey returns the metric and tags a key was made of. It fails,
// without panicking, on bytes that are not a key (e.g. from a damaged file).
func ParseSeriesKey(key string) (string, map[string]string, error) {
	rest := key
	next := func() (string, bool) {
		n, w := binary.Uvarint([]byte(rest[:min(len(rest), binary.MaxVarintLen64)]))
		if w <= 0 || n > uint64(len(rest)-w) {
			return "", false
		}
		s := rest[w : w+int(n)]
		rest = rest[w+int(n):]
		return s, true
	}
	metric, ok := next()
	if !ok || metric == "" {
		return "", nil, errBadSeriesKey
	}
	tags := map[string]string{}
	prev := ""
	for rest != "" {
		k, ok := next()
		if !ok || (len(tags) > 0 && k <= prev) {
			return "", nil, errBadSeriesKey
		}
		v, ok := next()
		if !ok {
			return "", nil, errBadSeriesKey
		}
		tags[k] = v
		prev = k
	}
	return metric, tags, nil
}
