package apptuit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// This file keeps the token at home: the HTTP client never follows a
// redirect itself (stopRedirects); follow decides, for every answer, whether
// the next request may go where the server points.
//
// The rules: a redirect to another origin (scheme, host or port: an https
// endpoint redirected to http, or to another host or port, or an http one
// upgraded to https) is not followed, whether or not the client has a
// token, since the request would carry the token or the points away; it
// fails with a *RedirectError naming both URLs. A redirect to the same
// origin is followed when it keeps the request whole: 307 and 308 always
// (the body is made again by request.body: a send encodes its points
// again), 301, 302 and 303 only for a GET (they would turn a POST into a GET
// without its body). At most maxRedirects are followed per attempt.

// maxRedirects is how many same-origin redirects one attempt follows, as
// net/http's own client does.
const maxRedirects = 10

// stopRedirects is the CheckRedirect of the client's copy of the
// http.Client: net/http hands every 3xx answer back to follow.
func stopRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// RedirectError is an answer redirecting a request where the client does
// not follow: to another origin (scheme, host or port), which never gets
// the token nor the points; with 301, 302 or 303 for a POST (send and
// QueryRange), which would lose the body; or after more than 10 redirects.
// For Send and SendTimeSeries the points of the call count as not
// delivered, as for an *HTTPError. It is not retryable: the server will
// redirect again, and the fix is the endpoint (WithEndpoint).
type RedirectError struct {
	Op         string // "send", "query" or "promql"
	Method     string
	StatusCode int    // 301, 302, 303, 307 or 308
	From       string // the URL requested (without its query string, any password redacted)
	To         string // where the server pointed (the same way)
	Reason     string // why it was not followed

	// As in HTTPError: for Send and SendTimeSeries, the points of the call
	// not delivered, out of Total.
	Undelivered, Total int
}

// Error reads, for example,
//
//	apptuit: send: 2 points not delivered: POST https://a.example/api/put was redirected (307 Temporary Redirect) to http://a.example/api/put, which is not followed: it leaves https for http, where the token would travel in clear text
func (e *RedirectError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	writeUndelivered(&b, e.Undelivered, e.Total)
	fmt.Fprintf(&b, "%s %s was redirected (%s) to %s, which is not followed: %s", e.Method, e.From, statusText(e.StatusCode), e.To, e.Reason)
	return b.String()
}

// Retryable reports false: the server would redirect again.
func (e *RedirectError) Retryable() bool { return false }

// follow makes one attempt of r and follows the same-origin redirects the
// rules above allow. Any other redirect ends it with a *RedirectError; a
// 3xx answer that is not a redirect (304, or one without Location) is
// returned like any other answer.
func (c *Client) follow(ctx context.Context, r request) (*http.Response, error) {
	origin, err := url.Parse(r.url)
	if err != nil {
		return nil, err // as http.NewRequest would fail
	}
	for hops := 0; ; hops++ {
		resp, err := c.attempt(ctx, r)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			return resp, nil
		}
		// The answer is only a pointer: drain a little so that the
		// connection can be reused, and close it (which closes the
		// request's body too).
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		from := resp.Request.URL
		re := &RedirectError{Op: r.op, Method: r.method, StatusCode: resp.StatusCode, From: displayURL(from.String())}
		to, err := from.Parse(loc)
		if err != nil {
			// net/http's client fails first on such a Location.
			return nil, err
		}
		re.To = displayURL(to.String())
		if re.Reason = redirectRefusal(origin, to, r.method, resp.StatusCode, hops); re.Reason != "" {
			return nil, re
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.url = to.String()
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectRefusal says why a redirect from the endpoint's origin to to is
// not followed, or "" when it is.
func redirectRefusal(origin, to *url.URL, method string, code, hops int) string {
	switch {
	case strings.EqualFold(origin.Scheme, "https") && strings.EqualFold(to.Scheme, "http"):
		return "it leaves https for http, where the token would travel in clear text"
	case !sameOrigin(origin, to):
		return fmt.Sprintf("it points to another origin than %s (scheme, host or port), which never gets the token or the points; if that is the server's address, make it the endpoint", originOf(origin))
	case method != http.MethodGet && code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect:
		return fmt.Sprintf("a %d turns a %s into a GET without its body (only 307 and 308 keep them)", code, method)
	case hops >= maxRedirects:
		return fmt.Sprintf("it is redirect number %d in a row", hops+1)
	}
	return ""
}

// sameOrigin compares scheme, host and port (an absent port is the
// scheme's default), ignoring case.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(strings.TrimSuffix(a.Hostname(), "."), strings.TrimSuffix(b.Hostname(), ".")) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
