package opentsdb

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// errorBody is OpenTSDB's error shape: {"error":{"code":400,"message":"…"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

// WriteError answers status with OpenTSDB's error JSON:
// {"error":{"code":status,"message":msg}}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: msg}})
}

// WriteJSON answers status with v encoded as JSON (a 500 in OpenTSDB's
// error shape if v does not encode).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"message":"encoding the response failed"}}`)
	}
	WriteRawJSON(w, status, b)
}

// WriteRawJSON answers status with b, which is JSON.
func WriteRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// Bounds on the messages a request log keeps of a put's rejected points.
const (
	MaxLoggedErrors     = 5   // messages per request
	MaxLoggedErrorBytes = 512 // bytes per message
)

// PointErrorText is the request-log entry of a rejected point: "metric:
// message", at most MaxLoggedErrorBytes.
func PointErrorText(metric, msg string) string {
	if metric == "" {
		return Cut(msg, MaxLoggedErrorBytes)
	}
	return Cut(Cut(metric, 200)+": "+msg, MaxLoggedErrorBytes)
}

// Cut returns s cut to at most n bytes, at a character boundary.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
