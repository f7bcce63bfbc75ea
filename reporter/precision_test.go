package reporter

import (
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// A sub-second interval against a client that writes whole seconds would
// stamp several reports with one timestamp: New refuses it.
func TestNewSubSecondIntervalNeedsSubSecondTimestamps(t *testing.T) {
	clearEnv(t)
	for _, tt := range []struct {
		p        apptuit.Precision
		interval time.Duration
		wantErr  string
	}{
		{apptuit.PrecisionSeconds, 500 * time.Millisecond, "reporter: interval 500ms is below one second, but the client sends timestamps in whole seconds (apptuit.PrecisionSeconds)"},
		{apptuit.PrecisionSeconds, time.Second, ""},
		{apptuit.PrecisionAuto, 500 * time.Millisecond, ""},
		{apptuit.PrecisionMilliseconds, 100 * time.Millisecond, ""},
	} {
		c := newClient(t, "http://127.0.0.1:1", apptuit.WithTimestampPrecision(tt.p))
		r, err := New(c, metrics.NewRegistry(), WithInterval(tt.interval), WithHostTag("h"))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v, %v: %v", tt.p, tt.interval, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || r != nil):
			t.Errorf("%v, %v: %v, want %q", tt.p, tt.interval, err, tt.wantErr)
		}
	}
}

// The check holds for a client with a line transport, whose timestamps
// follow the same WithTimestampPrecision: a PrecisionSeconds telnet client
// (what InfluxDB needs) with a sub-second interval is refused.
func TestNewSubSecondIntervalLineClient(t *testing.T) {
	clearEnv(t)
	for _, tt := range []struct {
		tr       *apptuit.LineTransport
		p        apptuit.Precision
		interval time.Duration
		wantErr  string
	}{
		{apptuit.TelnetTCP("127.0.0.1:1"), apptuit.PrecisionSeconds, 500 * time.Millisecond, "reporter: interval 500ms is below one second, but the client sends timestamps in whole seconds (apptuit.PrecisionSeconds)"},
		{apptuit.XCollectorUDP(""), apptuit.PrecisionSeconds, 999 * time.Millisecond, "reporter: interval 999ms is below one second, but the client sends timestamps in whole seconds (apptuit.PrecisionSeconds)"},
		{apptuit.TelnetTCP("127.0.0.1:1"), apptuit.PrecisionSeconds, time.Second, ""},
		{apptuit.TelnetTCP("127.0.0.1:1"), apptuit.PrecisionAuto, 500 * time.Millisecond, ""},
		{apptuit.XCollectorUDP(""), apptuit.PrecisionMilliseconds, 100 * time.Millisecond, ""},
	} {
		c, err := apptuit.New(apptuit.WithLineTransport(tt.tr), apptuit.WithTimestampPrecision(tt.p))
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(c, metrics.NewRegistry(), WithInterval(tt.interval), WithHostTag("h"))
		switch {
		case tt.wantErr == "" && (err != nil || r == nil):
			t.Errorf("%v, %v, %v: %v", tt.tr, tt.p, tt.interval, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || r != nil):
			t.Errorf("%v, %v, %v: %v, want %q", tt.tr, tt.p, tt.interval, err, tt.wantErr)
		}
		c.Close()
	}
}
