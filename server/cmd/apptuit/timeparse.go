package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The command reads every time with parseTime and every duration with
// parseDuration, whatever the flag: one syntax to learn, one place to fix.

// maxDuration bounds a duration: 100 years, far below time.Duration's
// limit (about 292 years), so that now ± the duration never overflows.
const maxDuration = 100 * 365 * 24 * time.Hour

// durationUnits are the units parseDuration reads, the two-letter ones
// first so that "ms" is not read as "m" followed by "s".
var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"ns", time.Nanosecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"μs", time.Microsecond},
	{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour},
	{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
}

// durationSyntax is what parseDuration accepts, for error messages.
const durationSyntax = "a duration such as 30s, 5m, 1h30m, 1.5h, 7d or 2w (units ms, s, m, h, d, w)"

// parseDuration reads a duration as a sequence of <number><unit>: "90s",
// "1h30m", "1.5h", "500ms", "7d", "2w"; units ns, us (µs), ms, s, m, h, d
// (24 hours) and w (7 days), numbers with an optional fraction. "0" alone
// is zero. A sign is refused (parseTime reads "-1h" itself), and so is a
// total over 100 years. It is time.ParseDuration's syntax with days and
// weeks added.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("empty duration: want " + durationSyntax)
	}
	var total float64
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if i == 0 || err != nil {
			return 0, errors.New("want " + durationSyntax)
		}
		rest = rest[i:]
		unit := time.Duration(0)
		for _, u := range durationUnits {
			if strings.HasPrefix(rest, u.name) {
				unit, rest = u.d, rest[len(u.name):]
				break
			}
		}
		if unit == 0 {
			if rest == "" {
				return 0, errors.New("a number needs a unit: want " + durationSyntax)
			}
			return 0, errors.New("want " + durationSyntax)
		}
		total += n * float64(unit)
		if total > float64(maxDuration) {
			return 0, errors.New("more than 100 years")
		}
	}
	return time.Duration(math.Round(total)), nil
}

// timeSyntax is what parseTime accepts, for error messages.
const timeSyntax = "want now, a time relative to it (-1h, +1m, now-2d; units ms, s, m, h, d, w), Unix seconds or milliseconds, or RFC 3339 (2026-11-25T15:04:05Z)"

// parseTime reads a time given on the command line, relative to now:
//
//	""                     the zero time (no bound)
//	now
//	-1h, -30m, -2d, -1w    before now (any parseDuration duration)
//	+1m, now+1m, now-1h    after or before now
//	1h-ago                 before now
//	1700000000             Unix seconds (milliseconds when 2^32 or more)
//	1700000000.5           fractional Unix seconds
//	2026-11-25T15:04:05Z   RFC 3339 (also with a space, without a zone: UTC, or a date alone)
//
// Numbers follow the rules of timestamps in the input of send
// (parseTimestamp). Errors do not repeat s: the caller names the flag and
// the value.
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	rel := strings.TrimPrefix(s, "now")
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	case strings.HasSuffix(s, "-ago"):
		d, err := parseDuration(strings.TrimSuffix(s, "-ago"))
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-d), nil
	case strings.HasPrefix(rel, "-"), strings.HasPrefix(rel, "+"):
		d, err := parseDuration(rel[1:])
		if err != nil {
			return time.Time{}, err
		}
		if rel[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	case s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:"):
		if d, err := parseDuration(s); err == nil && d != 0 {
			return time.Time{}, fmt.Errorf("a time relative to now needs a sign: -%s (before now) or +%s (after now)", s, s)
		}
		return parseTimestamp(s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New(timeSyntax)
}

// formatDuration writes d as parseDuration reads it, without the zero
// units time.Duration.String adds ("1h0m0s" is "1h").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// quoteArg writes a command-line value as the user would type it: bare
// when it is printable and has no space, else quoted with Go's escapes.
func quoteArg(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\'' || r == '\\' || r == 0x7f || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
