package apptuittest

import (
	"bytes"
	"testing"
)

// FuzzDecodePut checks that the put-body decoder never panics, that a body
// it accepts yields at least one point, that accepted points are valid and
// that every rejected point has a message.
func FuzzDecodePut(f *testing.F) {
	for _, s := range []string{
		good1,
		"[" + good1 + "," + good2 + "," + bad1 + "]",
		`[{"metric": "m", "timestamp": 1500000000, "value": NaN, "tags": {"h": "a"}}, {"metric": "m", "timestamp": 1, "value": -Infinity, "tags": {"h": "\"NaN"}}]`,
		`{"metric":"m","timestamp":1500000000123,"value":"1e999","tags":{"":null}}`,
		`[]`, ``, `  x`, `[1]`, `{"tags":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cp := bytes.Clone(body)
		good, bad, berr := decodePut(body)
		if !bytes.Equal(cp, body) {
			t.Fatal("decodePut modified its input")
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
			if p.metric == "" || len(p.tags) == 0 || len(p.tags) > MaxTags || p.ms <= 0 || p.ms > maxMillis*1000 {
				t.Fatalf("accepted bad point %+v", p)
			}
			if _, bad := illegalChar(p.metric); bad {
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
