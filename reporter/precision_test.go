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
		r, err := New(c, metrics.NewRegistry(), WithInterval(tt.interval), WithHostname("h"))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v, %v: %v", tt.p, tt.interval, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || r != nil):
			t.Errorf("%v, %v: %v, want %q", tt.p, tt.interval, err, tt.wantErr)
		}
	}
}
