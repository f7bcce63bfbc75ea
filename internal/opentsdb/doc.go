// Package opentsdb is the HTTP API that the test fake (apptuittest) and the
// local server (apptuit serve) share: POST /api/put with OpenTSDB's
// semantics and messages, and GET /api/query answering the Apptuit query
// language (package ql) in Apptuit's shape. Both serve these through Put
// and Query, so their answers are the same byte for byte; the
// contract is documented in package apptuittest.
//
// A put body is decompressed (gzip, or zlib for Content-Encoding: deflate)
// and parsed as it arrives, in one pass with bounded buffers (parse.go),
// its points checked in OpenTSDB's order with OpenTSDB's messages
// (check.go), the good ones collected compactly in a Batch until the whole
// body has been judged (body.go: sizes, timeouts, the order in which a
// body's errors are judged), and only then handed to the caller's Commit.
// A Batch names its series by key (SeriesKeyOf), the identity under which
// a store interns a series.
package opentsdb
