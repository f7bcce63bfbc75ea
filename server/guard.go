package server

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// The server refuses what a web page on another site could make a browser
// send it: requests addressed to a name other than its own (DNS
// rebinding), API requests from another origin (CSRF), and put bodies a
// form or a no-cors fetch can send. Clients that are not browsers send
// none of these and are not affected.

// hostRule says which names the server answers to, for the messages.
const hostRule = "this server answers only requests addressed to localhost, a loopback address " +
	"or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding " +
	"domain cannot read or write it"

// WithAllowedHosts lets the server answer requests whose Host header is one
// of hosts (names, case-insensitive, or IP addresses; any port), besides
// "localhost" and loopback addresses, which it always answers. An
// unspecified address, "0.0.0.0" or "::", allows every IP address (not
// names): what clients of a server listening on all interfaces send. A
// request for any other host is refused with 403 and no data, against DNS
// rebinding: a page on a domain that resolves to this machine must not
// read or write it. Repeated calls add hosts.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *config) { c.allowedHosts = append(c.allowedHosts, hosts...) }
}

// hostSet is the names and addresses the server answers to besides
// loopback.
type hostSet struct {
	names map[string]bool // lower case
	addrs map[netip.Addr]bool
	anyIP bool
}

func newHostSet(hosts []string) (hostSet, error) {
	hs := hostSet{names: map[string]bool{}, addrs: map[netip.Addr]bool{}}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil && ip.Zone() == "" {
			ip = ip.Unmap()
			hs.addrs[ip] = true
			hs.anyIP = hs.anyIP || ip.IsUnspecified()
			continue
		}
		if !validHostname(h) {
			return hostSet{}, fmt.Errorf("WithAllowedHosts(%q): not a host name or an IP address (no port, scheme or wildcard)", h)
		}
		hs.names[strings.ToLower(h)] = true
	}
	return hs, nil
}

// validHostname reports whether h is a DNS name: dot-separated labels of
// letters, digits, '-' and '_', none empty.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// allows reports whether the server answers a request with Host header
// hostport.
func (hs hostSet) allows(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		return ip.IsLoopback() || hs.anyIP || hs.addrs[ip.WithZone("")]
	}
	return strings.EqualFold(host, "localhost") || hs.names[strings.ToLower(host)]
}

// refuseHost returns why the server does not answer r ("" when it does).
func (s *Server) refuseHost(r *http.Request) string {
	if s.hosts.allows(r.Host) {
		return ""
	}
	msg := fmt.Sprintf("Host %q refused: %s", opentsdb.Cut(r.Host, 200), hostRule)
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil || validHostname(host) {
		msg += "; start it with --allow-host " + host + " to allow it"
	}
	return msg
}

// refuseCrossSite returns why the server does not answer r as an API
// request ("" when it does): a browser says it comes from a page of
// another site or origin. Sec-Fetch-Site must be absent (not a browser,
// or an old one), "same-origin" (the server's own page) or "none" (an
// address typed in or a bookmark); an Origin header must be the server's
// own, http or https with the request's Host ("null", sent by sandboxed
// and file: pages, is not).
func refuseCrossSite(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("Sec-Fetch-Site %q refused: the API answers only its own page and clients that are not browsers, not pages of other sites or origins (cross-site request forgery)", opentsdb.Cut(site, 40))
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return ""
	}
	if len(origins) == 1 && sameOrigin(origins[0], r.Host) {
		return ""
	}
	return fmt.Sprintf("Origin %q refused: the API answers only its own page (origin http://%s) and clients that are not browsers, not pages of other origins (cross-site request forgery)",
		opentsdb.Cut(strings.Join(origins, ", "), 200), opentsdb.Cut(r.Host, 200))
}

// sameOrigin reports whether origin is http or https on host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.User == nil &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && strings.EqualFold(u.Host, host)
}

// refusePutType returns why the server does not take r as a put ("" when
// it does): its Content-Type is not application/json. A form (text/plain,
// urlencoded, multipart) and a no-cors fetch can send a body cross-site
// only with those types or none; application/json needs the server's
// consent (CORS), which it never gives.
func refusePutType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return ""
	}
	return "Content-Type " + strconv.Quote(opentsdb.Cut(ct, 100)) + " refused: /api/put takes only " +
		"\"Content-Type: application/json\" (compressed or not), so that a web page on another site cannot " +
		"store points with a form or a no-cors fetch; send that header (curl: -H 'Content-Type: application/json')"
}

// refuse returns the status and message that refuse r, or 0 when the
// server answers it. api says whether r is for the API or the
// introspection endpoints rather than the page's files, which a page of
// another site may link to.
func (s *Server) refuse(r *http.Request, api bool) (int, string) {
	if msg := s.refuseHost(r); msg != "" {
		return http.StatusForbidden, msg
	}
	if !api {
		return 0, ""
	}
	if msg := refuseCrossSite(r); msg != "" {
		return http.StatusForbidden, msg
	}
	if r.URL.Path == "/api/put" && r.Method == http.MethodPost {
		if msg := refusePutType(r); msg != "" {
			return http.StatusUnsupportedMediaType, msg
		}
	}
	return 0, ""
}
