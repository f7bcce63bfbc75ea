package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"now", now},
		{" now ", now},
		{"-1h", now.Add(-time.Hour)},
		{"+1m", now.Add(time.Minute)},
		{"now+1m", now.Add(time.Minute)},
		{"now-1h", now.Add(-time.Hour)},
		{"-30m", now.Add(-30 * time.Minute)},
		{"-2d", now.Add(-48 * time.Hour)},
		{"-1w", now.Add(-7 * 24 * time.Hour)},
		{"-1h30m", now.Add(-90 * time.Minute)},
		{"-1.5h", now.Add(-90 * time.Minute)},
		{"-90s", now.Add(-90 * time.Second)},
		{"-500ms", now.Add(-500 * time.Millisecond)},
		{"1h-ago", now.Add(-time.Hour)},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000123", time.UnixMilli(1700000000123)},
		{"1700000000.5", time.UnixMilli(1700000000500)},
		{"2026-11-25T15:04:05Z", time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)},
		{"2026-11-25T16:04:05+01:00", time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)},
		{"2026-11-25 15:04:05", time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := parseTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"yesterday", timeSyntax},
		{"-1y", "want " + durationSyntax},
		{"-", "empty duration: want " + durationSyntax},
		{"+", "empty duration: want " + durationSyntax},
		{"-h", "want " + durationSyntax},
		{"-1", "a number needs a unit: want " + durationSyntax},
		{"--1h", "want " + durationSyntax},
		{"1h", "a time relative to now needs a sign: -1h (before now) or +1h (after now)"},
		{"NaN", timeSyntax},
		{"inf", timeSyntax},
		{"0", "timestamp 0 is not after 1970"},
		{"1e9", `bad timestamp "1e9"`},
		{"2026-13-01", timeSyntax},
		{"-1000000w", "more than 100 years"},
		{"now1h", timeSyntax},
	} {
		if got, err := parseTime(tc.in, now); err == nil || err.Error() != tc.want {
			t.Errorf("parseTime(%q) = %v, %v; want the error %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0":      0,
		"0s":     0,
		"90s":    90 * time.Second,
		"1h30m":  90 * time.Minute,
		"1.5h":   90 * time.Minute,
		"500ms":  500 * time.Millisecond,
		"250us":  250 * time.Microsecond,
		"250µs":  250 * time.Microsecond,
		"7ns":    7,
		"7d":     7 * 24 * time.Hour,
		"2w":     14 * 24 * time.Hour,
		"1d12h":  36 * time.Hour,
		"1m30s":  90 * time.Second,
		"36500d": maxDuration,
		".5s":    500 * time.Millisecond,
		"1h0m0s": time.Hour,
	} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		// Every duration the command prints reads back the same.
		if back, err := parseDuration(formatDuration(want)); err != nil || back != want {
			t.Errorf("parseDuration(formatDuration(%v) = %q) = %v, %v", want, formatDuration(want), back, err)
		}
	}
	for _, bad := range []string{"", "-1s", "+1s", "1", "s", "1y", "1h 30m", "1..5h", "36501d", "2562048h", "1e3s", "0x10s"} {
		if got, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "want "+durationSyntax) && !strings.Contains(err.Error(), "100 years") {
			t.Errorf("parseDuration(%q): error %q does not say what is accepted", bad, err)
		}
	}
	for d, want := range map[time.Duration]string{0: "0", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 36 * time.Hour: "36h", time.Hour + time.Second: "1h0m1s", 1500 * time.Millisecond: "1.5s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParseTime checks that no input panics, and that a time parsed
// relative to now is within the 100 years a duration may span.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-1h", "+1m", "now-2d", "1h-ago", "1700000000.5", "2026-11-25T15:04:05Z", "-1.5h30m", "9999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s, now)
		if err != nil {
			return
		}
		if d := got.Sub(now); strings.ContainsAny(s, "+-") && strings.Contains(s, "now") && (d > maxDuration || d < -maxDuration) {
			t.Errorf("parseTime(%q) = %v, %v from now", s, got, d)
		}
	})
}
