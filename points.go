package apptuit

import (
	"errors"
	"reflect"
	"slices"
)

// Every send API turns its input into one form, a pointSet: its points
// read by index as PreparedPoints, each a series checked and encoded once
// for the client's wire format (a PreparedSeries), a time and a value.
// check (validate.go) applies the point rules to it, and one encoder per
// format writes it: appendJSON (wire.go) for HTTP bodies, appendLines
// (line_encode.go) for a LineTransport.

// pointSet is a call's points in the one internal form.
type pointSet interface {
	len() int
	// read returns points i, i+1, ...: at least one and at most n. An
	// error is the rule point i+len(returned) breaks; only check sees one,
	// as every point is checked before it is encoded (and check sets
	// scr.checkOnly: the series need not be encoded then). What read
	// returns may live in scr until the next read with it. Safe for
	// concurrent use with distinct scratch.
	read(i, n int, scr *scratch) ([]PreparedPoint, error)
	// invalid returns the error of point i breaking rule err, placed as
	// the caller gave the point.
	invalid(i int, err error) *ValidationError
}

// readBlock is how many points a pointSet that copies its points reads
// at once.
const readBlock = 64

// scratch is the working space of one goroutine reading a pointSet.
type scratch struct {
	pts   [readBlock]PreparedPoint
	tags  []kv           // Send's merged tags
	arena []byte         // Send's series encoding
	ser   PreparedSeries // Send's series, in arena
	st    seriesTags

	checkOnly bool // set by check: read need not encode the series

	// Send's last series, which the next point shares when it has the same
	// metric and the same tags map.
	last     bool
	lastName string
	lastTags uintptr
}

// release drops what the scratch refers to of a send's points (their
// series, tags and names), keeping its buffers, before it is pooled.
func (scr *scratch) release() {
	clear(scr.pts[:])
	clear(scr.tags[:cap(scr.tags)])
	scr.ser, scr.st = PreparedSeries{}, seriesTags{}
	scr.last, scr.lastName = false, ""
}

// preparedPoints are SendPrepared's points, read in place: their series
// were checked and encoded by PrepareSeries.
type preparedPoints []PreparedPoint

func (p preparedPoints) len() int { return len(p) }

func (p preparedPoints) read(i, n int, _ *scratch) ([]PreparedPoint, error) {
	return p[i : i+n], nil
}

func (p preparedPoints) invalid(i int, err error) *ValidationError {
	ve := &ValidationError{Index: i, Point: -1, Rule: err.Error()}
	if s := p[i].Series; s != nil {
		ve.Metric = s.metric
	}
	return ve
}

// dataPoints are Send's points. Each point's series is checked and encoded
// as it is read, one point per read, in the reader's scratch: no memory
// per point. A point with the metric and the very tags map of the point
// before it shares that point's series, checked and encoded once.
type dataPoints struct {
	c   *Client
	pts []DataPoint
}

func (d *dataPoints) len() int { return len(d.pts) }

func (d *dataPoints) read(i, _ int, scr *scratch) ([]PreparedPoint, error) {
	p := &d.pts[i]
	id := reflect.ValueOf(p.Tags).Pointer() // the map's identity; 0 for nil
	if !scr.last || p.Metric != scr.lastName || id != scr.lastTags {
		scr.last = false
		name, tags, err := d.c.checkSeries(p.Metric, p.Tags, scr.tags)
		scr.tags = tags
		if err != nil {
			return nil, err
		}
		scr.st = seriesTags{c: d.c}
		scr.ser = PreparedSeries{metric: p.Metric, tags: &scr.st}
		if !scr.checkOnly {
			a, _, t := d.c.appendSeries(scr.arena[:0], name, tags, true)
			scr.arena, scr.ser.head, scr.st.post = a, a[:t], a[t:] // pre is in head: one copy
		}
		scr.last, scr.lastName, scr.lastTags = true, p.Metric, id
	}
	scr.pts[0] = PreparedPoint{&scr.ser, p.Timestamp.UnixMilli(), p.Value}
	return scr.pts[:1], nil
}

func (d *dataPoints) invalid(i int, err error) *ValidationError {
	return &ValidationError{Index: i, Point: -1, Metric: d.pts[i].Metric, Rule: err.Error()}
}

// seriesSet is SendTimeSeries' points: the points of its non-empty series
// one after the other, each series checked and encoded once.
type seriesSet struct {
	series []*TimeSeries
	index  []int // series[k]'s place in the caller's slice
	wire   []PreparedSeries
	starts []int // series[k]'s first point; starts[len(series)] is the total
}

// newSeriesSet checks and encodes series. Their encodings share one buffer:
// a few allocations for any number of series.
func (c *Client) newSeriesSet(series []*TimeSeries) (*seriesSet, error) {
	set := &seriesSet{
		series: make([]*TimeSeries, 0, len(series)),
		index:  make([]int, 0, len(series)),
		starts: make([]int, 1, len(series)+1),
	}
	var arena []byte
	var tags []kv
	ends := make([]int, 0, 3*len(series)) // of each series' head, pre and post in arena
	for i, s := range series {
		if s == nil {
			return nil, &ValidationError{Index: i, Point: -1, Rule: errNilSeries.Error()}
		}
		if s.Len() == 0 {
			continue
		}
		name, merged, err := c.checkSeries(s.metric, s.tags, tags)
		tags = merged
		if err != nil {
			return nil, &ValidationError{Index: i, Point: -1, Metric: s.metric, Rule: err.Error()}
		}
		var h, t int
		arena, h, t = c.appendSeries(arena, name, tags, false)
		ends = append(ends, h, t, len(arena))
		set.series = append(set.series, s)
		set.index = append(set.index, i)
		set.starts = append(set.starts, set.starts[len(set.starts)-1]+s.Len())
	}
	// arena has stopped growing: the series may point into it now.
	set.wire = make([]PreparedSeries, len(set.series))
	tagsOf := make([]seriesTags, len(set.series))
	start := 0
	for k := range set.wire {
		e := ends[3*k : 3*k+3]
		// head and pre are one: one copy per point.
		tagsOf[k] = seriesTags{c: c, post: arena[e[1]:e[2]]}
		set.wire[k] = PreparedSeries{metric: set.series[k].metric, head: arena[start:e[1]], tags: &tagsOf[k]}
		start = e[2]
	}
	return set, nil
}

var errNilSeries = errors.New("series is nil")

func (s *seriesSet) len() int { return s.starts[len(s.series)] }

// seriesOf returns the series holding point i.
func (s *seriesSet) seriesOf(i int) int {
	k, found := slices.BinarySearch(s.starts, i)
	if !found {
		k--
	}
	return k
}

func (s *seriesSet) read(i, n int, scr *scratch) ([]PreparedPoint, error) {
	dst := scr.pts[:min(n, readBlock)]
	got := 0
	for k := s.seriesOf(i); got < len(dst); k++ {
		ts, ps := s.series[k], &s.wire[k]
		j := i + got - s.starts[k]
		m := min(len(dst)-got, ts.Len()-j)
		for q := range m {
			dst[got+q] = PreparedPoint{ps, ts.ts[j+q], ts.vals[j+q]}
		}
		got += m
	}
	return dst, nil
}

func (s *seriesSet) invalid(i int, err error) *ValidationError {
	k := s.seriesOf(i)
	return &ValidationError{Index: s.index[k], Point: i - s.starts[k], Metric: s.series[k].metric, Rule: err.Error()}
}
