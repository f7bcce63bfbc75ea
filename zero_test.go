package apptuit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestZeroClient: every method of a Client New did not make returns
// ErrZeroClient instead of panicking (it used to divide by a zero batch
// size).
func TestZeroClient(t *testing.T) {
	var c Client
	ctx := context.Background()
	now := time.Now()
	for name, call := range map[string]func() error{
		"Send": func() error {
			return c.Send(ctx, []DataPoint{{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: now, Value: 1}})
		},
		"SendTimeSeries": func() error { return c.SendTimeSeries(ctx, nil) },
		"SendPrepared":   func() error { return c.SendPrepared(ctx, nil) },
		"PrepareSeries":  func() error { _, err := c.PrepareSeries("m", map[string]string{"k": "v"}); return err },
		"Query":          func() error { _, err := c.Query(ctx, "fetch('m')", now.Add(-time.Hour), now); return err },
		"QueryRange":     func() error { _, err := c.QueryRange(ctx, "m", now.Add(-time.Hour), now, time.Minute); return err },
		"Close":          c.Close,
	} {
		if err := call(); !errors.Is(err, ErrZeroClient) {
			t.Errorf("%s on a zero Client: %v, want ErrZeroClient", name, err)
		}
	}
}
