// Package webui is the web page of "apptuit serve" and "apptuit demo
// --web": hand-written HTML, CSS and JavaScript embedded in the binary, so
// that the page works offline, needs no build step and loads nothing from
// elsewhere. The page calls the server's APIs with GETs only:
// /apptuittest/series, /apptuittest/requests and /apptuittest/auth
// (package server) to list what the server holds, /api/query and
// /api/v1/query_range to chart queries, /api/v1/labels and
// /api/v1/label/<name>/values to complete names in the query box.
//
// The files, one idea each: index.html; app.css (light and dark, from the
// system's setting; one column below 900 px); app.js (the page: the URL,
// the queries, the metrics list, the request log); chart.js (the chart);
// complete.js (completion in the query box); format.js (numbers, times,
// names and the order of series); vendor/ (uPlot).
//
// The chart is uPlot (assets/vendor: uPlot 1.6.32 from npm, MIT, as vmui
// and Prometheus's UI use it) on a canvas, with the page's own legend,
// tooltip and states in chart.js. It replaced the page's own SVG chart by
// measurement in headless Chromium (chartbench; bench/RESULTS.md, "The
// web page's chart"): with 50 series of 1,000 and of 10,000 points, it
// draws in about half the CPU time and half the wall time, and hovering
// repaints nothing in either. It costs about 53 KB more (22 KB
// compressed), and it runs under the page's Content-Security-Policy as it
// is (no inline style or script, no eval).
//
// Handler serves the files with a Content-Security-Policy that lets the page
// talk to its own origin only. The files hold no secret: the API token,
// when the server has one, is typed into the page, which keeps it in the
// tab's sessionStorage and sends it as "Authorization: Bearer".
package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every answer of Handler: scripts,
// styles, images and connections from the page's own origin only (images
// may also be data: URLs), no plugins, frames, forms posted elsewhere or
// <base> changes.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Prefix is the path under which Handler serves the page's files; the page
// itself is at "/".
const Prefix = "/ui/"

// contentTypes are the types of the files by extension; a file of any
// other extension is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// file is one embedded file, ready to serve.
type file struct {
	name  string
	ctype string
	etag  string
	body  string
}

// load reads the embedded files (a few tens of kilobytes) into a map by
// URL path.
func load() map[string]file {
	files := map[string]file{}
	fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		files[Prefix+name] = file{name: name, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, body: string(b)}
		return nil
	})
	files["/"] = files[Prefix+"index.html"]
	files["/favicon.ico"] = files[Prefix+"icon.svg"]
	delete(files, Prefix+"index.html")
	return files
}

// Files returns the URL paths Handler serves.
func Files() []string {
	var out []string
	for p := range load() {
		out = append(out, p)
	}
	return out
}

// Handles reports whether Handler serves the URL path p: "/", "/favicon.ico"
// and the paths under Prefix (which it answers 404 when no file is there).
func Handles(p string) bool {
	return p == "/" || p == "/favicon.ico" || strings.HasPrefix(p, Prefix)
}

// Handler serves the page at "/" and its files under Prefix, for GET and
// HEAD, with the file's content type, an ETag (so a reload costs a 304),
// "Cache-Control: no-cache", "X-Content-Type-Options: nosniff",
// "Referrer-Policy: no-referrer" and CSP. It needs no token: the files are
// the same for everyone and hold no data. Any other path is a 404.
func Handler() http.Handler {
	fsys := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		f, ok := fsys[r.URL.Path]
		if !ok {
			http.Error(w, "404 page not found: "+r.URL.Path+" (the page is at /)", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: "+r.Method+" (use GET)", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", f.ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, f.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(f.body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write([]byte(f.body))
		}
	})
}

// etagMatches reports whether an If-None-Match list names etag.
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
