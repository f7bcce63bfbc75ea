package reqlog

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// maxErrorBody is how much of an error answer Writer keeps for its message.
const maxErrorBody = 4096

// Writer remembers the status written and the start of an error answer,
// and bounds the time writing the response may take (WriteTimeout, from
// the first write; 0: no bound).
type Writer struct {
	http.ResponseWriter
	WriteTimeout time.Duration
	status       int
	errBody      []byte
}

// Status returns the status written, 0 if none yet.
func (w *Writer) Status() int { return w.status }

func (w *Writer) started(code int) {
	if w.status == 0 {
		w.status = code
		if w.WriteTimeout > 0 {
			http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.WriteTimeout))
		}
	}
}

func (w *Writer) WriteHeader(code int) {
	w.started(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *Writer) Write(b []byte) (int, error) {
	w.started(http.StatusOK)
	if w.status >= 400 && len(w.errBody) < maxErrorBody {
		w.errBody = append(w.errBody, b[:min(len(b), maxErrorBody-len(w.errBody))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ErrorMessage is the message of the error answered, if any: OpenTSDB's
// {"error":{"message":…,"details":…}}, Prometheus's {"error":…}, or the
// start of a body of another form; at most 512 bytes.
func (w *Writer) ErrorMessage() string {
	if w.status < 400 || len(w.errBody) == 0 {
		return ""
	}
	const n = opentsdb.MaxLoggedErrorBytes
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
		return opentsdb.Cut(msg, n)
	}
	var prom struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if json.Unmarshal(w.errBody, &prom) == nil && prom.Error != "" {
		if prom.ErrorType != "" {
			return opentsdb.Cut(prom.ErrorType+": "+prom.Error, n)
		}
		return opentsdb.Cut(prom.Error, n)
	}
	return opentsdb.Cut(strings.TrimSpace(string(w.errBody)), n)
}
