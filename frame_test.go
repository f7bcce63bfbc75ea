package apptuit

import (
	"bytes"
	"errors"
	"math"
	"reflect"
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
