package apptuit

import (
	"fmt"
	"strconv"

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
