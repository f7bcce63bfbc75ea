package ql

import (
	"context"
	"reflect"
	"testing"
)

// fakeStore serves fixed series; Fetch applies the range as the contract says.
type fakeStore []Series

func (f fakeStore) Fetch(metric string, start, end int64, max int) ([]Series, bool) {
	var out []Series
	n := 0
	for _, s := range f {
		if s.Metric != metric {
			continue
		}
		var pts []Point
		for _, p := range s.Points {
			if p.T >= start && p.T <= end {
				pts = append(pts, p)
			}
		}
		if len(pts) > 0 {
			s.Points = pts
			out = append(out, s)
		}
		if n += len(pts); n > max {
			return out, false
		}
	}
	// Reverse, so Eval's ordering is what the tests see.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, true
}

func pts(tv ...float64) []Point {
	var out []Point
	for i := 0; i < len(tv); i += 2 {
		out = append(out, Point{T: int64(tv[i]), V: tv[i+1]})
	}
	return out
}

var (
	tagsA = map[string]string{"host": "a", "dc": "x"}
	tagsB = map[string]string{"host": "b", "dc": "x"}
	tagsC = map[string]string{"host": "c", "dc": "y"}
	store = fakeStore{
		{Metric: "cpu", Tags: tagsA, Points: pts(100, 1, 110, 3, 120, 2, 130, 8, 150, 4, 185, 10)},
		{Metric: "cpu", Tags: tagsB, Points: pts(100, 10, 120, 20, 140, 30)},
		{Metric: "cpu", Tags: tagsC, Points: pts(110, 5)},
		{Metric: "mem", Tags: map[string]string{"host": "a"}, Points: pts(100, 1)},
	}
)

func TestEval(t *testing.T) {
	all := []Series{store[0], store[1], store[2]}
	noAgg := []string{}
	tests := []struct {
		name       string
		q          string
		start, end int64
		want       []Output
	}{
		{"fetch", "fetch('cpu')", 0, 1000, []Output{{"cpu", all}}},
		{"fetch range", "fetch('cpu')", 110, 130, []Output{{"cpu", []Series{
			{Metric: "cpu", Tags: tagsA, Points: pts(110, 3, 120, 2, 130, 8)},
			{Metric: "cpu", Tags: tagsB, Points: pts(120, 20)},
			{Metric: "cpu", Tags: tagsC, Points: pts(110, 5)},
		}}}},
		{"fetch alternatives", "fetch('cpu', {'host': 'a|c'})", 0, 1000, []Output{{"cpu", []Series{store[0], store[2]}}}},
		{"fetch star", "fetch('cpu', {'dc': '*', 'host': 'b'})", 0, 1000, []Output{{"cpu", []Series{store[1]}}}},
		{"fetch star missing tag", "fetch('cpu', {'rack': '*'})", 0, 1000, []Output{{"cpu", nil}}},
		{"fetch unknown metric", "fetch('nope')", 0, 1000, []Output{{"nope", nil}}},
		{"downsample avg", "fetch('cpu', {'host': 'a'}).downsample('1m', 'avg')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(60, 2, 120, 14.0/3, 180, 10)}}}}},
		{"downsample sum", "fetch('cpu', {'host': 'a'}).downsample('1m', 'sum')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(60, 4, 120, 14, 180, 10)}}}}},
		{"downsample min", "fetch('cpu', {'host': 'a'}).downsample('1m', 'min')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(60, 1, 120, 2, 180, 10)}}}}},
		{"downsample max", "fetch('cpu', {'host': 'a'}).downsample('1m', 'max')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(60, 3, 120, 8, 180, 10)}}}}},
		{"downsample count", "fetch('cpu', {'host': 'a'}).downsample('1m', 'count')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(60, 2, 120, 3, 180, 1)}}}}},
		{"downsample 30s", "fetch('cpu', {'host': 'a'}).downsample('30s', 'avg')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(90, 2, 120, 5, 150, 4, 180, 10)}}}}},
		{"downsample 1h 1d", "fetch('cpu', {'host': 'b'}).downsample('1h', 'sum').downsample('1d', 'max')", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsB, Points: pts(0, 60)}}}}},
		{"rate", "fetch('cpu', {'host': 'a'}).rate()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsA, Points: pts(110, 0.2, 130, 0.6, 185, 6.0/35)}}}}},
		{"rate single point", "fetch('cpu', {'host': 'c'}).rate()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsC}}}}},
		{"series_sum", "fetch('cpu').series_sum()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: map[string]string{}, AggregatedTags: []string{"dc", "host"},
			Points: pts(100, 11, 110, 8, 120, 22, 130, 8, 140, 30, 150, 4, 185, 10)}}}}},
		{"series_avg", "fetch('cpu').series_avg()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: map[string]string{}, AggregatedTags: []string{"dc", "host"},
			Points: pts(100, 5.5, 110, 4, 120, 11, 130, 8, 140, 30, 150, 4, 185, 10)}}}}},
		{"series_min", "fetch('cpu', {'dc': 'x'}).series_min()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: map[string]string{"dc": "x"}, AggregatedTags: []string{"host"},
			Points: pts(100, 1, 110, 3, 120, 2, 130, 8, 140, 30, 150, 4, 185, 10)}}}}},
		{"series_max", "fetch('cpu', {'dc': 'x'}).series_max()", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: map[string]string{"dc": "x"}, AggregatedTags: []string{"host"},
			Points: pts(100, 10, 110, 3, 120, 20, 130, 8, 140, 30, 150, 4, 185, 10)}}}}},
		{"series_sum one series", "fetch('mem').series_sum()", 0, 1000, []Output{{"mem", []Series{{Metric: "mem", Tags: map[string]string{"host": "a"}, AggregatedTags: noAgg, Points: pts(100, 1)}}}}},
		{"series_sum nothing", "fetch('nope').series_sum()", 0, 1000, []Output{{"nope", nil}}},
		{"div", "fetch('cpu', {'host': 'c'}).div(2)", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 2.5)}}}}},
		{"mul", "fetch('cpu', {'host': 'c'}).mul(3)", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 15)}}}}},
		{"add", "fetch('cpu', {'host': 'c'}).add(1)", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 6)}}}}},
		{"sub", "fetch('cpu', {'host': 'c'}).sub(0.5)", 0, 1000, []Output{{"cpu", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 4.5)}}}}},
		{"assignment ids", "a = fetch('mem'); fetch('cpu', {'host': 'c'})", 0, 1000, []Output{{"a", []Series{store[3]}}, {"cpu", []Series{store[2]}}}},
		{"output order", "a = fetch('mem')\nb = fetch('cpu', {'host': 'c'})\noutput(b, a)", 0, 1000, []Output{{"b", []Series{store[2]}}, {"a", []Series{store[3]}}}},
		{"variables", "a = fetch('cpu', {'host': 'c'})\nb = a.mul(2)\nc = a.add(1)\noutput(a, b, c)", 0, 1000, []Output{
			{"a", []Series{store[2]}},
			{"b", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 10)}}},
			{"c", []Series{{Metric: "cpu", Tags: tagsC, Points: pts(110, 6)}}},
		}},
		{"chain", "A=fetch('cpu', {'dc': 'x'}).downsample('1m', 'sum').series_sum().div(2)", 0, 1000, []Output{{"A", []Series{{Metric: "cpu", Tags: map[string]string{"dc": "x"}, AggregatedTags: []string{"host"},
			Points: pts(60, 7, 120, 32, 180, 5)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Eval(context.Background(), p, store, tt.start, tt.end, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Eval(%q)\n got %+v\nwant %+v", tt.q, got, tt.want)
			}
		})
	}
}

func TestEvalDoesNotModifyVariables(t *testing.T) {
	p, err := Parse("a = fetch('cpu', {'host': 'a'}); b = a.mul(10); c = a.series_sum(); output(a)")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Eval(context.Background(), p, store, 0, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Output{{"a", []Series{store[0]}}}) {
		t.Errorf("got %+v", got)
	}
	if store[0].Points[0].V != 1 {
		t.Error("store modified")
	}
}

func TestFloorDiv(t *testing.T) {
	for _, c := range [][3]int64{{7, 2, 3}, {-7, 2, -4}, {-6, 2, -3}, {0, 5, 0}} {
		if got := floorDiv(c[0], c[1]); got != c[2] {
			t.Errorf("floorDiv(%d,%d)=%d want %d", c[0], c[1], got, c[2])
		}
	}
}
