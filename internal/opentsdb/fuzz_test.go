package opentsdb

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// decodeStream runs the streaming parser over body as servePut does (with
// ?details) and returns what the reference decoder returns.
func decodeStream(t testing.TB, body []byte) (good []storedRef, bad []pointError, berr *bodyError) {
	return decodeFrom(t, bytes.NewReader(body))
}

func decodeFrom(t testing.TB, r io.Reader) (good []storedRef, bad []pointError, berr *bodyError) {
	col := &putCollector{details: true}
	outcome := newPutParser(r, col.point).parse()
	if col.unparsable && outcome != parseRead {
		outcome = parseUnparsable
	}
	if berr := outcome.err(); berr != nil {
		return nil, nil, berr
	}
	var keys []string
	for _, d := range col.batch.defs {
		keys = append(keys, d.key)
	}
	col.batch.Each(func(i int, ms int64, v float64) {
		m, tags, err := ParseSeriesKey(keys[i])
		if err != nil {
			t.Fatalf("key %q: %v", keys[i], err)
		}
		good = append(good, storedRef{metric: m, tags: tags, ms: ms, value: v})
	})
	if err := json.Unmarshal(append(append([]byte("["), col.echo...), ']'), &bad); err != nil {
		t.Fatalf("echo %s: %v", col.echo, err)
	}
	if len(bad) != col.bad {
		t.Fatalf("%d echoes for %d rejected points", len(bad), col.bad)
	}
	if len(bad) == 0 {
		bad = nil
	}
	return good, bad, nil
}

// Points of the seed corpus: two good ones and one with an empty metric.
const (
	good1 = `{"metric":"m1","timestamp":1500000000,"value":1.5,"tags":{"host":"a"}}`
	good2 = `{"metric":"m2","timestamp":1500000001,"value":"42","tags":{"host":"b","dc":"x"}}`
	bad1  = `{"metric":"","timestamp":1500000000,"value":1,"tags":{"host":"a"}}`
)

// FuzzDecodePut checks that the streaming put-body parser never panics,
// agrees with the reference decoder (encoding/json over the whole body) on
// every body, that a body it accepts yields at least one point, that
// accepted points are valid and that every rejected point has a message.
func FuzzDecodePut(f *testing.F) {
	for _, s := range []string{
		good1,
		"[" + good1 + "," + good2 + "," + bad1 + "]",
		`[{"metric": "m", "timestamp": 1500000000, "value": NaN, "tags": {"h": "a"}}, {"metric": "m", "timestamp": 1, "value": -Infinity, "tags": {"h": "\"NaN"}}]`,
		`{"metric":"m","timestamp":1500000000123,"value":"1e999","tags":{"":null}}`,
		`[]`, ``, `  x`, `[1]`, `{"tags":"x"}`,
		`{"metric":{},"metric":"m","timestamp":1,"value":1,"tags":{"h":["a"],"h":"b"},"x":{NaN:[1,{"y":-Infinity}]}}`,
		`{"m\u0065tric":"a\ud800b\u00e9","timestamp":"17","value":"+4","tags":{"k":"v\xff"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cp := bytes.Clone(body)
		good, bad, berr := decodeStream(t, body)
		if !bytes.Equal(cp, body) {
			t.Fatal("the parser modified its input")
		}
		// Byte by byte, every refill path runs: the same answer.
		g1, b1, e1 := decodeFrom(t, iotest.OneByteReader(bytes.NewReader(body)))
		if !reflect.DeepEqual(berr, e1) || !reflect.DeepEqual(good, g1) || !reflect.DeepEqual(bad, b1) {
			t.Fatalf("body %q read byte by byte:\n%+v %+v %+v\nat once:\n%+v %+v %+v", body, e1, g1, b1, berr, good, bad)
		}
		if berr != nil && berr.msg[0] == 'D' { // Data point too large: the reference has no such limit
			return
		}
		rgood, rbad, rberr := decodePutRef(body)
		if !reflect.DeepEqual(berr, rberr) || !reflect.DeepEqual(good, rgood) || !reflect.DeepEqual(bad, rbad) {
			t.Fatalf("body %q:\nstream    %+v\n          %+v\n          %+v\nreference %+v\n          %+v\n          %+v", body, berr, good, bad, rberr, rgood, rbad)
		}
		if berr != nil {
			if berr.msg == "" || len(good)+len(bad) != 0 {
				t.Fatalf("body error %+v with %d/%d points", berr, len(good), len(bad))
			}
			return
		}
		if len(good)+len(bad) == 0 {
			t.Fatal("accepted a body without points")
		}
		for _, p := range good {
			if p.metric == "" || len(p.tags) == 0 || len(p.tags) > MaxTags || p.ms <= 0 || p.ms > timestamp.MaxMillis*1000 {
				t.Fatalf("accepted bad point %+v", p)
			}
			if _, bad := illegalChar([]byte(p.metric)); bad {
				t.Fatalf("accepted metric %q", p.metric)
			}
		}
		for _, e := range bad {
			if e.Error == "" {
				t.Fatal("rejected point without a message")
			}
		}
	})
}

func TestReplaceBareTokens(t *testing.T) {
	tests := map[string]string{
		`{"v": NaN}`:                       `{"v": "NaN"}`,
		`[Infinity,-Infinity]`:             `["Infinity","-Infinity"]`,
		`{"s": "NaN \" Infinity", "v": 1}`: `{"s": "NaN \" Infinity", "v": 1}`,
		`{"s": "a\\", "v": NaN}`:           `{"s": "a\\", "v": "NaN"}`,
		`-1`:                               `-1`,
	}
	for in, want := range tests {
		if got := string(replaceBareTokens([]byte(in))); got != want {
			t.Errorf("replaceBareTokens(%s) = %s, want %s", in, got, want)
		}
	}
}
