package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseTime reads a time given on the command line, relative to now:
//
//	""                     the zero time (no bound)
//	now
//	-1h, -30m, -2d, -1w, -1h30m, 1h-ago   before now (units s, m, h, d, w)
//	1700000000             Unix seconds (milliseconds when 2^32 or more)
//	1700000000.5           fractional Unix seconds
//	2026-11-25T15:04:05Z   RFC 3339 (also with a space, without a zone: UTC, or a date alone)
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "-"):
		d, err := parseRelative(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("bad relative time %q: %v", s, err)
		}
		return now.Add(-d), nil
	case strings.HasSuffix(s, "-ago"):
		d, err := parseRelative(strings.TrimSuffix(s, "-ago"))
		if err != nil {
			return time.Time{}, fmt.Errorf("bad relative time %q: %v", s, err)
		}
		return now.Add(-d), nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i >= 1<<32 {
			return time.UnixMilli(i).UTC(), nil
		}
		return time.Unix(i, 0).UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpPnNiI_") {
		if math.Abs(f) >= 1<<40 {
			return time.Time{}, fmt.Errorf("time %q is out of range", s)
		}
		return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
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
	return time.Time{}, fmt.Errorf("bad time %q: want -1h (s, m, h, d, w), Unix seconds or RFC 3339", s)
}

// parseRelative reads a sequence of <n><unit>, units s, m, h, d and w,
// such as "1h30m" or "2d".
func parseRelative(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("want <number><unit>, units s, m, h, d, w")
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, err
		}
		var unit time.Duration
		j := i + 1
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
			if strings.HasPrefix(s[i:], "ms") {
				unit, j = time.Millisecond, i+2
			}
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("unknown unit %q (want s, m, h, d or w)", s[i:i+1])
		}
		if n*float64(unit) > float64(100*365*24*time.Hour) {
			return 0, fmt.Errorf("too far back")
		}
		total += time.Duration(n * float64(unit))
		s = s[j:]
	}
	return total, nil
}
