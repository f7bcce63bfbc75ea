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
//     under /apptuittest/ (series, requests, auth).
//
// WithToken makes every API request need "Authorization: Bearer <token>";
// the page's files need none.
//
// # Files (one idea each)
//
// server.go (New, Serve, Close, Stats, Series), options.go, http.go (routes,
// the token, the request log), requests.go, introspect.go (the page's
// endpoints), promql.go (the engine and its limits), queryable.go (the
// store as Prometheus's storage.Queryable), promapi.go, promjson.go and
// promerror.go (Prometheus's HTTP API, JSON and errors); internal/store
// (the series store and its data log), internal/wal, internal/webui.
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
//
// # Data directory
//
// With WithDataDir the accepted points are also kept in a directory, and a
// Server opened on it later (after a clean stop or a crash) starts with
// them. The directory holds an append-only log in segment files: each
// record is length-prefixed and CRC-32C-checksummed, one record per put. A
// put's record is written before the put is answered, so a crash of the
// process loses no answered put; the log is flushed to stable storage
// every WithSyncInterval (1 s; 0: before answering each put). On opening,
// a torn or corrupt record is dropped with what follows it in its segment,
// counted (Stats.DroppedRecords, DroppedBytes) and reported to WithLogger.
// A Server holds its directory by a lock file (New on a directory in use
// fails with ErrDataDirLocked). Once the log holds more than twice the
// live points plus a million, it is compacted into a snapshot of them.
package server
