package main

import (
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
		{"-1h", now.Add(-time.Hour)},
		{"-30m", now.Add(-30 * time.Minute)},
		{"-2d", now.Add(-48 * time.Hour)},
		{"-1w", now.Add(-7 * 24 * time.Hour)},
		{"-1h30m", now.Add(-90 * time.Minute)},
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
	for _, bad := range []string{"yesterday", "-1y", "-", "-h", "1h", "NaN", "inf", "2026-13-01", "-1000000w"} {
		if got, err := parseTime(bad, now); err == nil {
			t.Errorf("parseTime(%q) = %v, want an error", bad, got)
		}
	}
}
