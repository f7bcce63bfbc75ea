// Package server is the local backend of "apptuit serve" and "apptuit
// demo": a time-series server a developer runs beside their service.
//
//	srv, err := server.New(server.WithDataDir("data"), server.WithWebPage())
//	if err != nil { ... }
//	l, _ := net.Listen("tcp", "127.0.0.1:4242")
//	go srv.Serve(l)
//	defer srv.Close()
//
// It serves:
//
//   - POST /api/put and GET /api/query with OpenTSDB's semantics and
//     messages and the Apptuit query language: the same code as the test
//     fake, package apptuittest, whose documentation is their contract;
//   - PromQL on Prometheus's HTTP API (/api/v1/query, query_range, labels,
//     label/<name>/values, series, metadata, status/buildinfo; also under
//     /prometheus), evaluated by Prometheus's own engine over the store,
//     answered and failing as Prometheus does (WithPromQLLimits);
//   - with WithWebPage, a page at "/" that lists what the server holds,
//     charts queries and shows the request log, through the endpoints
//     under /apptuittest/ (series, requests, auth);
//   - on Serve's port, OpenTSDB's telnet-style lines as well ("put <metric>
//     <timestamp> <value> <k>=<v> ...", version, help, stats, exit; auth
//     with WithToken), told from HTTP by the first byte as OpenTSDB's port
//     4242 does: what collectd's write_tsdb, tcollector and the library's
//     TelnetTCP send. A line is judged by the rule and messages of a put's
//     point, a refused one answered "put: <reason>" without ending the
//     connection, and the lines received together are committed and logged
//     as one put (Method "TELNET").
//
// WithToken makes every API request need "Authorization: Bearer <token>";
// the page's files need none.
//
// It refuses what a web page of another site can make a browser send
// (guard.go): every path answers only a Host header that is localhost, a
// loopback address or allowed with WithAllowedHosts (DNS rebinding); API
// requests with a foreign Origin or Sec-Fetch-Site cross-site or same-site
// get 403, and a put whose Content-Type is not application/json 415
// (cross-site request forgery). Clients that are not browsers send none
// of these and pass.
//
// # Files (one idea each)
//
// server.go (New, Serve, Close, Stats, Series), options.go, http.go (routes,
// the token, the request log), guard.go (Host, Origin, Content-Type),
// requests.go, port.go (HTTP or lines, by the first byte), telnet.go (line
// connections), introspect.go (the page's endpoints), query.go (the Apptuit
// query language's limits), promql.go (the engine and its limits),
// queryable.go (the store as Prometheus's storage.Queryable), promapi.go,
// promjson.go and promerror.go (Prometheus's HTTP API, JSON and errors);
// internal/store (the series store and its data log), internal/wal,
// internal/webui.
//
// # Bounds
//
// A put body may be 32 MiB as sent and 256 MiB decompressed; 8 are read at
// once (then 503 with Retry-After). Points stay in memory, compressed,
// within a memory budget (WithMaxMemory, default 256 MiB, of which the
// points, series and tags take at most three quarters) and none older than
// WithRetention: beyond those the oldest are evicted, and counted (Stats,
// Request.Evicted). Serve cuts slow clients (10 s for headers, 1 min
// waiting for a body or writing an answer, 2 min idle).
// A query holds at most a bounded number of points and answers at most a
// bounded number of bytes, within a timeout and a number evaluated at
// once, in either language (WithQueryLimits, WithPromQLLimits).
// Line connections: 64 at once, lines of at most 4 KiB, closed after 10
// min without a line; answers a client leaves unread are dropped beyond
// 16 KiB, never holding up its lines.
//
// # Data directory
//
// With WithDataDir the accepted points are also kept in a directory, and a
// Server opened on it later (after a clean stop or a crash) starts with
// them. The directory holds an append-only log in segment files, one record
// per put; each record has a sync marker, its length, its place in the log
// and its count of points under CRC-32C checksums. A put's record is
// written before the put is answered, so a crash of the process loses no
// answered put; the log is flushed to stable storage every
// WithSyncInterval (1 s; 0: before answering each put).
//
// No single fault destroys the data. On opening, a torn or damaged record
// costs only itself (a record torn by a crash is that of a put never
// answered): the records after it that verify are loaded. Its
// bytes are moved aside into a file named after the segment
// (0000000000000001.wal.corrupt), left for you to inspect or delete, never
// cut off in place; each damaged part is reported to WithLogger (segment,
// offset, size, the records and points lost, the file it went to) and
// counted (Stats.LostRecords, LostPoints, MovedAside). The counts are
// exact, except for a damaged header of the log's very last record, which is
// reported as an unknown number of records. Once the log holds more than
// twice the live points plus a million, it is compacted into a snapshot of
// them (records of at most 4,096 points of one series, each lost alone if
// damaged).
//
// The log's format is versioned: a directory written by an earlier release
// (format 1) loads and is converted by a compaction; one written by a later
// release fails New with an error naming its version, and is left as it
// is. A Server holds its directory by a lock file (New on a directory in
// use fails with ErrDataDirLocked).
package server
