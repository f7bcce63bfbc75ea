package apptuit

import (
	"fmt"
	"strconv"
	"time"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// Precision selects how Send, SendTimeSeries and SendPrepared write
// timestamps: in the JSON body over HTTP and in the lines of a line
// transport (WithLineTransport) alike, the same digits with the same
// refusals. OpenTSDB and the servers that follow it read an integer
// timestamp below 2^32 as Unix seconds and one of 2^32 or more as Unix
// milliseconds; a backend that takes only seconds needs PrecisionSeconds.
//
//   - Apptuit, OpenTSDB, VictoriaMetrics: PrecisionAuto (the default) or
//     PrecisionMilliseconds.
//   - InfluxDB's OpenTSDB listener (HTTP or telnet): PrecisionSeconds. It
//     takes the last three digits of a millisecond timestamp for
//     microseconds (1700000000123 is stored as 1700000000.000123 s), so
//     every sub-second point is stored up to a second off, and no error
//     says so.
//
// Its cost is one switch per timestamp written, with no measurable
// slowdown of the encoders.
type Precision int

const (
	// PrecisionAuto writes Unix seconds when the time is a whole second and
	// Unix milliseconds when it has a sub-second part (or is from
	// 2106-02-07T06:28:16Z on, which seconds below 2^32 cannot reach). A
	// sub-second time before 1970-02-19T17:02:47.296Z cannot be written and
	// is a *ValidationError. The default.
	PrecisionAuto Precision = iota
	// PrecisionSeconds always writes Unix seconds, the time truncated to the
	// second below (floor). Two points of one series within one second are
	// both sent with the same timestamp; what the backend keeps is its rule
	// (InfluxDB keeps the last one written, VictoriaMetrics keeps both), so
	// send at most one point per second and series. A time before
	// 1970-01-01T00:00:01Z or from 2106-02-07T06:28:16Z on (2^32 s, which
	// servers read as milliseconds) is a *ValidationError.
	PrecisionSeconds
	// PrecisionMilliseconds always writes Unix milliseconds. A time before
	// 1970-02-19T17:02:47.296Z (2^32 ms) cannot be told from seconds by a
	// server and is a *ValidationError.
	PrecisionMilliseconds
)

func (p Precision) String() string {
	switch p {
	case PrecisionAuto:
		return "auto"
	case PrecisionSeconds:
		return "seconds"
	case PrecisionMilliseconds:
		return "milliseconds"
	}
	return "Precision(" + strconv.Itoa(int(p)) + ")"
}

// WithTimestampPrecision sets how timestamps are written, over HTTP and
// over a line transport (default PrecisionAuto); see Precision for which
// backend needs which. An unknown Precision is an error from New.
func WithTimestampPrecision(p Precision) Option {
	return func(c *config) error {
		if p != PrecisionAuto && p != PrecisionSeconds && p != PrecisionMilliseconds {
			return fmt.Errorf("WithTimestampPrecision: unknown precision %d", int(p))
		}
		c.precision = p
		return nil
	}
}

// TimestampPrecision returns the precision set with WithTimestampPrecision.
func (c *Client) TimestampPrecision() Precision { return c.cfg.precision }

// appendTimestamp writes the Unix-millisecond time ms as precision p says.
// ms was checked by checkTime.
func appendTimestamp(b []byte, ms int64, p Precision) []byte {
	switch p {
	case PrecisionSeconds:
		return strconv.AppendInt(b, ms/1000, 10) // ms > 0: floor
	case PrecisionMilliseconds:
		return strconv.AppendInt(b, ms, 10)
	}
	if ms%1000 == 0 && ms/1000 < timestamp.MinMillis {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendInt(b, ms, 10)
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
