package apptuit

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

func frameSeries(metric string, tags map[string]string, pts ...[2]float64) *TimeSeries {
	s := newSeriesUnchecked(metric, tags, len(pts))
	for _, p := range pts {
		s.ts = append(s.ts, int64(p[0]*1000))
		s.vals = append(s.vals, p[1])
	}
	return s
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestFrameAlignsSeries(t *testing.T) {
	nan := math.NaN()
	o := &Output{ID: "cpu", Series: []*TimeSeries{
		frameSeries("node.cpu", map[string]string{"host": "a", "dc": "x"},
			[2]float64{1406829600, 23050}, [2]float64{1406831400, 0.1}, [2]float64{1406833200, 1e-07}),
		// Unsorted, a duplicate (last wins) and partly overlapping.
		frameSeries("node.cpu", map[string]string{"host": "b"},
			[2]float64{1406835000, 3}, [2]float64{1406831400, 1}, [2]float64{1406831400, 2}),
		frameSeries("node.load1", nil),
	}}
	f := o.Frame()
	wantIdx := []time.Time{
		time.Date(2014, 7, 31, 18, 0, 0, 0, time.UTC),
		time.Date(2014, 7, 31, 18, 30, 0, 0, time.UTC),
		time.Date(2014, 7, 31, 19, 0, 0, 0, time.UTC),
		time.Date(2014, 7, 31, 19, 30, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(f.Index, wantIdx) || f.Rows() != 4 {
		t.Errorf("index %v", f.Index)
	}
	wantCols := []string{"node.cpu{dc:x, host:a}", "node.cpu{host:b}", "node.load1{}"}
	if !reflect.DeepEqual(f.Columns, wantCols) {
		t.Errorf("columns %q, want %q", f.Columns, wantCols)
	}
	wantVals := [][]float64{
		{23050, 0.1, 1e-07, nan},
		{nan, 2, nan, 3},
		{nan, nan, nan, nan},
	}
	for c := range wantVals {
		if !sameFloats(f.Values[c], wantVals[c]) {
			t.Errorf("column %d = %v, want %v", c, f.Values[c], wantVals[c])
		}
		if !sameFloats(f.Column(wantCols[c]), wantVals[c]) {
			t.Errorf("Column(%q) = %v", wantCols[c], f.Column(wantCols[c]))
		}
	}
	if f.Column("nope") != nil {
		t.Error("Column of a missing name is not nil")
	}

	var buf bytes.Buffer
	if err := f.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	const want = `,"node.cpu{dc:x, host:a}",node.cpu{host:b},node.load1{}
2014-07-31 18:00:00,23050.0,,
2014-07-31 18:30:00,0.1,2.0,
2014-07-31 19:00:00,1e-07,,
2014-07-31 19:30:00,,3.0,
`
	if buf.String() != want {
		t.Errorf("CSV\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestFrameCSVFormatting(t *testing.T) {
	tests := []struct {
		name string
		o    *Output
		want string
	}{
		{"empty output", &Output{}, "\n"},
		{"series without points", &Output{Series: []*TimeSeries{frameSeries("m", nil)}}, ",m{}\n"},
		{"floats as Python repr", &Output{Series: []*TimeSeries{frameSeries("m", map[string]string{"k": "v"},
			[2]float64{0, 0.3333333333333333}, [2]float64{1, 0}, [2]float64{2, 1e16}, [2]float64{3, 123456789012345.6},
			[2]float64{4, math.Inf(1)}, [2]float64{5, math.Inf(-1)}, [2]float64{6, math.NaN()}, [2]float64{7, 1.5e-5}, [2]float64{8, -2})}},
			",m{k:v}\n" +
				"1970-01-01 00:00:00,0.3333333333333333\n" +
				"1970-01-01 00:00:01,0.0\n" +
				"1970-01-01 00:00:02,1e+16\n" +
				"1970-01-01 00:00:03,123456789012345.6\n" +
				"1970-01-01 00:00:04,inf\n" +
				"1970-01-01 00:00:05,-inf\n" +
				"1970-01-01 00:00:06,\n" +
				"1970-01-01 00:00:07,1.5e-05\n" +
				"1970-01-01 00:00:08,-2.0\n"},
		{"quoted names", &Output{Series: []*TimeSeries{frameSeries(`m"q`, map[string]string{"a": "1", "b": "x\ny"}, [2]float64{0, 1})}},
			"," + `"m""q{a:1, b:x` + "\n" + `y}"` + "\n1970-01-01 00:00:00,1.0\n"},
		{"milliseconds", &Output{Series: []*TimeSeries{frameSeries("m", nil, [2]float64{1, 1}, [2]float64{1.25, 2})}},
			",m{}\n1970-01-01 00:00:01.000,1.0\n1970-01-01 00:00:01.250,2.0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.o.Frame().WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("CSV\n%q\nwant\n%q", buf.String(), tt.want)
			}
		})
	}
}

// "-0.0" is what Python prints for negative zero; the case above writes
// 0.0 because -0.0 in a Go composite literal is +0.
func TestFrameCSVNegativeZero(t *testing.T) {
	f := &Frame{Index: []time.Time{time.Unix(0, 0)}, Columns: []string{"m{}"}, Values: [][]float64{{math.Copysign(0, -1)}}}
	var buf bytes.Buffer
	if err := f.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if want := ",m{}\n1970-01-01 00:00:00,-0.0\n"; buf.String() != want {
		t.Errorf("%q, want %q", buf.String(), want)
	}
}

type frameFailWriter struct{}

func (w *frameFailWriter) Write(p []byte) (int, error) {
	return 0, errors.New("disk full")
}

func TestFrameCSVWriteError(t *testing.T) {
	s := frameSeries("m", nil)
	for i := range 20000 {
		s.AddUnix(int64(i), float64(i))
	}
	err := (&Output{Series: []*TimeSeries{s}}).Frame().WriteCSV(&frameFailWriter{})
	if err == nil || err.Error() != "disk full" {
		t.Errorf("err = %v", err)
	}
}

// frameReference is Frame as it was first written: sort every timestamp,
// then a binary search per point (the last point of a series at a
// timestamp wins). The merge must give exactly its output.
func frameReference(o *Output) *Frame {
	var all []int64
	for _, s := range o.Series {
		all = append(all, s.ts...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	f := &Frame{Index: make([]time.Time, len(all)), Columns: make([]string, len(o.Series)), Values: make([][]float64, len(o.Series))}
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

func sameFrame(t *testing.T, got, want *Frame) {
	t.Helper()
	if !reflect.DeepEqual(got.Index, want.Index) || !reflect.DeepEqual(got.Columns, want.Columns) || len(got.Values) != len(want.Values) {
		t.Fatalf("index or columns differ:\n got %v %q\nwant %v %q", got.Index, got.Columns, want.Index, want.Columns)
	}
	for c := range want.Values {
		for r := range want.Values[c] {
			g, w := got.Values[c][r], want.Values[c][r]
			if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("column %d row %d = %v, want %v", c, r, g, w)
			}
		}
	}
}

// Random outputs, sorted or not, with duplicates, gaps, empty and
// disjoint series: the merge gives the reference's frame.
func TestFrameMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 2000 {
		o := &Output{}
		nSeries := r.IntN(9)
		for c := range nSeries {
			s := newSeriesUnchecked("m", map[string]string{"c": strconv.Itoa(c)}, 0)
			n := r.IntN(40)
			step := int64(1 + r.IntN(3))
			base := int64(r.IntN(30))
			for p := range n {
				ms := (base + int64(p)*step) * 1000
				switch mode := trial % 4; {
				case mode == 1 && r.IntN(8) == 0: // a duplicate of the previous point
					if p > 0 {
						ms = s.ts[p-1]
					}
				case mode == 2: // any order
					ms = int64(r.IntN(60)) * 1000
				case mode == 3 && r.IntN(4) == 0: // a milliseconds offset
					ms += int64(r.IntN(999))
				}
				s.ts = append(s.ts, ms)
				s.vals = append(s.vals, float64(trial*1000+c*100+p))
			}
			o.Series = append(o.Series, s)
		}
		sameFrame(t, o.Frame(), frameReference(o))
	}
}

func TestFrameUnsortedSeries(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		pts    [][2]float64
		idx    []int64 // seconds
		column []float64
	}{
		{"descending", [][2]float64{{3, 30}, {2, 20}, {1, 10}}, []int64{1, 2, 3}, []float64{10, 20, 30}},
		{"duplicates in order: the last wins", [][2]float64{{1, 10}, {2, 20}, {2, 21}, {2, 22}, {3, 30}}, []int64{1, 2, 3}, []float64{10, 22, 30}},
		{"duplicates apart: the last wins", [][2]float64{{2, 20}, {1, 10}, {2, 21}}, []int64{1, 2}, []float64{10, 21}},
		{"one point twice", [][2]float64{{5, 1}, {5, 2}}, []int64{5}, []float64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Output{Series: []*TimeSeries{
				frameSeries("a", nil, tt.pts...),
				frameSeries("b", nil, [2]float64{100, 40}), // after all of a's
			}}
			before := slices.Clone(o.Series[0].ts)
			f := o.Frame()
			var idx []int64
			for _, ts := range f.Index {
				idx = append(idx, ts.Unix())
			}
			if want := append(slices.Clone(tt.idx), 100); !reflect.DeepEqual(idx, want) {
				t.Fatalf("index %v, want %v", idx, want)
			}
			if want := append(slices.Clone(tt.column), nan); !sameFloats(f.Values[0], want) {
				t.Errorf("column a %v, want %v", f.Values[0], want)
			}
			if want := append(slices.Repeat([]float64{nan}, len(tt.idx)), 40); !sameFloats(f.Values[1], want) {
				t.Errorf("column b %v, want %v", f.Values[1], want)
			}
			if !slices.Equal(o.Series[0].ts, before) {
				t.Errorf("Frame reordered the series: %v, was %v", o.Series[0].ts, before)
			}
		})
	}
}

func TestGallop(t *testing.T) {
	index := []int64{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21}
	for lo := range index {
		for _, ms := range index[lo:] {
			want, _ := slices.BinarySearch(index, ms)
			if got := gallop(index, lo, ms); got != want {
				t.Errorf("gallop(lo %d, %d) = %d, want %d", lo, ms, got, want)
			}
		}
	}
}

// Frame's allocations grow with the number of series, not of points.
func TestFrameAllocsPerSeries(t *testing.T) {
	measure := func(points int) float64 {
		o := &Output{}
		for k := range 20 {
			s := newSeriesUnchecked("m", map[string]string{"k": strconv.Itoa(k)}, points)
			for i := range points {
				s.ts = append(s.ts, int64(i+k%3)*1000) // overlapping, not aligned
				s.vals = append(s.vals, float64(i))
			}
			o.Series = append(o.Series, s)
		}
		return testing.AllocsPerRun(3, func() { o.Frame() })
	}
	small, large := measure(100), measure(10000)
	if large != small {
		t.Errorf("Frame allocates %v times for 20 × 10,000 points, %v for 20 × 100: want the same", large, small)
	}
}
