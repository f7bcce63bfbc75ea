package reporter

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apptuit-go/apptuit"
)

// writeErrorLine is the default error handler: one line per failed report,
// in the spirit of apptuit-py's default_error_handler.
func writeErrorLine(w io.Writer, err error, st stats) {
	status := "none"
	var se *apptuit.SendError
	var he *apptuit.HTTPError
	switch {
	case errors.As(err, &se):
		status = strconv.Itoa(se.StatusCode)
	case errors.As(err, &he):
		status = strconv.Itoa(he.StatusCode)
	}
	msgs := errorMessages(err)
	more := ""
	if len(msgs) > 3 {
		more = fmt.Sprintf(" (and %d more)", len(msgs)-3)
		msgs = msgs[:3]
	}
	fmt.Fprintf(w, "apptuit reporter: %d points out of %d had errors: HTTP status %s, %d successful, %d failed, %d kept for retry, %d dropped: %s%s\n",
		st.failed, st.total, status, st.successful, st.failed, st.buffered, st.dropped, strings.Join(msgs, "; "), more)
}

// errorMessages lists the messages of err on one line each: a SendError's
// point errors, a joined error's parts.
func errorMessages(err error) []string {
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if se, ok := err.(*apptuit.SendError); ok {
		var out []string
		for _, pe := range se.Errors {
			out = append(out, oneLine(pe.Datapoint.String()+": "+pe.Message))
		}
		if len(out) == 0 {
			out = append(out, oneLine(se.Error()))
		}
		return out
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, errorMessages(e)...)
		}
		return out
	}
	return []string{oneLine(err.Error())}
}
