package apptuit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// linePrecisionTimes are the times of TestTimestampPrecisionOnTheWire: a
// line transport writes each with the digits the JSON body has.
var linePrecisionTimes = []time.Time{
	time.Unix(1700000000, 0),           // a whole second
	time.Unix(1700000000, 250e6),       // 250 ms
	time.Unix(1700000000, 999999999),   // 999.999999 ms: ms are truncated first
	time.Unix(1<<32, 0),                // 2106-02-07T06:28:16Z: seconds would read as ms
	time.Unix(9999999999, 999e6),       // the last millisecond the API takes
	time.Unix(1<<32/1000+1, 0).Add(-1), // 4294967.999999999 s: just above 2^32 ms
}

// The exact lines for each precision, over TCP and UDP, through Send,
// SendTimeSeries and SendPrepared: the point at linePrecisionTimes[i] has
// the value i, and a time the precision cannot write ("" below) is left
// out (TestLineTimestampPrecisionRefuses).
func TestLineTimestampPrecision(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name string
		p    Precision
		udp  bool
		want []string // per time; "" where refused
	}{
		{"telnet auto", PrecisionAuto, false, []string{
			"put m 1700000000 0.0 a=b",
			"put m 1700000000250 1.0 a=b",
			"put m 1700000000999 2.0 a=b",
			"put m 4294967296000 3.0 a=b",
			"put m 9999999999999 4.0 a=b",
			"put m 4294967999 5.0 a=b",
		}},
		{"telnet seconds", PrecisionSeconds, false, []string{
			"put m 1700000000 0.0 a=b",
			"put m 1700000000 1.0 a=b", // floor
			"put m 1700000000 2.0 a=b", // floor
			"",
			"",
			"put m 4294967 5.0 a=b",
		}},
		{"telnet milliseconds", PrecisionMilliseconds, false, []string{
			"put m 1700000000000 0.0 a=b",
			"put m 1700000000250 1.0 a=b",
			"put m 1700000000999 2.0 a=b",
			"put m 4294967296000 3.0 a=b",
			"put m 9999999999999 4.0 a=b",
			"put m 4294967999 5.0 a=b",
		}},
		{"xcollector auto", PrecisionAuto, true, []string{
			"m 1700000000 0.0 a=b",
			"m 1700000000250 1.0 a=b",
			"m 1700000000999 2.0 a=b",
			"m 4294967296000 3.0 a=b",
			"m 9999999999999 4.0 a=b",
			"m 4294967999 5.0 a=b",
		}},
		{"xcollector seconds", PrecisionSeconds, true, []string{
			"m 1700000000 0.0 a=b",
			"m 1700000000 1.0 a=b",
			"m 1700000000 2.0 a=b",
			"",
			"",
			"m 4294967 5.0 a=b",
		}},
		{"xcollector milliseconds", PrecisionMilliseconds, true, []string{
			"m 1700000000000 0.0 a=b",
			"m 1700000000250 1.0 a=b",
			"m 1700000000999 2.0 a=b",
			"m 4294967296000 3.0 a=b",
			"m 9999999999999 4.0 a=b",
			"m 4294967999 5.0 a=b",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tcp *lineServer
			var udp *udpServer
			var tr *LineTransport
			if tc.udp {
				udp = newUDPServer(t)
				tr = XCollectorUDP(udp.addr())
			} else {
				tcp = newLineServer(t)
				tr = TelnetTCP(tcp.addr())
			}
			c := lineClient(t, tr, WithTimestampPrecision(tc.p))
			if c.TimestampPrecision() != tc.p {
				t.Fatalf("TimestampPrecision() = %v", c.TimestampPrecision())
			}
			ps, err := c.PrepareSeries("m", map[string]string{"a": "b"})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
			var want []string
			var pts []DataPoint
			var prepared []PreparedPoint
			for i, tm := range linePrecisionTimes {
				if tc.want[i] == "" {
					continue
				}
				want = append(want, tc.want[i])
				pts = append(pts, DataPoint{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: tm, Value: float64(i)})
				s.Add(tm, float64(i))
				prepared = append(prepared, PreparedPoint{Series: ps, UnixMilli: tm.UnixMilli(), Value: float64(i)})
			}
			ctx := context.Background()
			if err := c.Send(ctx, pts); err != nil {
				t.Fatal(err)
			}
			if err := c.SendTimeSeries(ctx, []*TimeSeries{s}); err != nil {
				t.Fatal(err)
			}
			if err := c.SendPrepared(ctx, prepared); err != nil {
				t.Fatal(err)
			}
			var got []string
			if tc.udp {
				for _, p := range udp.wait(t, 3*len(want)) {
					got = append(got, strings.Split(strings.TrimSuffix(p, "\n"), "\n")...)
				}
			} else {
				got = tcp.waitLines(t, 3*len(want))
			}
			for call, name := range []string{"Send", "SendTimeSeries", "SendPrepared"} {
				if g := got[call*len(want) : (call+1)*len(want)]; !slices.Equal(g, want) {
					t.Errorf("%s wrote\n%q\nwant\n%q", name, g, want)
				}
			}
		})
	}
}

// A time the client's precision cannot write is refused on a line client
// with the rule the HTTP path gives (TestTimestampPrecisionRefuses), by
// Send, SendTimeSeries and SendPrepared, and nothing is sent.
func TestLineTimestampPrecisionRefuses(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
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
	} {
		srv := newLineServer(t)
		c := lineClient(t, TelnetTCP(srv.addr()), WithTimestampPrecision(tc.p))
		good := DataPoint{Metric: "ok", Tags: map[string]string{"a": "b"}, Timestamp: time.Unix(1700000000, 0), Value: 1}
		err := c.Send(context.Background(), []DataPoint{good, {Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: tc.t, Value: 1}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Rule != tc.want || ve.Index != 1 || ve.Metric != "m" {
			t.Errorf("%v %v: Send: %v\nwant rule %q at point 1", tc.p, tc.t, err, tc.want)
		}
		s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
		s.Add(tc.t, 1)
		err = c.SendTimeSeries(context.Background(), []*TimeSeries{s})
		if !errors.As(err, &ve) || ve.Rule != tc.want || ve.Index != 0 || ve.Point != 0 {
			t.Errorf("%v %v: SendTimeSeries: %v", tc.p, tc.t, err)
		}
		ps, _ := c.PrepareSeries("m", map[string]string{"a": "b"})
		err = c.SendPrepared(context.Background(), []PreparedPoint{{Series: ps, UnixMilli: tc.t.UnixMilli(), Value: 1}})
		if !errors.As(err, &ve) || ve.Rule != tc.want || ve.Index != 0 {
			t.Errorf("%v %v: SendPrepared: %v", tc.p, tc.t, err)
		}
		time.Sleep(20 * time.Millisecond)
		if got := srv.waitLines(t, 0); len(got) != 0 {
			t.Errorf("%v %v: sent %q", tc.p, tc.t, got)
		}
	}
}

// The precision is the client's, not the transport's: two clients sharing
// one transport write their own.
func TestLineTransportSharedPrecision(t *testing.T) {
	clearEnv(t)
	srv := newLineServer(t)
	tr := TelnetTCP(srv.addr())
	secs := lineClient(t, tr, WithTimestampPrecision(PrecisionSeconds))
	millis := lineClient(t, tr, WithTimestampPrecision(PrecisionMilliseconds))
	pt := []DataPoint{{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: time.Unix(1700000000, 750e6), Value: 1}}
	if err := secs.Send(context.Background(), pt); err != nil {
		t.Fatal(err)
	}
	srv.waitLines(t, 1) // in order
	if err := millis.Send(context.Background(), pt); err != nil {
		t.Fatal(err)
	}
	want := []string{"put m 1700000000 1.0 a=b", "put m 1700000000750 1.0 a=b"}
	if got := srv.waitLines(t, 2); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineTimestampPrecisionOption(t *testing.T) {
	clearEnv(t)
	_, err := New(WithLineTransport(TelnetTCP("127.0.0.1:4242")), WithTimestampPrecision(Precision(9)))
	if err == nil || err.Error() != "apptuit: WithTimestampPrecision: unknown precision 9" {
		t.Errorf("err = %v", err)
	}
	if p := lineClient(t, TelnetTCP("127.0.0.1:4242")).TimestampPrecision(); p != PrecisionAuto {
		t.Errorf("default %v", p)
	}
}
