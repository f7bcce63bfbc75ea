package apptuit

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The timestamps on the wire for each precision, through Send,
// SendTimeSeries and SendPrepared.
func TestTimestampPrecisionOnTheWire(t *testing.T) {
	clearEnv(t)
	times := []time.Time{
		time.Unix(1700000000, 0),           // a whole second
		time.Unix(1700000000, 250e6),       // 250 ms
		time.Unix(1700000000, 999999999),   // 999.999999 ms: ms are truncated first
		time.Unix(1<<32, 0),                // 2106-02-07T06:28:16Z: seconds would read as ms
		time.Unix(9999999999, 999e6),       // the last millisecond the API takes
		time.Unix(1<<32/1000+1, 0).Add(-1), // 4294967.999999999 s: just above 2^32 ms
	}
	tests := []struct {
		p    Precision
		want []string // "" where the time is refused
	}{
		{PrecisionAuto, []string{"1700000000", "1700000000250", "1700000000999", "4294967296000", "9999999999999", "4294967999"}},
		{PrecisionSeconds, []string{"1700000000", "1700000000", "1700000000", "", "", "4294967"}},
		{PrecisionMilliseconds, []string{"1700000000000", "1700000000250", "1700000000999", "4294967296000", "9999999999999", "4294967999"}},
	}
	tsRE := regexp.MustCompile(`"timestamp":(\d+)`)
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			srv := newRecorder(t)
			c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithTimestampPrecision(tt.p))
			if c.TimestampPrecision() != tt.p {
				t.Fatalf("TimestampPrecision() = %v", c.TimestampPrecision())
			}
			var want []string
			var pts []DataPoint
			var prepared []PreparedPoint
			ps, err := c.PrepareSeries("m", map[string]string{"a": "b"})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
			for i, tm := range times {
				if tt.want[i] == "" {
					continue
				}
				want = append(want, tt.want[i])
				pts = append(pts, DataPoint{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: tm, Value: 1})
				s.Add(tm, 1)
				prepared = append(prepared, PreparedPoint{Series: ps, UnixMilli: tm.UnixMilli(), Value: 1})
			}
			if err := c.Send(context.Background(), pts); err != nil {
				t.Fatal(err)
			}
			if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s}); err != nil {
				t.Fatal(err)
			}
			if err := c.SendPrepared(context.Background(), prepared); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.requests()); n != 3 {
				t.Fatalf("%d requests, want 3", n)
			}
			for i, r := range srv.requests() {
				var got []string
				for _, m := range tsRE.FindAllSubmatch(r.Body, -1) {
					got = append(got, string(m[1]))
				}
				if !slices.Equal(got, want) {
					t.Errorf("request %d: timestamps %v, want %v\n%s", i, got, want, r.Body)
				}
			}
		})
	}
}

// A time a precision cannot write is a *ValidationError naming it, and
// nothing is sent.
func TestTimestampPrecisionRefuses(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		p    Precision
		t    time.Time
		want string
	}{
		{PrecisionAuto, time.UnixMilli(1500), "timestamp 1970-01-01T00:00:01.5Z has a sub-second part but is before 1970-02-19T17:02:47.296Z, below which servers read timestamps as seconds"},
		{PrecisionAuto, time.UnixMilli(10000000000000), "timestamp 2286-11-20T17:46:40Z is past what the API accepts (9999999999999 ms)"},
		{PrecisionSeconds, time.UnixMilli(999), "timestamp 1970-01-01T00:00:00.999Z is within the first second after the epoch, which is 0 in seconds (PrecisionSeconds)"},
		{PrecisionSeconds, time.Unix(1<<32, 0), "timestamp 2106-02-07T06:28:16Z is 2^32 seconds or more, which servers read as milliseconds: it cannot be sent in seconds (PrecisionSeconds)"},
		{PrecisionMilliseconds, time.Unix(1700000, 0), "timestamp 1970-01-20T16:13:20Z is before 1970-02-19T17:02:47.296Z, below which servers read timestamps as seconds: it cannot be sent in milliseconds (PrecisionMilliseconds)"},
		{PrecisionMilliseconds, time.Unix(0, 0), "timestamp 1970-01-01T00:00:00Z is not after the Unix epoch"},
	}
	for _, tt := range tests {
		srv := newRecorder(t)
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithTimestampPrecision(tt.p))
		err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: tt.t, Value: 1}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Rule != tt.want {
			t.Errorf("%v %v: %v\nwant rule %q", tt.p, tt.t, err, tt.want)
		}
		s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
		s.Add(tt.t, 1)
		err = c.SendTimeSeries(context.Background(), []*TimeSeries{s})
		if !errors.As(err, &ve) || ve.Rule != tt.want || ve.Point != 0 {
			t.Errorf("series %v %v: %v", tt.p, tt.t, err)
		}
		ps, _ := c.PrepareSeries("m", map[string]string{"a": "b"})
		err = c.SendPrepared(context.Background(), []PreparedPoint{{Series: ps, UnixMilli: tt.t.UnixMilli(), Value: 1}})
		if !errors.As(err, &ve) || ve.Rule != tt.want || ve.Index != 0 {
			t.Errorf("prepared %v %v: %v", tt.p, tt.t, err)
		}
		if n := len(srv.requests()); n != 0 {
			t.Errorf("%d requests", n)
		}
	}
}

// Two points of one series within one second are both sent, with the same
// timestamp, under PrecisionSeconds: the backend decides which it keeps.
func TestPrecisionSecondsSameSecond(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithTimestampPrecision(PrecisionSeconds))
	s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
	s.Add(time.Unix(1700000000, 200e6), 1)
	s.Add(time.Unix(1700000000, 700e6), 2)
	if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s}); err != nil {
		t.Fatal(err)
	}
	want := `[{"metric":"m","tags":{"a":"b"},"timestamp":1700000000,"value":1.0},{"metric":"m","tags":{"a":"b"},"timestamp":1700000000,"value":2.0}]`
	if got := string(srv.requests()[0].Body); got != want {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestTimestampPrecisionOption(t *testing.T) {
	clearEnv(t)
	if _, err := New(WithToken("t"), WithTimestampPrecision(Precision(3))); err == nil || err.Error() != "apptuit: WithTimestampPrecision: unknown precision 3" {
		t.Errorf("err = %v", err)
	}
	c := mustNew(t, WithToken("t"))
	if c.TimestampPrecision() != PrecisionAuto {
		t.Errorf("default %v", c.TimestampPrecision())
	}
	names := []string{PrecisionAuto.String(), PrecisionSeconds.String(), PrecisionMilliseconds.String(), Precision(7).String()}
	if got := strings.Join(names, " "); got != "auto seconds milliseconds Precision(7)" {
		t.Errorf("String() = %s", got)
	}
}
