package apptuit

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/putsink"
)

// Paired checks of the performance targets of the send path and of Frame.
// Timing in a unit test is unreliable on a shared machine, so they run only
// with -paired:
//
//	go test -run Paired -paired -v .
//
// Each alternates the candidate and its reference many times and takes the
// median of the per-pair ratios, so that both halves of a pair see the
// same background load; a ratio past its target fails the test.
var paired = flag.Bool("paired", false, "run the paired performance checks (TestPaired*)")

// pairedRatios runs a and b alternately (in both orders) rounds times and
// returns the median of a's time over b's, and the medians of each.
func pairedRatios(rounds int, a, b func()) (ratio float64, ta, tb time.Duration) {
	a()
	b()
	var ratios []float64
	var as, bs []time.Duration
	for r := range rounds {
		var da, db time.Duration
		if r%2 == 0 {
			da, db = timeIt(a), timeIt(b)
		} else {
			db, da = timeIt(b), timeIt(a)
		}
		ratios = append(ratios, float64(da)/float64(db))
		as, bs = append(as, da), append(bs, db)
	}
	slices.Sort(ratios)
	slices.Sort(as)
	slices.Sort(bs)
	return ratios[len(ratios)/2], as[len(as)/2], bs[len(bs)/2]
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// TestPairedSendCeiling: SendTimeSeries with WithConcurrency(1) reaches at
// least 80 % of the single-core compress-only ceiling (BenchmarkCompressOnly's
// work) on the same 1,000,000 points.
func TestPairedSendCeiling(t *testing.T) {
	if !*paired {
		t.Skip("run with -paired")
	}
	series := benchSeries(t, benchNSeries, benchNPoints)
	sink := putsink.Start(t)
	c := mustNew(t, WithEndpoint(sink.URL), WithToken("t"), WithIgnoreEnvTags(), WithConcurrency(1))
	bodies := benchBodies(c, series)
	zw, _ := c.newZW(nil)
	var out bytes.Buffer
	ctx := context.Background()
	send := func() {
		if err := c.SendTimeSeries(ctx, series); err != nil {
			t.Fatal(err)
		}
	}
	compress := func() { compressBodies(zw, &out, bodies) }

	// The bodies are right: the sink decompresses them to the documents
	// the compress-only side compresses.
	before := sink.Stats(t)
	send()
	checkSinkGot(t, before, sink.Stats(t), bodiesLen(bodies))

	// With the sink decompressing, its gunzip competes for the same two
	// cores as the client's encoder and compressor: logged, not the bound.
	ratio, tc, ts := pairedRatios(11, compress, send)
	t.Logf("sink decompressing: SendTimeSeries (concurrency 1) %v, compress only %v: %.1f %% of the ceiling (median of 11 pairs)", ts, tc, 100*ratio)

	// The bound: the client alone, the sink reading the bodies without
	// decompressing them, as a remote server's CPU would not be ours.
	sink.Raw(t, true)
	defer sink.Raw(t, false)
	ratio, tc, ts = pairedRatios(21, compress, send)
	t.Logf("sink reading raw: SendTimeSeries (concurrency 1) %v, compress only %v: %.1f %% of the ceiling (median of 21 pairs)", ts, tc, 100*ratio)
	if ratio < 0.8 {
		t.Errorf("SendTimeSeries with concurrency 1 reaches %.1f %% of the compress-only ceiling, want >= 80 %%", 100*ratio)
	}
}

// TestPairedFrameDecode: Frame of 1,000,000 points (100 series × 10,000)
// takes at most half the time of decoding the response they came from.
func TestPairedFrameDecode(t *testing.T) {
	if !*paired {
		t.Skip("run with -paired")
	}
	o, data := frameBenchOutput(t)
	start := time.Unix(1406829600, 0)
	frame := func() { o.Frame() }
	decode := func() {
		if _, err := decodeQueryBytes(data, start, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ratio, tf, td := pairedRatios(41, frame, decode)
	t.Logf("Frame %v, decode %v: ratio %.3f (median of 41 pairs)", tf, td, ratio)
	if ratio > 0.5 {
		t.Errorf("Frame takes %.3f × the decode time of the same response, want <= 0.5", ratio)
	}
}
