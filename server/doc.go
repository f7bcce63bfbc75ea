// Package server is the local backend of "apptuit serve" and "apptuit
// demo": a time-series server a developer runs beside their service. It
// takes POST /api/put with OpenTSDB's semantics and messages (the same
// code as the test fake, package apptuittest), answers the Apptuit query
// language on GET /api/query and PromQL on Prometheus's HTTP API, keeps
// the points in memory within bounds (WithMaxPoints, WithRetention) and,
// with WithDataDir, in a checksummed log that survives restarts and
// crashes, and can serve a web page (WithWebPage).
//
//	srv, err := server.New(server.WithDataDir("data"))
//	...
//	l, _ := net.Listen("tcp", "127.0.0.1:4242")
//	go srv.Serve(l)
//	defer srv.Close()
package server
