// Package apptuit sends application metrics to Apptuit.AI, or to any
// backend that speaks OpenTSDB's HTTP API (OpenTSDB, VictoriaMetrics,
// InfluxDB's OpenTSDB listener), and queries them back. It imports only the
// standard library.
//
// # Sending
//
// A Client is made once with New and shared (it is safe for concurrent use):
//
//	client, err := apptuit.New(apptuit.WithToken(token))
//	...
//	err = client.Send(ctx, []apptuit.DataPoint{{
//		Metric: "proc.cpu.percent", Tags: map[string]string{"host": "web-1"},
//		Timestamp: time.Now(), Value: 12.5,
//	}})
//
// Send takes DataPoints; SendTimeSeries takes TimeSeries, whose name and tags
// are checked once and whose points are appended to two slices; SendPrepared
// takes points of series checked and encoded once by PrepareSeries, for
// callers that send the same series again and again. All three POST to
// /api/put?details (or write text lines, with WithLineTransport): every
// point is checked first (name and tag rules, 1 to 25 tags after the
// client's global tags, a finite value, a timestamp the Precision can
// write) and nothing is sent if one fails; then the points go in batches of
// 50,000 (WithBatchSize), two in flight (WithConcurrency), each encoded and
// gzip-compressed while it streams to the connection. ValidateMetric checks
// a name and tags alone; CheckName and CleanName apply Apptuit's rule for
// names and tag keys, which every check uses. EncodeMetric and
// DecodeMetric read and write apptuit-py's name{"k": "v"} form.
//
// # Querying
//
// Query runs an Apptuit query-language query (GET /api/query) and QueryRange
// a PromQL range query. Both return a QueryResult: outputs by index or id,
// each with its series; Output.Frame aligns the series on time as
// apptuit-py's to_df does, and Frame.WriteCSV writes it as pandas would.
//
// The packages beside this one: metrics is a registry of counters, gauges,
// meters, histograms and timers; reporter sends a registry on an interval
// with a Client; apptuittest is an in-process fake of the API for tests.
// The apptuit command, which sends and queries from the shell and runs a
// local backend (apptuit serve), is in the module
// github.com/apptuit-go/apptuit/server.
//
// # Configuration
//
// Options are given to New and checked there; the environment is read
// there and nowhere else: the token from WithToken, else APPTUIT_API_TOKEN,
// else APPTUIT_PY_TOKEN (WithNoAuth sends none, for servers without
// authentication), and global tags from WithGlobalTags, else APPTUIT_TAGS,
// else APPTUIT_PY_TAGS ("k1: v1, k2: v2"). WithEndpoint points the client
// at another server; WithTimestampPrecision chooses seconds or
// milliseconds for a backend that needs one (InfluxDB: PrecisionSeconds),
// over HTTP and over a line transport (WithLineTransport) alike;
// WithCompression chooses gzip, zlib deflate or none; WithRetries,
// WithBackoff and WithTimeout bound the retries and the time; WithPromQLPath
// names the PromQL API's path; WithMaxResponseBytes caps a query response.
//
// # Errors
//
// Each error type means one thing, so that callers branch with errors.As:
//
//   - *ValidationError: a point broke a rule; nothing of the call was sent.
//   - *SendError: the server judged points and refused some (a 400, or a
//     413 at the smallest split); the rest of the call was delivered, and
//     sending the refused points again would not help.
//   - *HTTPError: any other non-2xx answer (401, 403, 404, 429 or 5xx after
//     the retries, …), with the server's message; for a send, how many
//     points were not delivered.
//   - *NetworkError: no answer, after the retries; with a line transport,
//     a connection that failed before its lines were confirmed (how many
//     points may not have arrived).
//   - *RedirectError: a redirect the client does not follow (to another
//     origin, or one that would lose a POST's body); for a send, how many
//     points were not delivered.
//   - *PromQLError: a Prometheus error body, unwrapped from an *HTTPError.
//   - *PartialError: with WithDenyPartial, a PromQL answer the server
//     marked partial (QueryResult.Partial says so otherwise).
//
// ErrUnauthorized matches 401 answers, ErrNoToken a missing token and
// ErrResponseTooLarge a response over the cap; IsRetryable tells whether
// the same call may succeed later (429, 5xx, no answer, a partial answer).
// No error, log line or formatted Client shows the token, and the token
// never leaves for another origin (scheme, host or port): redirects are
// followed only within the endpoint's.
//
// # Cost
//
// Every send takes the same path (see PreparedSeries): its points are
// checked, then encoded and compressed while they stream to the
// connection, so a batch is never held whole in memory. SendPrepared and
// SendTimeSeries allocate nothing per point (per batch, the HTTP
// exchange's allocations; SendTimeSeries a few per call for its series);
// Send merges and encodes each point's tags again, in reused buffers.
// A query response is read whole, within WithMaxResponseBytes (a body
// over it costs the cap and fails), and decoded without an allocation per
// point. Retries wait with exponential backoff and full jitter, honouring
// Retry-After and the context. Measured figures: bench/RESULTS.md.
package apptuit
