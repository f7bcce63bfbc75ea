package apptuit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodeQueryResponse feeds arbitrary bytes and time bounds to the
// /api/query decoder. It must never panic, and a successful decode must be
// consistent: non-empty outputs, equal timestamp and value counts, every
// point within [start, end], and the input valid JSON (but for the NaN and
// Infinity tokens the decoder also accepts).
func FuzzDecodeQueryResponse(f *testing.F) {
	f.Add([]byte(smallResponse), int64(100), int64(340))
	f.Add([]byte(smallResponse), int64(0), int64(0))
	f.Add([]byte(`{"outputs":[]}`), int64(1406831400), int64(0))
	f.Add([]byte(`{"outputs":null,"hints":[1,2,{"a":[true,false,null]}]}`), int64(0), int64(0))
	f.Add([]byte(`{"outputs":[{"id":"a\u00e9\ud83d\ude00","result":[{"metric":"m","tags":{"k":"v"},"dps":[[1.5,NaN],[2,Infinity],[3,-Infinity],[4,null],[10000000000,1e-7]]}]}]}`), int64(0), int64(20000000))
	f.Add([]byte(`{"outputs":[{"id":"x","result":[{"dps":[[1,2,3]]}]}]}`), int64(0), int64(0))
	f.Add([]byte(`{"outputs":[{"id":"x","result":[{"dps":[[-9999999999999,-0.0],[9999999999999,1E+308]]}]}]}`), int64(-1e10), int64(1e10))
	f.Add(qBenchResponse(2, 5), int64(1406829600), int64(1406829800))

	f.Fuzz(func(t *testing.T, data []byte, startSec, endSec int64) {
		// Keep the bounds where Unix milliseconds do not overflow.
		const lim = 1e11
		startSec = max(min(startSec, lim), -lim)
		endSec = max(min(endSec, lim), -lim)
		start := time.Unix(startSec, 0)
		end := time.Time{}
		if endSec != 0 {
			end = time.Unix(endSec, 0)
		}
		res, err := decodeQueryBytes(data, start, end)
		if err != nil {
			if res != nil {
				t.Fatalf("result %v with error %v", res, err)
			}
			return
		}
		startMs, endMs := start.UnixMilli(), end.UnixMilli()
		for i := range res.Len() {
			o := res.Output(i)
			if o == nil || len(o.Series) == 0 {
				t.Fatalf("output %d is nil or has no series", i)
			}
			if res.Get(o.ID) == nil {
				t.Fatalf("Get(%q) misses output %d", o.ID, i)
			}
			for j, s := range o.Series {
				if s == nil || len(s.ts) != len(s.vals) || s.tags == nil {
					t.Fatalf("output %d series %d: inconsistent %+v", i, j, s)
				}
				for k, ms := range s.ts {
					if ms < startMs || (!end.IsZero() && ms > endMs) {
						t.Fatalf("output %d series %d point %d at %d ms is outside [%d, %d]", i, j, k, ms, startMs, endMs)
					}
				}
			}
			f := o.Frame()
			if len(f.Columns) != len(o.Series) {
				t.Fatalf("frame has %d columns for %d series", len(f.Columns), len(o.Series))
			}
		}
		if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) && !json.Valid(data) {
			t.Fatalf("decoded input that encoding/json calls invalid: %q", data)
		}
	})
}
