package store

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// readerStore stores, in this order: cpu{h=a} at ms 1000900 (1), 1000100
// (2, later but earlier in time), 1002000 twice (3 then 4); cpu{h=b} at
// 1001000 (5); mem{h=a} at 1000000 (6), all shifted by msBase.
func readerStore(t *testing.T) *Store {
	t.Helper()
	st := New(0, 0, time.Now)
	var b opentsdb.Batch
	for _, p := range []struct {
		metric, h string
		ms        int64
		v         float64
	}{
		{"cpu", "a", 1000900, 1}, {"cpu", "a", 1000100, 2}, {"cpu", "a", 1002000, 3}, {"cpu", "a", 1002000, 4},
		{"cpu", "b", 1001000, 5}, {"mem", "a", 1000000, 6},
	} {
		b.Add([]byte(opentsdb.SeriesKeyOf(p.metric, map[string]string{"h": p.h})), msBase+p.ms, p.v)
	}
	if _, err := st.Commit(&b); err != nil {
		t.Fatal(err)
	}
	return st
}

const msBase = 1500000000000

func TestReaderSamplesAndSeconds(t *testing.T) {
	st := readerStore(t)
	type sample struct {
		T int64
		V float64
	}
	var ms, secs []sample
	st.Read(func(r Reader) {
		r.EachSeries("cpu", func(_ string, tags Tags) bool { h, _ := tags.Get("h"); return h == "a" }, func(v View) bool {
			v.Samples(math.MinInt64, math.MaxInt64, func(t int64, val float64) bool {
				ms = append(ms, sample{t - msBase, val})
				return true
			})
			v.Seconds(0, math.MaxInt64, func(t int64, val float64) bool {
				secs = append(secs, sample{t - msBase/1000, val})
				return true
			})
			return true
		})
	})
	// By millisecond: time order, one per timestamp (the later arrival).
	if want := []sample{{1000100, 2}, {1000900, 1}, {1002000, 4}}; !reflect.DeepEqual(ms, want) {
		t.Errorf("samples %v, want %v", ms, want)
	}
	// By second: second 1000 holds 1000900 (1, arrived first) and 1000100
	// (2): the latest timestamp wins, whatever the order of arrival; at
	// 1002000, of two at the same millisecond the later arrival.
	if want := []sample{{1000, 1}, {1002, 4}}; !reflect.DeepEqual(secs, want) {
		t.Errorf("seconds %v, want %v", secs, want)
	}
	// A range, and stopping early.
	var part []sample
	st.Read(func(r Reader) {
		r.EachSeries("cpu", nil, func(v View) bool {
			if h, _ := v.Tags().Get("h"); h != "a" {
				return true
			}
			v.Samples(msBase+1000200, msBase+1002000, func(t int64, val float64) bool {
				part = append(part, sample{t - msBase, val})
				return false
			})
			return false
		})
	})
	if want := []sample{{1000900, 1}}; !reflect.DeepEqual(part, want) {
		t.Errorf("ranged samples %v, want %v", part, want)
	}
}

func TestReaderSelection(t *testing.T) {
	st := readerStore(t)
	var all, metrics []string
	st.Read(func(r Reader) {
		r.EachSeries("", nil, func(v View) bool {
			all = append(all, fmt.Sprintf("%s %v:%d", v.Metric(), v.Tags().Map(), v.Len()))
			return true
		})
		r.Metrics(func(m string, n int) bool {
			metrics = append(metrics, fmt.Sprintf("%s:%d", m, n))
			return true
		})
	})
	sort.Strings(all)
	sort.Strings(metrics)
	if want := []string{"cpu map[h:a]:4", "cpu map[h:b]:1", "mem map[h:a]:1"}; !reflect.DeepEqual(all, want) {
		t.Errorf("series %q, want %q", all, want)
	}
	if want := []string{"cpu:2", "mem:1"}; !reflect.DeepEqual(metrics, want) {
		t.Errorf("metrics %q, want %q", metrics, want)
	}
}
