package server

import (
	"cmp"
	"math"
	"strconv"
	"strings"

	"github.com/apptuit-go/apptuit/server/internal/store"
)

// The order in which the introspection endpoints (and the web page, in
// format.js, by the same rules) list metrics, tags and series: the user's
// metrics before the meta metrics the library and the server report about
// themselves (apptuit.reporter.send.total, ...), and names and values in
// natural order: numbers by value when both are numbers (le="0.05" before
// le="0.5" before le="10" before le="+Inf"), else each run of digits by
// value (host2 before host10).

// isMeta reports whether metric is one of the meta metrics.
func isMeta(metric string) bool {
	return strings.HasPrefix(metric, "apptuit.") || strings.HasPrefix(metric, "apptuit_")
}

// compareMetrics orders metric names: the user's first, then naturally.
func compareMetrics(a, b string) int {
	if ma, mb := isMeta(a), isMeta(b); ma != mb {
		if ma {
			return 1
		}
		return -1
	}
	return naturalCompare(a, b)
}

// numeric reads s as naturalCompare's number: a decimal, with an
// exponent, or ±Inf, or NaN (as Prometheus writes le and quantile). It
// checks the bytes before it parses, so that a word costs no allocation
// (strconv's error would).
func numeric(s string) (float64, bool) {
	switch strings.TrimLeft(s, "+-") {
	case "Inf", "inf":
		if len(s) > 1 && s[0] == '-' && len(s)-len(strings.TrimLeft(s, "+-")) == 1 {
			return math.Inf(-1), true
		}
		return math.Inf(1), len(s)-len(strings.TrimLeft(s, "+-")) <= 1
	case "NaN":
		return math.NaN(), s == "NaN"
	}
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digits = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return 0, false
		}
	}
	if !digits || (s[0] != '.' && s[0] != '+' && s[0] != '-' && !isDigit(s[0])) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// naturalCompare orders strings as people count (see the top of the
// file); strings equal in that order are ordered by their bytes.
func naturalCompare(a, b string) int {
	if a == b {
		return 0
	}
	if x, ok := numeric(a); ok {
		if y, ok := numeric(b); ok {
			if nx, ny := math.IsNaN(x), math.IsNaN(y); nx != ny {
				if nx {
					return 1
				}
				return -1
			}
			if c := cmp.Compare(x, y); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := chunk(a[i:]), chunk(b[j:])
		i, j = i+len(ca), j+len(cb)
		if ca == cb {
			continue
		}
		if isDigit(ca[0]) && isDigit(cb[0]) {
			ta, tb := trimZeros(ca), trimZeros(cb)
			if c := cmp.Compare(len(ta), len(tb)); c != 0 {
				return c
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			return cmp.Compare(len(ca), len(cb))
		}
		return strings.Compare(ca, cb)
	}
	// One is a prefix of the other in chunks: the one with fewer first.
	if c := cmp.Compare(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// chunk is the run of digits, or of other bytes, at the start of s.
func chunk(s string) string {
	d := isDigit(s[0])
	n := 1
	for n < len(s) && isDigit(s[n]) == d {
		n++
	}
	return s[:n]
}

func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// compareTags orders tag sets name by name (names by their bytes, values
// naturally); a set that is a prefix of the other comes first. It does not
// allocate.
func compareTags(a, b store.Tags) int { return store.CompareTags(a, b, naturalCompare) }
