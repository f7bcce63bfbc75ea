// Package apptuittest provides an in-memory fake of the Apptuit.AI API for
// tests: POST /api/put with OpenTSDB's semantics and messages,
// GET /api/query with a subset of the Apptuit query language, and
// Prometheus's query API with a subset of PromQL (see PromQL).
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
// Open is NewUnstartedServer returning errors instead of panicking.
//
// # Bounds
//
// The fake is meant to survive whatever a client sends; every bound has an
// option:
//
//   - bodies are decompressed and parsed as they arrive, never read into
//     memory whole: a put costs a few hundred kilobytes of buffers plus 3 to
//     19 bytes per accepted point until its body has been judged
//     (WithMaxBodySize, WithMaxDecompressedSize bound the time it takes): a
//     10 GiB gzip bomb of junk answers 413 having grown the heap by a few
//     hundred kilobytes, one of valid points by about 3 bytes per point
//     read before the limit;
//   - at most 8 put bodies are read at once; a put waits up to 1 s for its
//     turn, then gets 503 with "Retry-After: 1" (WithMaxConcurrentBodies);
//   - at most 10 million points are stored (WithMaxPoints), none older than
//     WithRetention if set: beyond those the points with the oldest
//     timestamps are evicted, and counted (Stats, Request.Evicted);
//   - the request log keeps the newest 1000 requests (WithRequestLogSize),
//     each with at most 4 KiB of headers, credentials redacted;
//   - slow clients are cut: 10 s to send the request's headers, 1 min of
//     waiting for a body (408), 1 min to take a response, 2 min idle between
//     requests (WithTimeouts); request headers are limited to 64 KiB;
//   - queries are limited in length, chain length and size (see Query
//     language); PromQL queries in length (64 KiB), nesting (100), series
//     per selector, samples read, points answered and evaluation time
//     (WithPromQLLimits), their form bodies to 1 MiB.
//
// Stored points cost 24 bytes each (up to 48 while their columns have
// spare room) plus, once per series, its names and about 200 bytes: 3.47
// million points fit in about 130 MB of resident memory. Points returns
// them in arrival order; Series lists the series with their point counts
// and last values, Stats the counts of points, series, evictions and
// requests, both without copying the points.
//
// # POST /api/put
//
// The body is one JSON object or an array of them, with fields metric,
// timestamp, value and tags; unknown fields are ignored. It may be sent as
// is, gzip-compressed (Content-Encoding: gzip) or zlib-compressed
// (Content-Encoding: deflate, RFC 1950, as apptuit-py sends it); raw deflate
// fails with 400 "zlib: invalid header" and other encodings with 415. A body
// over 32 MiB as sent, or over 256 MiB decompressed, gets 413 (see
// WithMaxBodySize, WithMaxDecompressedSize); a body is judged as if it had
// been read whole (a size limit passed anywhere is a 413 even if its JSON
// failed earlier), so it is read to its end within the limits. A data point
// whose metric, timestamp, value and tags hold more than 64 KiB fails the
// body with 400 "Data point too large: …". With WithToken, a request
// without "Authorization: Bearer <token>" gets 401. A put that finds the
// bodies being read at their bound waits, then gets 503 (see Bounds); one
// whose body keeps the server waiting past the body timeout gets 408; one
// that cannot be written to the data directory gets 500 and stores nothing.
//
// Answers:
//
//   - all points good, no flag: 204, empty body;
//   - ?summary: 200 {"success":N,"failed":M} (400 when M > 0);
//   - ?details (wins over summary): the same plus
//     "errors":[{"datapoint":{"metric":…,"timestamp":…,"value":"…","tags":{…}},"error":"…"}],
//     the value echoed as the text sent, like Apptuit (the list stops once
//     it reaches 8 MiB; "failed" still counts every rejected point);
//   - some points bad, no flag: 400 {"error":{"code":400,"message":"One or
//     more data points had errors","details":"Please see the TSD logs or
//     append \"details\" to the put request"}}.
//
// Good points of a partly bad batch are stored (points already older than
// WithRetention are accepted, counted as evicted and not stored). Whole-body
// errors store nothing and answer 400 {"error":{"code":400,"message":"…"}}
// with one of
// "Missing request content", "The JSON must start as an object or an
// array", "Unable to parse the given JSON" (also when a field holds an
// object or array where a scalar belongs) or "No datapoints found in
// content". Other paths answer 404, other methods 405.
//
// Each point is checked in OpenTSDB's order and fails with the first of:
//
//	Metric name was empty                      metric missing, null or ""
//	Invalid timestamp                          not an integer (a JSON number or a string of digits), <= 0, or > 9999999999999
//	Empty value                                value missing, null or ""
//	Missing tags                               tags missing, null or {}
//	Unable to parse value to a number          value not numeric; "NaN"; bare NaN/Infinity/-Infinity tokens
//	value is NaN or Infinite: <v>              a float out of range, e.g. 1e999
//	Too many tags: <n> maximum allowed: 25, tags: {k=v, …}
//	Invalid metric name ("<m>"): illegal character: <c>
//	Invalid tag name with value [<v>] ("<k>"): illegal character: <c>
//	Invalid tag name with value [<v>]: empty string
//	Invalid tag value with key [<k>]: null
//	Invalid tag value with key [<k>]: empty string
//
// Metric names and tag keys may hold Unicode letters and numbers and
// '-', '_', '.', '/'. Tag values may hold anything but must not be empty
// (Apptuit has no restriction on tag values). A value without '.', 'e' or
// 'E' is parsed as a 64-bit integer (so "NaN" and "Infinity" fail as
// "Unable to parse value to a number"); any other as a decimal float.
// Python's json module writes NaN and infinities as bare NaN, Infinity and
// -Infinity tokens, which are not JSON: they are read as the strings "NaN",
// "Infinity" and "-Infinity", so only their points fail. The tags of the
// "Too many tags" message are sorted by key. A timestamp is in seconds, or in
// milliseconds when it is 2^32 or more.
//
// # GET /api/query
//
// Parameters: start (required), end (default: now) and q. Times are Unix
// seconds, Unix milliseconds (more than 10 digits), "now" or
// "<n><s|m|h|d|w>-ago" (e.g. "1h-ago"). Points with start <= t <= end are
// read; a point's time is its timestamp truncated to the second, and of
// several points of one series in the same second the one with the latest
// timestamp wins (of several at that very timestamp, the later-sent), so
// that the answer does not depend on the order in which concurrent puts
// arrived. The answer has Apptuit's shape:
//
//	{"outputs":[{"id":"nyc.taxi.rides","result":[{"metric":"nyc.taxi.rides",
//	  "tags":{"host":"localhost"},"aggregatedTags":[],"dps":[[1406829600,23050.0],…]}]}],
//	 "hints":[],"query":{"querytext":"…","startTime":…,"endTime":…}}
//
// Timestamps in dps are Unix seconds, values always carry a fraction or an
// exponent (23050.0), NaN and infinities are written as null. Series in a
// result are sorted by their tags. A bad query is a 400
// {"error":{"code":400,"message":"parse error at line L, column C: …"}}; a
// missing or bad start, end or q is a 400 naming the parameter.
//
// # Query language
//
// A query is at most 64 KiB long, a chain at most 100 calls, and a query at
// most 2000 statements, fetches, tag values, calls and output names in all;
// over a limit, it fails with a parse error naming the limit at the place
// where it was passed.
//
// A query is statements separated by ';' or newlines (a newline inside
// parentheses or braces, or before a line starting with '.', does not end a
// statement). '#' starts a comment. Strings take single or double quotes.
//
//	fetch('cpu')                                every series of metric cpu
//	fetch('cpu', {'host': 'web1'})              ... whose tag host is web1
//	fetch('cpu', {'host': 'web1|web2'})         ... host is web1 or web2
//	fetch('cpu', {'host': '*', 'dc': 'eu'})     ... that have a host tag, and dc=eu
//	x = fetch('cpu')                            a named output (id "x")
//	y = x.mul(100)                              a variable can start a chain
//	output(y, x)                                only these outputs, in this order
//
// A bare statement's output id is its metric name (or its variable); an
// assignment's id is the variable name. Without output(), every statement is
// an output, in order. Functions, chained with '.':
//
//	.downsample('1m', 'avg')   one point per interval, aggregated with avg,
//	                           sum, min, max or count; intervals are <n>s, <n>m,
//	                           <n>h, <n>d or <n>w, e.g. '30s', '1h', '1d'. Buckets
//	                           are aligned: a point at t goes to
//	                           floor(t/interval)*interval, the bucket's time.
//	                           fetch('proc.cpu.percent').downsample('1m', 'avg')
//	.rate()                    per-second rate (v2-v1)/(t2-t1) at t2; the first
//	                           point is dropped, and so is a point whose value
//	                           went down (a counter reset).
//	                           fetch('http.requests').rate()
//	.series_sum()              one series: at each time any input has a point,
//	.series_avg()              the sum/avg/min/max of the inputs that have one
//	.series_min()              (no interpolation). Its tags are those common to
//	.series_max()              all inputs; aggregatedTags lists the other keys.
//	                           A=fetch('apptuit_datapoints_in').series_sum().div(24)
//	.div(n) .mul(n)            arithmetic with a number on every value
//	.add(n) .sub(n)            fetch('mem.bytes').div(1048576); div(0) is an error
//
// For example:
//
//	cpu=fetch('node.cpu').downsample('1h', 'avg');
//	load=fetch('node.load1', {'host': 'db1|db2'}).downsample('1h', 'max').series_max();
//	output(cpu, load)
//
// # PromQL
//
// GET or POST (form) /api/v1/query_range and /api/v1/query, and the same
// under /prometheus (Apptuit's paths), answer PromQL as Prometheus's HTTP
// API does: parameters query, start, end and step (range) or time
// (instant; default now), times in Unix seconds or RFC 3339, step in
// seconds or as a duration (15s); answers
// {"status":"success","data":{"resultType":"matrix","result":[{"metric":{…},
// "values":[[1700000000,"1.5"],…]}]}} ("vector" with "value", or
// "scalar", for instant queries), series sorted by their labels. A metric
// is the label __name__ and its tags are the other labels: a dotted name is
// selected as {__name__="order_count.count"} or {"order_count.count"}.
//
// The subset, with Prometheus 3's semantics (5-minute lookback, left-open
// ranges, rate extrapolation):
// selectors with = != =~ !~ on any label, range selectors, offset,
// arithmetic and comparisons (bool; one-to-one matching, on and ignoring),
// rate irate increase delta idelta, avg_ sum_ min_ max_ count_ and
// last_over_time, abs ceil floor round, scalar vector time,
// histogram_quantile, and sum avg min max count topk bottomk by or without.
// Anything else is a 400 {"status":"error","errorType":"bad_data",
// "error":"invalid parameter \"query\": 1:1: parse error: unsupported
// function \"label_replace\""}; bad parameters are 400 bad_data with
// Prometheus's messages (among them the limit of 11,000 points per
// series); a bound of WithPromQLLimits exceeded is a 422 with errorType
// "execution". Authentication, faults and the request log apply as for the
// other endpoints.
//
// # Faults
//
// FailNext, StallNext and DropNext make the next requests answer an error
// status, wait, or lose their connection; Requests lists what the server
// received (a dropped request is listed before its connection closes).
// Faulted requests store nothing (a stalled request the client waits out
// is then handled normally).
//
// # Introspection
//
// GET /apptuittest/series lists the series stored (a page of them, sorted,
// filtered by words found in the name or a key=value tag, with a summary of
// each metric), GET /apptuittest/requests the request log (newest first,
// with the first error messages of each request, as in Request.Errors) and
// GET /apptuittest/auth whether a token is needed and the one sent is right.
// The web page of apptuit serve reads them; they need the token like the
// rest of the API (but for /auth), take no fault and are not recorded in
// the request log, nor are the requests WithHandler serves.
//
// # Data directory
//
// With WithDataDir the accepted points are also kept in a directory, and a
// Server opened on it later (after a clean stop or a crash) starts with
// them, in their arrival order. The directory holds an append-only log in
// segment files: each record is length-prefixed and CRC-32C-checksummed,
// one record per put (the points in their compact in-memory encoding). A
// put's record is written before the put is answered, so a crash of the
// process loses no answered put; the log is flushed to stable storage with
// fsync every WithSyncInterval (1 s; 0: before answering each put), so an
// operating-system crash or a power loss may lose the puts of the last
// interval. A put is in the log whole or not at all.
//
// On opening, a record torn by a crash (or damaged later) is detected by
// its length or checksum, dropped with whatever follows it in its segment,
// counted (Stats.DroppedRecords, DroppedBytes) and reported to WithLogger;
// the records before it are kept. Damaged files never make Open panic or
// fail; only an unreadable directory does, or one in use: a Server holds
// its directory by a lock file ("lock", flock(2), released by Close or when
// the process dies), and Open on a directory another Server holds fails
// with ErrDataDirLocked, naming the holder's pid.
//
// The log is bounded by WithRetention and WithMaxPoints: points are
// evicted from the log as from memory, and once the log holds more than
// twice the live points plus a million, it is compacted into a snapshot of
// the live points (written to a temporary file, synced and renamed into
// place, so a crash leaves the old log or the new one). Puts wait during a
// compaction, which writes about 12 bytes per live point. Reset empties
// the directory too.
package apptuittest
