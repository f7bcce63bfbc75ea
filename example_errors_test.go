package apptuit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Telling the outcomes of a send apart: refused points are not worth
// sending again, points not delivered may be.
func Example_errors() {
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "warming up", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	client, err := apptuit.New(apptuit.WithEndpoint(busy.URL), apptuit.WithNoAuth(), apptuit.WithRetries(1),
		apptuit.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "orders", Tags: map[string]string{"city": "nyc"}, Timestamp: time.Unix(1700000000, 0), Value: 1},
		{Metric: "orders", Tags: map[string]string{"city": "sfo"}, Timestamp: time.Unix(1700000000, 0), Value: 2},
	})
	var ve *apptuit.ValidationError
	var se *apptuit.SendError
	var he *apptuit.HTTPError
	switch {
	case err == nil:
		fmt.Println("all delivered")
	case errors.As(err, &ve):
		fmt.Println("nothing sent: fix the point:", ve.Rule)
	case errors.As(err, &se):
		fmt.Println(se.Failed, "points refused; the rest delivered")
	case errors.As(err, &he):
		fmt.Printf("status %d, %d points not delivered, retry later: %v\n", he.StatusCode, he.Undelivered, apptuit.IsRetryable(err))
		fmt.Println(err)
	default:
		fmt.Println(err) // *apptuit.NetworkError, or the context's error
	}
	// Output:
	// status 503, 2 points not delivered, retry later: true
	// apptuit: send: 2 points not delivered: server answered 503 Service Unavailable after 2 attempts: warming up
}
