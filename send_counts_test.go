package apptuit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A 400 whose counts cannot be right counts the whole batch as refused, so
// that Success + Failed is always the number of points sent.
func TestSend400ImpossibleCounts(t *testing.T) {
	clearEnv(t)
	errs := `"errors":[{"datapoint":{"metric":"m","timestamp":1700000000,"value":"1.0","tags":{"a":"b"}},"error":"bad"}]`
	tests := []struct {
		name             string
		body             string
		success, failed  int
		hint             string
		wantErrorEntries int
	}{
		{"consistent", `{"success":2,"failed":1,` + errs + `}`, 2, 1, "", 1},
		{"negative success", `{"success":-1,"failed":4,` + errs + `}`, 0, 3,
			"the server's counts (success -1, failed 4) cannot be those of a 400 answer to 3 points, so all of them count as failed", 1},
		{"negative failed", `{"success":4,"failed":-1}`, 0, 3,
			"the server's counts (success 4, failed -1) cannot be those of a 400 answer to 3 points, so all of them count as failed", 0},
		{"failed over the batch", `{"success":0,"failed":7,` + errs + `}`, 0, 3,
			"the server's counts (success 0, failed 7) cannot be those of a 400 answer to 3 points, so all of them count as failed", 1},
		{"both 0 on a 400", `{"success":0,"failed":0,"errors":[]}`, 0, 3,
			"the server's counts (success 0, failed 0) cannot be those of a 400 answer to 3 points, so all of them count as failed", 0},
		{"sum not the batch", `{"success":1,"failed":1}`, 0, 3,
			"the server's counts (success 1, failed 1) cannot be those of a 400 answer to 3 points, so all of them count as failed", 0},
		{"none failed on a 400", `{"success":3,"failed":0}`, 0, 3,
			"the server's counts (success 3, failed 0) cannot be those of a 400 answer to 3 points, so all of them count as failed", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t)
			srv.queue(400, tt.body)
			c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"))
			err := c.Send(context.Background(), points(3))
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SendError", err)
			}
			if se.Success != tt.success || se.Failed != tt.failed || se.Hint != tt.hint || len(se.Errors) != tt.wantErrorEntries {
				t.Errorf("SendError{Success: %d, Failed: %d, Hint: %q, %d errors}, want %d, %d, %q, %d",
					se.Success, se.Failed, se.Hint, len(se.Errors), tt.success, tt.failed, tt.hint, tt.wantErrorEntries)
			}
		})
	}
}

// A call over several batches that stops at a failure says how many of its
// points were not delivered; refusals and acceptances before it are not
// counted among them.
func TestSendUndeliveredCounts(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(204, "")
	srv.queue(400, `{"success":1,"failed":1,"errors":[]}`)
	srv.queue(503, "down")
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(2), WithConcurrency(1), WithRetries(0))
	err := c.Send(context.Background(), points(10))
	var he *HTTPError
	if !errors.As(err, &he) || he.Undelivered != 6 || he.Total != 10 || he.StatusCode != 503 {
		t.Fatalf("err = %#v", err)
	}
	if want := "apptuit: send: 6 of 10 points not delivered: server answered 503 Service Unavailable: down"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// The context ending says the same.
	srv2 := newRecorder(t)
	srv2.queue(204, "")
	srv2.queue(503, "")
	c2 := mustNew(t, WithEndpoint(srv2.URL), WithToken("t"), WithBatchSize(2), WithConcurrency(1), WithRetries(3), WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = c2.Send(ctx, points(5))
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "apptuit: send: 3 of 5 points not delivered: context deadline exceeded" {
		t.Errorf("err = %v", err)
	}
}

// The words of the counts: one point, several, some of several.
func TestUndeliveredWording(t *testing.T) {
	for _, tt := range []struct {
		undelivered, total int
		want               string
	}{
		{1, 1, "apptuit: send: 1 point not delivered: server answered 503 Service Unavailable"},
		{2, 2, "apptuit: send: 2 points not delivered: server answered 503 Service Unavailable"},
		{1, 3, "apptuit: send: 1 of 3 points not delivered: server answered 503 Service Unavailable"},
		{0, 0, "apptuit: send: server answered 503 Service Unavailable"},
	} {
		e := &HTTPError{Op: "send", StatusCode: 503, Undelivered: tt.undelivered, Total: tt.total}
		if got := e.Error(); got != tt.want {
			t.Errorf("%d of %d: %q, want %q", tt.undelivered, tt.total, got, tt.want)
		}
	}
	for _, tt := range []struct {
		e    *NetworkError
		want string
	}{
		{&NetworkError{Op: "send", Attempts: 1, Undelivered: 1, Total: 1, Err: fmt.Errorf("reset")},
			"apptuit: send: 1 point not delivered: no answer: reset"},
		{&NetworkError{Op: "send", Attempts: 3, Undelivered: 2, Total: 2, Err: fmt.Errorf("reset")},
			"apptuit: send: 2 points not delivered: no answer after 3 attempts: reset"},
		// TelnetTCP: every point of the call may be lost.
		{&NetworkError{Op: "send", Attempts: 1, Undelivered: 1, Total: 1, Err: fmt.Errorf("TelnetTCP(h:1): EOF"), words: wordsTCP},
			"apptuit: send: 1 point may not have arrived: TelnetTCP(h:1): EOF"},
		{&NetworkError{Op: "send", Attempts: 2, Undelivered: 1000, Total: 1000, Err: fmt.Errorf("TelnetTCP(h:1): EOF"), words: wordsTCP},
			"apptuit: send: 1000 points may not have arrived: after 2 attempts: TelnetTCP(h:1): EOF"},
		// XCollectorUDP: the points of the datagrams not sent.
		{&NetworkError{Op: "send", Attempts: 1, Undelivered: 310, Total: 3000, Err: fmt.Errorf("XCollectorUDP(h:1): refused"), words: wordsUDP},
			"apptuit: send: 310 of 3000 points not sent: XCollectorUDP(h:1): refused"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}
