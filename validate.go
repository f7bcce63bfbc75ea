package apptuit

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// The rules every point passes before anything of a send goes out, in one
// place: checkSeries for a series (a name and tags: a DataPoint's, a
// TimeSeries', a PreparedSeries'), check for the points of a call
// (checkSample's value and time, and the series of Send's points).

// MaxTags is the most tags a point may carry after global tags are merged:
// Apptuit's limit.
const MaxTags = 25

// checkSeries applies the series rules: the client's sanitizer rewrites
// metric and the tag keys, its global tags are merged under tags, and then
// the name and keys must follow Apptuit's rule, no tag value may be empty,
// the merged tags must number 1 to MaxTags, and a line transport's rules
// must hold (line_encode.go). It returns the sanitized name and the merged
// tags, sorted by key, in scratch (grown when too small): no allocation
// otherwise.
func (c *Client) checkSeries(metric string, tags map[string]string, scratch []kv) (string, []kv, error) {
	name := c.sanitizeName(metric)
	if err := checkName("metric name", name); err != nil {
		return "", scratch, err
	}
	merged, err := c.mergeTags(scratch, tags)
	if err == nil {
		err = checkTagCount(len(merged))
	}
	if err == nil && c.cfg.line != nil {
		err = c.cfg.line.checkSeries(name, merged)
	}
	return name, merged, err
}

// check applies the point rules to every point of src and returns the
// first breach as a *ValidationError: a series (not nil, prepared by c; a
// Send point's series is checked as it is read), a finite value and a time
// the client's Precision can write. Cost: O(points); no allocation per
// point.
func (c *Client) check(src pointSet) error {
	scr := scratch{checkOnly: true}
	for i, n := 0, src.len(); i < n; {
		pts, err := src.read(i, n-i, &scr)
		for j := range pts {
			if perr := c.checkPoint(&pts[j]); perr != nil {
				return src.invalid(i+j, perr)
			}
		}
		if err != nil {
			return src.invalid(i+len(pts), err)
		}
		i += len(pts)
	}
	return nil
}

var errForeignSeries = errors.New("series was prepared by another client (its encoding holds that client's sanitizer and global tags)")

func (c *Client) checkPoint(p *PreparedPoint) error {
	switch {
	case p.Series == nil:
		return errNilSeries
	case p.Series.tags.c != c:
		return errForeignSeries
	}
	return c.checkSample(p.Value, p.UnixMilli)
}

// checkSample is checkValue(v), then checkTime(ms): the checks every point
// passes before it is sent. The common case, a finite value and a time that
// every Precision sends as is, costs two comparisons.
func (c *Client) checkSample(v float64, ms int64) error {
	if v-v == 0 && ms >= fastMinMillis && ms <= fastMaxMillis { // v-v is NaN for NaN and ±Inf
		return nil // inlined: no call for the common case
	}
	return c.checkSampleRules(v, ms)
}

func (c *Client) checkSampleRules(v float64, ms int64) error {
	if err := checkValue(v); err != nil {
		return err
	}
	return c.checkTime(ms)
}

// Timestamps in [fastMinMillis, fastMaxMillis] pass checkTime under every
// Precision: at least 2^32 ms (read as milliseconds), below 2^32 s (so
// seconds are not read as milliseconds) and at most timestamp.MaxMillis.
const (
	fastMinMillis = timestamp.MinMillis
	fastMaxMillis = min(timestamp.MinMillis*1000-1, timestamp.MaxMillis)
)

// checkTime reports whether the Unix-millisecond time ms can be written
// with the client's precision so that a server reads it back as ms.
func (c *Client) checkTime(ms int64) error {
	rfc := func() string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }
	switch {
	case ms <= 0:
		return fmt.Errorf("timestamp %s is not after the Unix epoch", rfc())
	case ms > timestamp.MaxMillis:
		return fmt.Errorf("timestamp %s is past what the API accepts (%d ms)", rfc(), int64(timestamp.MaxMillis))
	}
	switch c.cfg.precision {
	case PrecisionSeconds:
		if ms < 1000 {
			return fmt.Errorf("timestamp %s is within the first second after the epoch, which is 0 in seconds (PrecisionSeconds)", rfc())
		}
		if ms/1000 >= timestamp.MinMillis {
			return fmt.Errorf("timestamp %s is 2^32 seconds or more, which servers read as milliseconds: it cannot be sent in seconds (PrecisionSeconds)", rfc())
		}
	case PrecisionMilliseconds:
		if ms < timestamp.MinMillis {
			return fmt.Errorf("timestamp %s is before 1970-02-19T17:02:47.296Z, below which servers read timestamps as seconds: it cannot be sent in milliseconds (PrecisionMilliseconds)", rfc())
		}
	default:
		if ms%1000 != 0 && ms < timestamp.MinMillis {
			return fmt.Errorf("timestamp %s has a sub-second part but is before 1970-02-19T17:02:47.296Z, below which servers read timestamps as seconds", rfc())
		}
	}
	return nil
}

func checkValue(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("value %v is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)", v)
	}
	return nil
}

// checkTagCount applies the 1..MaxTags rule to merged tags.
func checkTagCount(n int) error {
	if n == 0 {
		return fmt.Errorf("no tags: a point needs at least one tag (give it tags or set global tags)")
	}
	if n > MaxTags {
		return fmt.Errorf("%d tags after merging global tags, at most %d are allowed", n, MaxTags)
	}
	return nil
}

// checkName is CheckName with what s is (e.g. "metric name") in the
// message.
func checkName(what, s string) error {
	if err := CheckName(s); err != nil {
		return errors.New(err.(*NameError).describe(what))
	}
	return nil
}

// ValidateMetric reports whether a point with this metric name and tags
// passes the checks Send applies on c: the client's sanitizer is applied to
// the name and the tag keys, its global tags are merged under tags, and
// then the name and keys must follow Apptuit's rule, no tag value may be
// empty, the merged tags must number 1 to MaxTags and the line transport's
// rules, if the client has one, must hold. It returns nil or a
// *ValidationError whose Index and Point are -1 and whose Rule says what is
// wrong; it does not look at values or timestamps. Cost: one pass over the
// name and tags; no allocation for a valid metric.
func (c *Client) ValidateMetric(metric string, tags map[string]string) error {
	var buf [8 + MaxTags]kv
	if _, _, err := c.checkSeries(metric, tags, buf[:0]); err != nil {
		return &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	return nil
}

// ValidateMetric is (*Client).ValidateMetric for a client without a
// sanitizer or global tags: metric and the keys of tags must follow
// Apptuit's rule as given, no value may be empty, and there must be 1 to
// MaxTags tags.
func ValidateMetric(metric string, tags map[string]string) error {
	var c Client
	return c.ValidateMetric(metric, tags)
}
