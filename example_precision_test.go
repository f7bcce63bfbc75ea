package apptuit_test

import (
	"fmt"
	"log"

	"github.com/apptuit-go/apptuit"
)

// A client for InfluxDB's OpenTSDB listener, which has no authentication
// and reads only second timestamps right.
func ExampleWithTimestampPrecision() {
	client, err := apptuit.New(
		apptuit.WithEndpoint("http://127.0.0.1:4242"),
		apptuit.WithNoAuth(),
		apptuit.WithTimestampPrecision(apptuit.PrecisionSeconds),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.TimestampPrecision())
	// Output: seconds
}
