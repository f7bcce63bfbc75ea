package server

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"testing"
)

// apptuit-py cannot be installed where CI runs (PyPI is not reachable), so
// this test replays the requests apptuit-py 2.4.2 sends, byte for byte as
// recorded in shared/REFERENCE.md ("What the official clients send"), and
// checks the answers are what the client reads:
//
//   - put: POST /api/put?details, Content-Encoding: deflate (zlib.compress,
//     bytes 78 9c), Python's json.dumps separators, floats always with a
//     point, NaN as a bare token; keys in send's order and in
//     send_timeseries' order;
//   - 400 with success, failed and errors as JSON (the client reads them;
//     it fails on a body that is not JSON);
//   - 401 without the token;
//   - query: GET /api/query?start=&end=&q= with the query quoted as
//     urllib's quote(q, safe="") does, several outputs, each with its id,
//     result, tags and dps (downsample buckets start on whole minutes
//     since the epoch).
func TestApptuitPyRequests(t *testing.T) {
	const token = "py-token"
	srv := newServer(t, WithToken(token))
	hdr := map[string]string{
		"Authorization":    "Bearer " + token,
		"Content-Type":     "application/json",
		"Content-Encoding": "deflate",
		"User-Agent":       "apptuit-py-2.4.2, requests-2.28.1, Py-3.11.2",
	}
	deflate := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		if b.Bytes()[0] != 0x78 {
			t.Fatalf("not zlib: % x", b.Bytes()[:2])
		}
		return b.Bytes()
	}
	puts := []struct {
		name, body string
		code       int
		answer     string
	}{
		{"send", `[{"metric": "node.cpu", "timestamp": 1700000000, "value": 1024.0, "tags": {"host": "web1", "dc": "x"}}, {"metric": "node.cpu", "timestamp": 1700000060, "value": 1e-07, "tags": {"host": "web1", "dc": "x"}}, {"metric": "node.load1", "timestamp": 1700000000, "value": 0.3333333333333333, "tags": {"host": "web1", "dc": "x"}}]`,
			200, `{"success":3,"failed":0,"errors":[]}`},
		{"send_timeseries", `[{"metric": "node.load1", "tags": {"host": "web1", "dc": "x"}, "timestamp": 1700000060, "value": 2.0}]`,
			200, `{"success":1,"failed":0,"errors":[]}`},
		{"NaN, a partial 400", `[{"metric": "node.cpu", "timestamp": 1700000120, "value": 3.0, "tags": {"host": "web1", "dc": "x"}}, {"metric": "node.cpu", "timestamp": 1700000180, "value": NaN, "tags": {"host": "web1", "dc": "x"}}]`,
			400, `{"success":1,"failed":1,"errors":[{"datapoint":{"metric":"node.cpu","timestamp":1700000180,"value":"NaN","tags":{"dc":"x","host":"web1"}},"error":"Unable to parse value to a number"}]}`},
	}
	for _, p := range puts {
		code, body, _ := do(t, "POST", srv.URL()+"/api/put?details", deflate(p.body), hdr)
		if code != p.code || body != p.answer {
			t.Errorf("%s: %d %s\nwant %d %s", p.name, code, body, p.code, p.answer)
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("%s: the answer is not JSON, which apptuit-py fails on: %s", p.name, body)
		}
	}

	noToken := map[string]string{"Content-Type": "application/json", "Content-Encoding": "deflate"}
	if code, body, _ := do(t, "POST", srv.URL()+"/api/put?details", deflate(puts[0].body), noToken); code != 401 || !json.Valid([]byte(body)) {
		t.Errorf("without the token: %d %s, want 401 and JSON", code, body)
	}

	q := "cpu=fetch('node.cpu').downsample('1m', 'avg');\nload=fetch('node.load1').downsample('1m', 'avg');\n output(cpu, load)"
	quoted := pyQuote(q)
	if want := "cpu%3Dfetch%28%27node.cpu%27%29.downsample%28%271m%27%2C%20%27avg%27%29%3B%0Aload"; quoted[:len(want)] != want {
		t.Fatalf("pyQuote: %s", quoted)
	}
	code, body, _ := do(t, "GET", srv.URL()+"/api/query?start=1699999000&end=1700001000&q="+quoted, nil, map[string]string{"Authorization": "Bearer " + token})
	if code != 200 {
		t.Fatalf("query: %d %s", code, body)
	}
	var ans struct {
		Outputs []struct {
			ID     string `json:"id"`
			Result []struct {
				Metric string            `json:"metric"`
				Tags   map[string]string `json:"tags"`
				Dps    [][2]float64      `json:"dps"`
			} `json:"result"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("query answer: %v: %s", err, body)
	}
	got, _ := json.Marshal(ans)
	want := `{"outputs":[{"id":"cpu","result":[{"metric":"node.cpu","tags":{"dc":"x","host":"web1"},"dps":[[1699999980,1024],[1700000040,1e-7],[1700000100,3]]}]},{"id":"load","result":[{"metric":"node.load1","tags":{"dc":"x","host":"web1"},"dps":[[1699999980,0.3333333333333333],[1700000040,2]]}]}]}`
	if string(got) != want {
		t.Errorf("query answer, as apptuit-py reads it:\n got %s\nwant %s", got, want)
	}
}

// pyQuote is Python's urllib.parse.quote(s, safe=""): every byte but
// letters, digits and _.-~ as %XX (a space as %20, not +).
func pyQuote(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
	}
	return string(b)
}
