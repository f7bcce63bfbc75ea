package opentsdb

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"time"
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

// Put serves POST /api/put with OpenTSDB's semantics and messages (see
// the package documentation). Its zero value is not usable: MaxBody,
// MaxDecompressed and Commit must be set.
type Put struct {
	MaxBody         int64         // largest body as sent (413 beyond)
	MaxDecompressed int64         // largest decompressed body (413 beyond)
	BodyTimeout     time.Duration // waiting for the body, summed over reads (408 beyond); 0: no bound
	// Slots bounds the bodies read and stored at once (a slot per body);
	// a put waits up to SlotWait for one, then gets 503 with Retry-After.
	// nil: no bound.
	Slots    chan struct{}
	SlotWait time.Duration
	Done     <-chan struct{} // closed when the server closes: waiting puts get 503
	// Commit stores the accepted points of a body once the whole body has
	// been judged, and returns how many points storing them evicted; an
	// error answers 500 and must mean nothing was stored.
	Commit func(*Batch) (evicted int, err error)
}

// PutResult says what one put did, for the request log.
type PutResult struct {
	BodySize int64    // decompressed bytes read
	Accepted int      // points accepted
	Failed   int      // points rejected
	Evicted  int      // points evicted by storing them
	Errors   []string // the first rejected points' messages ("metric: message")
}

// Serve answers one put request and returns what it did.
func (h *Put) Serve(w http.ResponseWriter, r *http.Request) PutResult {
	var res PutResult
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method+" (use POST)")
		return res
	}
	release, berr := h.acquire(r)
	if berr != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, berr.status, berr.msg)
		return res
	}
	defer release() // after the commit: the batch is part of what the slot bounds
	q := r.URL.Query()
	col := &putCollector{details: q.Has("details")}
	size, berr := h.read(w, r, col)
	res.BodySize = size
	if berr != nil {
		WriteError(w, berr.status, berr.msg)
		return res
	}
	if col.good > 0 {
		evicted, err := h.Commit(&col.batch)
		if err != nil {
			WriteError(w, http.StatusInternalServerError, "storing the points: "+err.Error())
			return res
		}
		res.Evicted = evicted
	}
	res.Accepted, res.Failed, res.Errors = col.good, col.bad, col.errors

	status := http.StatusOK
	if col.bad > 0 {
		status = http.StatusBadRequest
	}
	switch {
	case col.details:
		b, _ := json.Marshal(putSummary{Success: col.good, Failed: col.bad})
		b = append(b[:len(b)-1], `,"errors":[`...)
		b = append(append(b, col.echo...), "]}"...)
		WriteRawJSON(w, status, b)
	case q.Has("summary"):
		WriteJSON(w, status, putSummary{Success: col.good, Failed: col.bad})
	case col.bad > 0:
		WriteJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: msgSomeFailed, Details: msgSomeFailedHint}})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return res
}

func cmpTag(x, y tagPair) int { return bytes.Compare(x.k, y.k) }

// putCollector receives the points of a body as the parser reads them: the
// good ones go to a batch, the bad ones are counted and, for ?details,
// echoed (within maxEchoBytes).
type putCollector struct {
	details bool
	batch   Batch
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
		c.batch = Batch{}
		c.echo = nil
		return
	}
	metric, ts, value := text(p.metric), text(p.ts), text(p.value)
	ms, v, msg := checkPoint(metric, ts, p.tsNull, value, tags)
	if msg == "" {
		c.key = appendSeriesKey(c.key[:0], metric, tags)
		c.batch.Add(c.key, ms, v)
		c.good++
		return
	}
	c.bad++
	if len(c.errors) < MaxLoggedErrors {
		c.errors = append(c.errors, PointErrorText(string(metric), msg))
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
