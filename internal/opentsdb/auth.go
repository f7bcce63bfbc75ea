package opentsdb

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Authorized reports whether r carries token as "Authorization: Bearer
// <token>" (compared in constant time); any request is, when token is "".
func Authorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(token)) == 1
}

// WriteUnauthorized answers 401 as Apptuit does to a missing or wrong token.
func WriteUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="apptuit"`)
	WriteError(w, http.StatusUnauthorized, "token is invalid: a valid \"Authorization: Bearer <token>\" header is required")
}
