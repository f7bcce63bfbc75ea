package apptuittest

import (
	"encoding/json"
	"strings"
)

// Bounds on what Request.Errors keeps.
const (
	maxLoggedErrors     = 5    // messages per request
	maxLoggedErrorBytes = 512  // bytes per message
	maxErrorBody        = 4096 // bytes of an error answer read for its message
)

// pointErrorText is the Request.Errors entry of a rejected point.
func pointErrorText(metric, msg string) string {
	if metric == "" {
		return cut(msg, maxLoggedErrorBytes)
	}
	return cut(cut(metric, 200)+": "+msg, maxLoggedErrorBytes)
}

// keepError keeps the start of the body of an error answer.
func (w *statusWriter) keepError(b []byte) {
	if w.status < 400 || len(w.errBody) >= maxErrorBody {
		return
	}
	w.errBody = append(w.errBody, b[:min(len(b), maxErrorBody-len(w.errBody))]...)
}

// errorMessage is the message of the error answered, if any: OpenTSDB's
// {"error":{"message":…,"details":…}}, Prometheus' {"error":…}, or the
// start of a body of another form.
func (w *statusWriter) errorMessage() string {
	if w.status < 400 || len(w.errBody) == 0 {
		return ""
	}
	var tsdb struct {
		Error struct {
			Message string `json:"message"`
			Details string `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(w.errBody, &tsdb) == nil && tsdb.Error.Message != "" {
		msg := tsdb.Error.Message
		if tsdb.Error.Details != "" {
			msg += " (" + tsdb.Error.Details + ")"
		}
		return cut(msg, maxLoggedErrorBytes)
	}
	var prom struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if json.Unmarshal(w.errBody, &prom) == nil && prom.Error != "" {
		if prom.ErrorType != "" {
			return cut(prom.ErrorType+": "+prom.Error, maxLoggedErrorBytes)
		}
		return cut(prom.Error, maxLoggedErrorBytes)
	}
	return cut(strings.TrimSpace(string(w.errBody)), maxLoggedErrorBytes)
}
