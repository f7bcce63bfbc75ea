package apptuit

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzErrorBody feeds arbitrary bodies to the readers of error answers: the
// message extracted must be one printable line of valid UTF-8, and a 400's
// counts must always add up to the batch, with at least one point failed.
func FuzzErrorBody(f *testing.F) {
	for _, a := range []answer{details400, text400, deflate400, auth401, forbid403, json404, method405, nginx413, limit429, ise500, busy503, nginx504, prom422} {
		f.Add([]byte(a.body), 3)
	}
	f.Add([]byte(`{"success":-1,"failed":4}`), 3)
	f.Add([]byte("\x78\x9c\xff\x00binary\n"), 1)
	c := &Client{}
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		msg, _ := serverMessage(body)
		if !utf8.ValidString(msg) || strings.TrimSpace(msg) != msg || strings.Contains(msg, "  ") {
			t.Fatalf("message %q is not one clean line", msg)
		}
		for _, r := range msg {
			if unicode.IsControl(r) {
				t.Fatalf("message %q has a control character", msg)
			}
		}
		if n < 1 || n > 1<<20 {
			return
		}
		se := c.refusal(body, n)
		if se.Success < 0 || se.Failed < 1 || se.Success+se.Failed != n || se.StatusCode != 400 {
			t.Fatalf("refusal of %d points: %+v", n, se)
		}
	})
}
