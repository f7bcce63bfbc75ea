package server

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/reqlog"
	"github.com/apptuit-go/apptuit/server/internal/webui"
)

// routes returns the server's handler: the API, behind the guard against
// other sites (guard.go), the token and the request log; the
// introspection endpoints for the web page, behind the guard and the token
// only; the page's files, behind the guard's Host check only.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("/api/put", func(w http.ResponseWriter, r *http.Request) {
		res := s.put.Serve(w, r)
		rec := reqlog.RecordOf[Request](r)
		rec.BodySize, rec.Accepted, rec.Failed, rec.Evicted, rec.Errors = res.BodySize, res.Accepted, res.Failed, res.Evicted, res.Errors
	})
	api.HandleFunc("/api/query", func(w http.ResponseWriter, r *http.Request) {
		s.query.Serve(w, r, s.store, s.cfg.now())
	})
	s.promRoutes(api)

	var page http.Handler
	if s.cfg.webPage {
		page = webui.Handler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case ownPath(api, r):
			s.serveAPI(api, w, r)
		case strings.HasPrefix(r.URL.Path, introspectPrefix):
			if code, msg := s.refuse(r, true); code != 0 {
				opentsdb.WriteError(w, code, msg)
				return
			}
			s.serveIntrospect(w, r)
		case page != nil && webui.Handles(r.URL.Path):
			if code, msg := s.refuse(r, false); code != 0 {
				http.Error(w, msg, code)
				return
			}
			page.ServeHTTP(w, r)
		default:
			s.serveAPI(api, w, r) // recorded, and answered 403, 401 or 404
		}
	})
}

// serveAPI serves an API request: checks the token and records the
// request in the log once answered.
func (s *Server) serveAPI(api *http.ServeMux, rw http.ResponseWriter, r *http.Request) {
	rec := &Request{
		Time:     time.Now(),
		Method:   r.Method,
		Path:     opentsdb.Cut(r.URL.Path, reqlog.MaxURL),
		RawQuery: opentsdb.Cut(r.URL.RawQuery, reqlog.MaxURL),
		Header:   reqlog.Header(r.Header),
	}
	w := &reqlog.Writer{ResponseWriter: rw, WriteTimeout: writeTimeout}
	defer func() {
		rec.Status = w.Status()
		rec.Duration = time.Since(rec.Time)
		if len(rec.Errors) == 0 {
			if msg := w.ErrorMessage(); msg != "" {
				rec.Errors = []string{msg}
			}
		}
		s.record(*rec)
	}()
	if code, msg := s.refuse(r, true); code != 0 {
		opentsdb.WriteError(w, code, msg)
		return
	}
	if !ownPath(api, r) {
		opentsdb.WriteError(w, http.StatusNotFound, "Endpoint not found")
		return
	}
	if !opentsdb.Authorized(r, s.cfg.token) {
		opentsdb.WriteUnauthorized(w)
		return
	}
	api.ServeHTTP(w, r.WithContext(reqlog.WithRecord(r.Context(), rec)))
}

// ownPath reports whether mux serves the path of r itself: a route
// matches it, and it is clean (the mux would redirect a path such as
// "/api//put").
func ownPath(mux *http.ServeMux, r *http.Request) bool {
	_, pattern := mux.Handler(r)
	return pattern != "" && path.Clean(r.URL.Path) == r.URL.Path
}
