// Package apptuittest is a fake of the Apptuit.AI API for tests, in the
// manner of net/http/httptest: an in-memory server on a loopback port that
// takes POST /api/put with OpenTSDB's semantics and messages and answers
// GET /api/query in the Apptuit query language, records every request and
// fails, stalls or drops requests on demand.
//
//	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
//	defer srv.Close()
//	c, _ := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"))
//	// ... send with c ...
//	pts := srv.Points() // everything accepted, in arrival order
//
// The server listens on 127.0.0.1 on a random port (or on a listener given
// with WithListener). Handler returns the bare http.Handler for serving it
// with an http.Server of your own; WithRequestLog reports every request.
// Open is NewUnstartedServer returning errors instead of panicking. Points
// stay in memory until Reset or Close; nothing is written to disk.
//
// # Inspection and faults
//
// Points returns what was stored, in arrival order; Series lists the
// series with their point counts and last values; Requests the requests
// received (method, path, redacted headers, status, points accepted and
// failed, error messages); Stats the counts. FailNext, StallNext and
// DropNext make the next requests answer an error status, wait, or lose
// their connection; faulted requests store nothing (a stalled request the
// client waits out is then handled normally).
//
// # POST /api/put
//
// The body is one JSON object or an array of them, with fields metric,
// timestamp, value and tags, sent as is, gzip-compressed (Content-Encoding:
// gzip) or zlib-compressed (Content-Encoding: deflate, as apptuit-py
// sends it). It is decompressed and parsed as it arrives, and judged whole
// before anything is stored. Answers, as OpenTSDB's:
//
//   - all points good: 204, empty body;
//   - ?summary: 200 {"success":N,"failed":M} (400 when M > 0);
//   - ?details: the same plus "errors":[{"datapoint":{…},"error":"…"}];
//   - some points bad, no flag: 400 {"error":{"code":400,"message":"One or
//     more data points had errors","details":"Please see the TSD logs or
//     append \"details\" to the put request"}}; the good points are stored;
//   - a bad body stores nothing: 400 "Missing request content", "The JSON
//     must start as an object or an array", "Unable to parse the given
//     JSON" or "No datapoints found in content"; 413 over WithMaxBodySize
//     (32 MiB) or WithMaxDecompressedSize (256 MiB); 415 for another
//     Content-Encoding; 408 past the body timeout (see WithTimeouts); 503
//     with Retry-After when WithMaxConcurrentBodies puts are being read;
//   - 401 without the token of WithToken; 404 for another path; 405 for
//     another method.
//
// Each point is checked in OpenTSDB's order and fails with the first of:
//
//	Metric name was empty                      metric missing, null or ""
//	Invalid timestamp                          not an integer, <= 0, or > 9999999999999
//	Empty value                                value missing, null or ""
//	Missing tags                               tags missing, null or {}
//	Unable to parse value to a number          value not numeric; "NaN"; bare NaN/Infinity tokens
//	value is NaN or Infinite: <v>              a float out of range, e.g. 1e999
//	Too many tags: <n> maximum allowed: 25, tags: {k=v, …}
//	Invalid metric name ("<m>"): illegal character: <c>
//	Invalid tag name with value [<v>] ("<k>"): illegal character: <c>
//	Invalid tag name with value [<v>]: empty string
//	Invalid tag value with key [<k>]: null | empty string
//
// Metric names and tag keys may hold Unicode letters and numbers and
// '-', '_', '.', '/'. A timestamp is in seconds, or in milliseconds when it
// is 2^32 or more.
//
// # GET /api/query
//
// Parameters: start (required), end (default: now, see WithClock) and q:
// Unix seconds, Unix milliseconds, "now" or "<n><s|m|h|d|w>-ago". Points
// with start <= t <= end are read, a point's time truncated to the second
// (of several points of a series in one second, the latest wins). The
// answer has Apptuit's shape:
//
//	{"outputs":[{"id":"cpu","result":[{"metric":"cpu","tags":{"host":"a"},
//	  "aggregatedTags":[],"dps":[[1406829600,23050.0],…]}]}],"hints":[],"query":{…}}
//
// The query language (the repository's README has the details):
//
//	fetch('cpu', {'host': 'web1|web2', 'dc': '*'})   series by metric and tags
//	x = fetch('cpu').downsample('1m', 'avg')         avg sum min max count
//	y = x.rate().mul(100)                            rate, div mul add sub
//	z = fetch('cpu').series_sum()                    series_sum _avg _min _max
//	output(y, z)                                     outputs, in this order
//
// A bad query is a 400 {"error":{"code":400,"message":"parse error at line
// L, column C: …"}}.
//
// # Bounds
//
// Every bound has an option: body sizes, bodies read at once, the request
// log's length (WithRequestLogSize; records of at most 8 KiB, credentials
// redacted) and timeouts on slow clients (WithTimeouts); queries are
// limited in length (64 KiB) and size, and in cost with fixed bounds that
// a unit test does not reach: 2,000,000 points fetched, computed and
// answered, 32 MiB of answer and 30 s (422 beyond), 4 evaluated at once
// (429 when all stay busy for 30 s).
//
// Unlike the local server, the fake answers any Host, Origin and
// Content-Type: it listens on 127.0.0.1 on a port of its own for the life
// of a test, holds only that test's data, and a test may well check how
// the code under test sends an odd request.
//
// # Migrating from the larger fake
//
// This package was once also the local backend of "apptuit serve". That
// backend now lives in its own module, github.com/apptuit-go/apptuit/server
// (command: github.com/apptuit-go/apptuit/server/cmd/apptuit), and these
// went with it: PromQL (/api/v1/query, /api/v1/query_range),
// persistence (WithDataDir, WithSyncInterval, ErrDataDirLocked), eviction
// (WithMaxPoints, since replaced by the server's WithMaxMemory,
// WithRetention, Request.Evicted, Stats.Accepted and its eviction and load
// counts), the web page and its /apptuittest/ endpoints (WithHandler,
// PageClientHeader) and WithLogger. Tests that send to the
// fake and read Points, Series, Requests or Stats.Points keep working
// unchanged; a test of PromQL queries runs against server.New instead.
package apptuittest
