package apptuit

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Frame is a table of an output's series aligned on time, as apptuit-py's
// Output.to_df() builds a pandas DataFrame: Index is the sorted union of the
// series' timestamps (UTC), Columns names one column per series, and
// Values[c][r] is column c's value at Index[r], NaN where that series has
// no point.
//
// Column names are apptuit-py's: the metric then the tags sorted by key,
// "metric{k1:v1, k2:v2}". A series without tags is named "metric{}"
// (apptuit-py's slicing turns that case into "metri}", which is not
// reproduced).
type Frame struct {
	Index   []time.Time
	Columns []string
	Values  [][]float64 // per column, each len(Index)
}

// Frame aligns the output's series into a Frame. When a series has several
// points at one timestamp, the last one wins.
//
// Cost: O(P log P) for P points in all, and memory for the index and
// columns × rows float64s (a dense table: sparse, unaligned series make it
// large).
func (o *Output) Frame() *Frame {
	total := 0
	for _, s := range o.Series {
		total += len(s.ts)
	}
	all := make([]int64, 0, total)
	for _, s := range o.Series {
		all = append(all, s.ts...)
	}
	slices.Sort(all)
	all = slices.Compact(all)

	f := &Frame{
		Index:   make([]time.Time, len(all)),
		Columns: make([]string, len(o.Series)),
		Values:  make([][]float64, len(o.Series)),
	}
	for i, ms := range all {
		f.Index[i] = time.UnixMilli(ms).UTC()
	}
	for c, s := range o.Series {
		f.Columns[c] = seriesColumnName(s.metric, s.tags)
		col := make([]float64, len(all))
		for r := range col {
			col[r] = math.NaN()
		}
		for p, ms := range s.ts {
			r, _ := slices.BinarySearch(all, ms)
			col[r] = s.vals[p]
		}
		f.Values[c] = col
	}
	return f
}

// seriesColumnName is apptuit-py's TimeSeries.__repr__:
// metric{k1:v1, k2:v2} with the keys sorted.
func seriesColumnName(metric string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(tags[k])
	}
	b.WriteByte('}')
	return b.String()
}

// Rows returns the number of rows (timestamps).
func (f *Frame) Rows() int { return len(f.Index) }

// Column returns the values of the first column named name (shared, not
// copied), or nil when there is none. It scans the column names.
func (f *Frame) Column(name string) []float64 {
	for i, c := range f.Columns {
		if c == name {
			return f.Values[i]
		}
	}
	return nil
}

// WriteCSV writes the frame as pandas' DataFrame.to_csv() writes the
// DataFrame of to_df(): a header line ",<column>,...", then one line per row,
// "2006-01-02 15:04:05" (UTC; with ".000" milliseconds on every row when
// any timestamp has a sub-second part) followed by the values as Python
// prints floats ("23050.0", "1e-07"), NaN as an empty field and ±Inf as
// "inf"/"-inf". Fields holding ',', '"' or a line break are quoted as
// Python's csv module does. Lines end in "\n".
//
// It buffers its output (one bufio.Writer) and returns the first write
// error.
func (f *Frame) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 256)
	for _, c := range f.Columns {
		buf = append(buf, ',')
		buf = appendCSVField(buf, c)
	}
	buf = append(buf, '\n')
	layout := "2006-01-02 15:04:05"
	for _, t := range f.Index {
		if t.Nanosecond() != 0 {
			layout = "2006-01-02 15:04:05.000"
			break
		}
	}
	for r, t := range f.Index {
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		buf = t.UTC().AppendFormat(buf[:0], layout)
		for c := range f.Values {
			buf = append(buf, ',')
			v := f.Values[c][r]
			switch {
			case math.IsNaN(v):
			case math.IsInf(v, 1):
				buf = append(buf, "inf"...)
			case math.IsInf(v, -1):
				buf = append(buf, "-inf"...)
			default:
				buf = appendPyFloat(buf, v)
			}
		}
		buf = append(buf, '\n')
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// appendCSVField quotes s as Python's csv writer does with QUOTE_MINIMAL
// when it contains the delimiter, the quote or a line break.
func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
