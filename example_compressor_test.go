package apptuit_test

import (
	"compress/gzip"
	"context"
	"io"
	"log"

	"github.com/apptuit-go/apptuit"
)

// A compressor other than the default: here the standard library's gzip at
// its best compression; github.com/klauspost/compress/gzip plugs in the
// same way (its NewWriterLevel returns a *gzip.Writer with Write, Close and
// Reset); bench/RESULTS.md compares their speed.
func ExampleWithCompressor() {
	srv := fakeAPI()
	defer srv.Close()
	c, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags(),
		apptuit.WithCompressor("gzip", func(w io.Writer) (apptuit.Compressor, error) {
			return gzip.NewWriterLevel(w, gzip.BestCompression)
		}))
	if err != nil {
		log.Fatal(err)
	}
	s, _ := apptuit.NewTimeSeries("proc.cpu.percent", map[string]string{"host": "web-1"})
	s.AddUnix(1700000000, 12.5)
	if err := c.SendTimeSeries(context.Background(), []*apptuit.TimeSeries{s}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST /api/put details
	// [{"metric":"proc.cpu.percent","tags":{"host":"web-1"},"timestamp":1700000000,"value":12.5}]
}
