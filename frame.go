package apptuit

import (
	"bufio"
	"cmp"
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
// points at one timestamp, the one that comes last in the series wins.
//
// Cost: for P points in S series whose timestamps increase (as servers
// return them), O(P log S) to merge the series' timestamps into the index
// (O(P) when they are aligned) and one pass over each series to fill its
// column; a series whose timestamps do not strictly increase is first
// sorted, O(n log n) for its n points. Memory: the index and a dense table
// of columns × rows float64s (sparse, unaligned series make it large), plus
// temporary int64s for the merge, at most 2P.
func (o *Output) Frame() *Frame {
	tss := make([][]int64, len(o.Series))
	vals := make([][]float64, len(o.Series))
	for c, s := range o.Series {
		tss[c], vals[c] = s.ts, s.vals
		if !strictlyIncreasing(s.ts) {
			tss[c], vals[c] = sortLastWins(s.ts, s.vals)
		}
	}
	index := unionSorted(tss)

	f := &Frame{
		Index:   make([]time.Time, len(index)),
		Columns: make([]string, len(o.Series)),
		Values:  make([][]float64, len(o.Series)),
	}
	for i, ms := range index {
		f.Index[i] = time.UnixMilli(ms).UTC()
	}
	for c, s := range o.Series {
		f.Columns[c] = seriesColumnName(s.metric, s.tags)
		f.Values[c] = fillColumn(make([]float64, len(index)), index, tss[c], vals[c])
	}
	return f
}

func strictlyIncreasing(ts []int64) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			return false
		}
	}
	return true
}

// sortLastWins returns the points sorted by timestamp, keeping of several
// points at one timestamp the one that comes last.
func sortLastWins(ts []int64, vals []float64) ([]int64, []float64) {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ts[a], ts[b]) })
	sts := make([]int64, 0, len(ts))
	svals := make([]float64, 0, len(ts))
	for k, i := range order {
		if k+1 < len(order) && ts[order[k+1]] == ts[i] {
			continue // a later point has this timestamp
		}
		sts = append(sts, ts[i])
		svals = append(svals, vals[i])
	}
	return sts, svals
}

// unionSorted merges strictly increasing lists into one, without
// duplicates: pairwise, in rounds, through two buffers.
func unionSorted(lists [][]int64) []int64 {
	var in [][]int64
	total := 0
	for _, l := range lists {
		if len(l) > 0 {
			in = append(in, l)
			total += len(l)
		}
	}
	switch len(in) {
	case 0:
		return nil
	case 1:
		return in[0]
	}
	var bufs [2][]int64
	for round := 0; len(in) > 1; round++ {
		buf := bufs[round%2][:0]
		if cap(buf) < total {
			buf = make([]int64, 0, total)
		}
		out := in[:0] // written behind what is read
		for i := 0; i < len(in); i += 2 {
			if i+1 == len(in) {
				out = append(out, in[i])
				break
			}
			start := len(buf)
			buf = appendUnion(buf, in[i], in[i+1])
			out = append(out, buf[start:len(buf):len(buf)])
		}
		bufs[round%2] = buf
		in = out
		total = 0
		for _, l := range in {
			total += len(l)
		}
	}
	return in[0]
}

// appendUnion appends the union of strictly increasing a and b to dst.
func appendUnion(dst, a, b []int64) []int64 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x, y := a[i], b[j]
		switch {
		case x < y:
			dst = append(dst, x)
			i++
		case y < x:
			dst = append(dst, y)
			j++
		default:
			dst = append(dst, x)
			i++
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// fillColumn writes vals at the rows of index holding ts (strictly
// increasing, each in index) and NaN in the other rows of col.
func fillColumn(col []float64, index, ts []int64, vals []float64) []float64 {
	nan := math.NaN()
	r := 0
	for p, ms := range ts {
		at := r
		if index[at] != ms {
			at = gallop(index, r, ms)
		}
		for ; r < at; r++ {
			col[r] = nan
		}
		col[at] = vals[p]
		r = at + 1
	}
	for ; r < len(col); r++ {
		col[r] = nan
	}
	return col
}

// gallop returns the first i >= lo with index[i] >= ms, probing lo+1,
// lo+3, lo+7, ... before a binary search: O(log d) for a distance d.
func gallop(index []int64, lo int, ms int64) int {
	step := 1
	hi := lo + step
	for hi < len(index) && index[hi] < ms {
		lo = hi + 1
		step *= 2
		hi = lo + step
	}
	hi = min(hi, len(index)-1)
	i, _ := slices.BinarySearch(index[lo:hi+1], ms)
	return lo + i
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
