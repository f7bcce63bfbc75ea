package apptuittest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// Whole-body error messages of POST /api/put (OpenTSDB's wording).
const (
	msgMissingContent = "Missing request content"
	msgMustStart      = "The JSON must start as an object or an array"
	msgUnparsable     = "Unable to parse the given JSON"
	msgNoDatapoints   = "No datapoints found in content"
	msgSomeFailed     = "One or more data points had errors"
	msgSomeFailedHint = "Please see the TSD logs or append \"details\" to the put request"
)

// maxEchoBytes bounds the ?details echo of rejected points: once the echoes
// reach it, further rejected points are counted in "failed" but not listed.
const maxEchoBytes = 8 << 20

// echoPoint is a rejected point as the details echo shows it; the value is
// echoed as the text the client sent, like Apptuit does.
type echoPoint struct {
	Metric    string            `json:"metric"`
	Timestamp int64             `json:"timestamp"`
	Value     string            `json:"value"`
	Tags      map[string]string `json:"tags"`
}

type pointError struct {
	Datapoint echoPoint `json:"datapoint"`
	Error     string    `json:"error"`
}

type putSummary struct {
	Success int `json:"success"`
	Failed  int `json:"failed"`
}

// bodyError is a whole-body error: the request stores nothing.
type bodyError struct {
	status int
	msg    string
}

func (s *Server) servePut(w http.ResponseWriter, r *http.Request) {
	rec := recordOf(r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method+" (use POST)")
		return
	}
	release, berr := s.acquireBody(r)
	if berr != nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, berr.status, berr.msg)
		return
	}
	defer release() // after the commit: the batch is part of what the slot bounds
	q := r.URL.Query()
	col := &putCollector{details: q.Has("details")}
	size, berr := s.readPut(w, r, col)
	rec.BodySize = size
	if berr != nil {
		writeError(w, berr.status, berr.msg)
		return
	}
	if col.good > 0 {
		res, err := s.store.commit(&col.batch)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "storing the points: "+err.Error())
			return
		}
		rec.Evicted = res.evictedAge + res.evictedMax
	}
	rec.Accepted, rec.Failed = col.good, col.bad
	rec.Errors = col.errors

	status := http.StatusOK
	if col.bad > 0 {
		status = http.StatusBadRequest
	}
	switch {
	case col.details:
		b, _ := json.Marshal(putSummary{Success: col.good, Failed: col.bad})
		b = append(b[:len(b)-1], `,"errors":[`...)
		b = append(append(b, col.echo...), "]}"...)
		writeRawJSON(w, status, b)
	case q.Has("summary"):
		writeJSON(w, status, putSummary{Success: col.good, Failed: col.bad})
	case col.bad > 0:
		writeJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: msgSomeFailed, Details: msgSomeFailedHint}})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func cmpTag(x, y tagPair) int { return bytes.Compare(x.k, y.k) }

// putCollector receives the points of a body as the parser reads them: the
// good ones go to a batch, the bad ones are counted and, for ?details,
// echoed (within maxEchoBytes).
type putCollector struct {
	details bool
	batch   batch
	good    int
	bad     int
	echo    []byte // comma-separated JSON pointErrors
	tags    []tagPair
	key     []byte
	// unparsable is set by a point with an object or array where a scalar
	// belongs: a whole-body error, found once the point is complete.
	unparsable bool
	errors     []string // the first rejected points' messages, for Request.Errors
}

func (c *putCollector) point(a []byte, p *rawPoint) {
	if c.unparsable {
		return
	}
	text := func(s span) []byte { return a[s.lo:s.hi] }
	// Duplicate tag keys: the last one wins, as in a JSON object read into a
	// map.
	tags := c.tags[:0]
	for _, t := range p.tags {
		tags = append(tags, tagPair{k: text(t.k), v: text(t.v), null: t.null, bad: t.bad})
	}
	if !slices.IsSortedFunc(tags, cmpTag) {
		slices.SortStableFunc(tags, cmpTag)
	}
	n := 0
	for i := range tags {
		if i+1 < len(tags) && bytes.Equal(tags[i].k, tags[i+1].k) {
			continue
		}
		tags[n] = tags[i]
		n++
	}
	tags = tags[:n]
	c.tags = tags
	bad := p.badType()
	for _, t := range tags {
		bad = bad || t.bad
	}
	if bad {
		c.unparsable = true
		c.batch = batch{}
		c.echo = nil
		return
	}
	metric, ts, value := text(p.metric), text(p.ts), text(p.value)
	ms, v, msg := checkPoint(metric, ts, p.tsNull, value, tags)
	if msg == "" {
		c.key = appendSeriesKey(c.key[:0], metric, tags)
		c.batch.add(c.key, ms, v)
		c.good++
		return
	}
	c.bad++
	if len(c.errors) < maxLoggedErrors {
		c.errors = append(c.errors, pointErrorText(string(metric), msg))
	}
	if !c.details || len(c.echo) >= maxEchoBytes {
		return
	}
	e := echoPoint{Metric: string(metric), Value: string(value)}
	if t, ok := timestampOf(ts, p.tsNull); ok {
		e.Timestamp = t
	}
	if p.tagsPresent {
		e.Tags = make(map[string]string, len(tags))
		for _, t := range tags {
			e.Tags[string(t.k)] = string(t.v)
		}
	}
	b, err := json.Marshal(pointError{Datapoint: e, Error: msg})
	if err != nil {
		return
	}
	if len(c.echo) > 0 {
		c.echo = append(c.echo, ',')
	}
	c.echo = append(c.echo, b...)
}
