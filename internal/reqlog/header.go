package reqlog

import (
	"net/http"
	"sort"
	"strings"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// Bounds on what a record keeps of a request.
const (
	MaxURL         = 2 << 10 // bytes of the path, and of the query
	maxHeaderValue = 1 << 10
	maxHeaders     = 4 << 10 // keys and values, in all
)

// Header returns the copy of h a record keeps: keys in sorted order until
// 4 KiB, each value cut at 1 KiB, and credentials redacted
// (Authorization and Proxy-Authorization become "<scheme> [redacted]",
// Cookie "[redacted]").
func Header(h http.Header) http.Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(http.Header, len(keys))
	total := 0
	for _, k := range keys {
		for _, v := range h[k] {
			v = opentsdb.Cut(redact(k, v), maxHeaderValue)
			if total += len(k) + len(v); total > maxHeaders {
				return out
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// redact hides the credentials a header value may carry.
func redact(key, v string) string {
	switch http.CanonicalHeaderKey(key) {
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(v, " "); ok {
			return scheme + " [redacted]"
		}
		return "[redacted]"
	case "Cookie":
		return "[redacted]"
	}
	return v
}
