package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/prometheus/prometheus/promql"
)

// Prometheus's API errors: their errorType, and the HTTP status each gets,
// as in Prometheus's web/api/v1 (returnAPIError and getDefaultErrorCode),
// which this server does not import (it pulls in the rest of Prometheus).
type errorType string

const (
	errorTimeout       errorType = "timeout"
	errorCanceled      errorType = "canceled"
	errorExec          errorType = "execution"
	errorBadData       errorType = "bad_data"
	errorInternal      errorType = "internal"
	errorUnavailable   errorType = "unavailable"
	errorNotFound      errorType = "not_found"
	errorNotAcceptable errorType = "not_acceptable"
	errorCostLimit     errorType = "cost_limit"
)

// statusClientClosedConnection is Prometheus's status for a canceled query
// (nginx's 499).
const statusClientClosedConnection = 499

// status returns the HTTP status of an error of type t.
func (t errorType) status() int {
	switch t {
	case errorBadData:
		return http.StatusBadRequest
	case errorExec, errorCostLimit:
		return http.StatusUnprocessableEntity
	case errorCanceled:
		return statusClientClosedConnection
	case errorTimeout, errorUnavailable:
		return http.StatusServiceUnavailable
	case errorNotFound:
		return http.StatusNotFound
	case errorNotAcceptable:
		return http.StatusNotAcceptable
	}
	return http.StatusInternalServerError
}

// apiError is an error answered in Prometheus's shape:
// {"status":"error","errorType":"…","error":"…"}.
type apiError struct {
	typ errorType
	err error
}

// execError maps an error of the engine or the storage to its type, as
// Prometheus's returnAPIError does: canceled, timeout, cost_limit for the
// series and samples limits, internal for storage errors, execution for
// the rest.
func execError(err error) *apiError {
	var (
		eqc   promql.ErrQueryCanceled
		eqt   promql.ErrQueryTimeout
		es    promql.ErrStorage
		etms  promql.ErrTooManySeries
		etmss promql.ErrTooManySamplesRead
	)
	switch {
	case errors.As(err, &eqc):
		return &apiError{errorCanceled, err}
	case errors.As(err, &eqt):
		return &apiError{errorTimeout, err}
	case errors.As(err, &etms), errors.As(err, &etmss):
		return &apiError{errorCostLimit, err}
	case errors.As(err, &es):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	}
	return &apiError{errorExec, err}
}

// constructionError maps an error of building a query, as Prometheus's
// queryConstructionError: running out of time or being canceled (waiting
// for a slot) is a timeout or a cancellation, anything else a bad query.
func constructionError(err error) *apiError {
	var (
		eqt promql.ErrQueryTimeout
		eqc promql.ErrQueryCanceled
	)
	if errors.As(err, &eqt) || errors.As(err, &eqc) {
		return execError(err)
	}
	return invalidParam(err, "query")
}
