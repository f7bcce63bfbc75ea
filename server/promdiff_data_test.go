package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The data of TestPromQLAgainstPrometheus: two hours of samples, loaded
// into this server with /api/put and into Prometheus with promtool (as
// OpenMetrics text). Generated from a fixed seed, so every run compares
// the same answers.

// pdT0 is the first sample's second: 2023-11-14 22:00:00 UTC, on the hour.
const pdT0 = 1_699_999_200

// pdSamples is the number of 15 s scrapes in the two hours.
const pdSamples = 480

// pdDotted is a dotted metric name. Prometheus 2.42 cannot hold it (its
// OpenMetrics parser and PromQL take only [a-zA-Z_:][a-zA-Z0-9_:]* names),
// so it is stored there as pdDottedProm, queries name pdDottedProm where
// they name pdDotted, and Prometheus's answers are read back with
// pdDottedProm renamed pdDotted.
const (
	pdDotted     = "pd.http.requests"
	pdDottedProm = "pd_http_requests"
)

// pdSeries is one series of the data: its metric, tags and samples.
type pdSeries struct {
	metric string
	tags   map[string]string
	ms     []int64
	vals   []float64
}

// pdJitter is a sample's offset from its scrape second. It is never 0 or
// 500 ms, and evaluation times are always at .500 s, so that no range or
// lookback boundary (evaluation time minus whole seconds), subquery step
// (whole seconds) or @ time (whole seconds) falls on a sample: Prometheus
// 2.42 includes a range's start, Prometheus 3 (this server's engine)
// excludes it. Multiples of 125 ms are exact in seconds as binary floats,
// which is how promtool reads OpenMetrics timestamps.
func pdJitter(r *rand.Rand) int64 {
	return []int64{125, 250, 375, 625, 750, 875}[r.IntN(6)]
}

// pdScrape is the timestamp (ms) of scrape k.
func pdScrape(k int, jitter int64) int64 { return (pdT0+15*int64(k))*1000 + jitter }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// pdData returns the data set (about 50 series, 21,000 samples).
func pdData() []*pdSeries {
	r := rand.New(rand.NewPCG(15, 3))
	var out []*pdSeries
	add := func(metric string, tags ...string) *pdSeries {
		s := &pdSeries{metric: metric, tags: map[string]string{}}
		for i := 0; i < len(tags); i += 2 {
			s.tags[tags[i]] = tags[i+1]
		}
		out = append(out, s)
		return s
	}
	put := func(s *pdSeries, ms int64, v float64) {
		s.ms = append(s.ms, ms)
		s.vals = append(s.vals, v)
	}

	// Gauges: random walks with two decimals plus a thousandth per series,
	// so that no two series ever tie (topk, bottomk and sort would pick
	// among ties by their heap's order, which changed since 2.42); job db
	// hits 0 now and then.
	n := 0
	for _, job := range []string{"api", "db"} {
		for _, inst := range []string{"i1", "i2", "i3"} {
			n++
			s := add("pd_gauge", "job", job, "instance", inst)
			w := 40 + 10*float64(n)
			for k := range pdSamples {
				w = round2(w + r.NormFloat64()*3)
				v := w + 0.001*float64(n)
				if job == "db" && k%97 == 13 {
					v = 0
				}
				put(s, pdScrape(k, pdJitter(r)), v)
			}
		}
	}
	// Temperatures around 0: negative values and, in room c, exact zeros
	// (for ln, log2, sqrt, sgn, division by zero and clamp).
	for j, room := range []string{"a", "b", "c"} {
		s := add("pd_temp", "room", room)
		for k := range pdSamples {
			v := round2(r.NormFloat64()*3) + 0.001*float64(j+1)
			if room == "c" && k%3 == 0 {
				v = 0
			}
			put(s, pdScrape(k, pdJitter(r)), v)
		}
	}
	// Counters with resets. Prometheus 3 changed where rate's
	// extrapolation to the start of a series is cut at the counter's zero
	// point (see pdQueries); the two agree when the first value in a
	// window that starts before the series is 0 or large against the
	// window's increase. The counters here were running before the data
	// starts (2,000 or more), and a series that starts later starts at 0
	// or 3,000.
	for _, job := range []string{"api", "db"} {
		for _, inst := range []string{"i1", "i2"} {
			for _, code := range []string{"200", "500"} {
				s := add("pd_requests_total", "job", job, "instance", inst, "code", code)
				v := float64(2000 + r.IntN(10000))
				resets := map[int]bool{60 + r.IntN(100): true, 250 + r.IntN(200): true}
				for k := range pdSamples {
					switch {
					case resets[k]:
						v = float64(r.IntN(3)) // restarted: counted again from 0
					case code == "200":
						v += float64(r.IntN(20)) + 0.5*float64(r.IntN(2))
					default:
						v += float64(r.IntN(3))
					}
					put(s, pdScrape(k, pdJitter(r)), v)
				}
			}
		}
	}
	// A counter sampled irregularly, 20 s to 7 minutes apart.
	for _, id := range []string{"1", "2"} {
		s := add("pd_sparse_total", "id", id)
		v := float64(10000 + r.IntN(1000))
		for t := range pdIrregular(r) {
			v += float64(r.IntN(50))
			put(s, t, v)
		}
	}
	// Counters with gaps: 12 minutes missing (longer than the 5-minute
	// lookback) and 3 minutes missing; no reset next to a gap.
	for _, job := range []string{"api", "db"} {
		s := add("pd_gappy_total", "job", job)
		v := float64(5000 + r.IntN(1000))
		for k := range pdSamples {
			v += float64(1 + r.IntN(10))
			if (k >= 120 && k < 168) || (k >= 300 && k < 312) {
				continue
			}
			put(s, pdScrape(k, pdJitter(r)), v)
		}
	}
	// Counters that start at 50 minutes (one from 0, one from 3,000) and
	// stop at 1h40m.
	for j, job := range []string{"api", "db"} {
		s := add("pd_late_total", "job", job)
		v := float64(3000 * j)
		for k := 200; k < 400; k++ {
			put(s, pdScrape(k, pdJitter(r)), v)
			v += float64(r.IntN(7))
		}
	}
	// A dotted counter, from 0.
	for _, code := range []string{"200", "404"} {
		s := add(pdDotted, "code", code)
		v := 0.0
		for k := range pdSamples {
			put(s, pdScrape(k, pdJitter(r)), v)
			v += float64(r.IntN(30))
		}
	}
	// A classic histogram per job: cumulative buckets (le as the text
	// format writes it), _sum and _count, all of one scrape at one time;
	// the process has made 5,000 observations before the data starts; job
	// db restarts at 1h02m30s.
	les := []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, math.Inf(1)}
	for _, job := range []string{"api", "db"} {
		buckets := make([]*pdSeries, len(les))
		for i, le := range les {
			buckets[i] = add("pd_latency_seconds_bucket", "job", job, "le", formatLe(le))
		}
		sum, count := add("pd_latency_seconds_sum", "job", job), add("pd_latency_seconds_count", "job", job)
		counts := make([]float64, len(les))
		total := 0.0
		for k := range pdSamples {
			if job == "db" && k == 250 {
				clear(counts)
				total = 0
			}
			n := r.IntN(30)
			if k == 0 {
				n = 5000
			}
			for range n {
				lat := r.ExpFloat64() * 0.3
				total += lat
				for i, le := range les {
					if lat <= le {
						counts[i]++
					}
				}
			}
			ms := pdScrape(k, pdJitter(r))
			for i := range les {
				put(buckets[i], ms, counts[i])
			}
			put(sum, ms, total)
			put(count, ms, counts[len(les)-1])
		}
	}
	// Info series to join with (group_left, group_right).
	for _, jv := range [][2]string{{"api", "1.2.3"}, {"db", "2.0.0"}} {
		s := add("pd_build_info", "job", jv[0], "version", jv[1])
		for k := range pdSamples {
			put(s, pdScrape(k, pdJitter(r)), 1)
		}
	}
	// Values near the float64 limit: sums overflow to ±Inf.
	for j, sign := range []float64{1, 1, -1} {
		s := add("pd_huge", "k", string(rune('a'+j)))
		for k := range pdSamples {
			put(s, pdScrape(k, pdJitter(r)), sign*(1+0.7*r.Float64())*1e308)
		}
	}
	// Sparse gauges: 20 s to 7 minutes apart (longer than the lookback).
	for _, id := range []string{"1", "2"} {
		s := add("pd_sparse", "id", id)
		for t := range pdIrregular(r) {
			put(s, t, round2(r.Float64()*100-20))
		}
	}
	// Times as values, for the date functions: from 1900 to 2100, month
	// ends and 29 February included, some with fractions of seconds.
	special := []float64{951782400, 951868799.5, 4107542399, -2208988800, 0, 1709251199, 1735689599.75}
	s := add("pd_epoch", "src", "a")
	for k := range pdSamples {
		v := float64(r.Int64N(200*365*86400)) - 2208988800 + 0.25*float64(r.IntN(4))
		if k%10 == 0 {
			v = special[(k/10)%len(special)]
		}
		put(s, pdScrape(k, pdJitter(r)), v)
	}
	return out
}

// pdIrregular yields timestamps (ms) over the two hours, 20 s to 7
// minutes apart, never at .000 or .500 s.
func pdIrregular(r *rand.Rand) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		t := int64(pdT0*1000) + pdJitter(r)
		for t < (pdT0+2*3600)*1000 {
			if !yield(t) {
				return
			}
			t += 1000*int64(20+r.IntN(400)) + pdJitter(r) - pdJitter(r)
			if t%1000 == 0 || t%1000 == 500 {
				t += 125
			}
		}
	}
}

// formatLe writes a bucket bound as Prometheus's text format does.
func formatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}

// pdCount is the number of samples in data.
func pdCount(data []*pdSeries) int {
	n := 0
	for _, s := range data {
		n += len(s.ms)
	}
	return n
}

// writeOpenMetrics writes data as OpenMetrics text for promtool tsdb
// create-blocks-from openmetrics: one line per sample, timestamps in
// seconds with milliseconds, dotted names as Prometheus holds them.
func writeOpenMetrics(w io.Writer, data []*pdSeries) error {
	bw := bufio.NewWriter(w)
	for _, s := range data {
		name := s.metric
		if name == pdDotted {
			name = pdDottedProm
		}
		keys := slices.Sorted(maps.Keys(s.tags))
		var lb strings.Builder
		lb.WriteString(name)
		lb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				lb.WriteByte(',')
			}
			fmt.Fprintf(&lb, "%s=%q", k, s.tags[k])
		}
		lb.WriteByte('}')
		prefix := lb.String()
		for i, ms := range s.ms {
			fmt.Fprintf(bw, "%s %s %d.%03d\n", prefix, strconv.FormatFloat(s.vals[i], 'g', -1, 64), ms/1000, ms%1000)
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// putBodies returns data as /api/put bodies of at most n points each.
func putBodies(data []*pdSeries, n int) ([][]byte, error) {
	type point struct {
		Metric    string            `json:"metric"`
		Timestamp int64             `json:"timestamp"`
		Value     float64           `json:"value"`
		Tags      map[string]string `json:"tags"`
	}
	var bodies [][]byte
	var pts []point
	flush := func() error {
		if len(pts) == 0 {
			return nil
		}
		b, err := json.Marshal(pts)
		bodies = append(bodies, b)
		pts = pts[:0]
		return err
	}
	for _, s := range data {
		for i, ms := range s.ms {
			pts = append(pts, point{s.metric, ms, s.vals[i], s.tags})
			if len(pts) == n {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return bodies, flush()
}
