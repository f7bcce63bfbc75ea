package apptuittest

import "net/http"

// WithHandler serves h, instead of the fake's API, for the requests whose
// URL path handles reports true: without the token check, fault injection
// or the request log. It is meant for files that hold no data, such as the
// web page "apptuit serve" shows at "/" (whose calls to the API do need
// the token). handles must be safe for concurrent use; a path the fake
// serves itself (/api/put, /api/query, ...) is never given to h.
func WithHandler(handles func(path string) bool, h http.Handler) Option {
	return func(c *config) { c.extra = append(c.extra, extraHandler{handles, h}) }
}

type extraHandler struct {
	handles func(string) bool
	h       http.Handler
}

// serveExtra serves r with the first extra handler that claims its path,
// and reports whether one did.
func (s *Server) serveExtra(w http.ResponseWriter, r *http.Request) bool {
	if s.ownPath(r) {
		return false
	}
	for _, e := range s.cfg.extra {
		if e.handles(r.URL.Path) {
			e.h.ServeHTTP(w, r)
			return true
		}
	}
	return false
}
