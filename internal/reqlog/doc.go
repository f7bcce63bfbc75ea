// Package reqlog keeps the log of requests that the test fake
// (apptuittest) and the local server (apptuit serve) show: a ring of the
// newest records, the redacted and bounded copy of a request's headers a
// record keeps, and a response writer that remembers the status answered
// and the message of an error answer.
package reqlog
