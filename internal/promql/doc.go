// Package promql is a subset of PromQL, Prometheus's query language, for the
// fake server apptuittest: a lexer, a parser to an AST and an evaluator of
// instant and range queries over a Storage, with answers in the JSON shape
// of Prometheus's HTTP API.
//
// It is our own subset, written against the standard library only, rather
// than the real github.com/prometheus/prometheus/promql engine: that module
// pulls in hundreds of others (client libraries of every cloud, Kubernetes,
// gRPC, OpenTelemetry…), which a test fake that users import into their own
// tests must not impose on them. The semantics follow Prometheus 3 for
// float samples (there are no native histograms in OpenTSDB data):
//
//   - A range query is evaluated at start, start+step, … up to end.
//   - An instant vector selector takes, per series, the latest sample in
//     (t-5m, t]; a range vector selector [r] takes the samples in (t-r, t]
//     (left-open, as Prometheus 3). offset shifts both back.
//   - rate, increase and delta extrapolate as Prometheus's extrapolatedRate
//     (counter resets, extrapolation to the range's boundaries when the
//     first or last sample is within 1.1 average intervals of them, else by
//     half an interval, and for counters not below zero); irate and idelta
//     use the last two samples.
//   - Functions that change values and aggregations drop __name__;
//     last_over_time keeps it.
//   - histogram_quantile is Prometheus's bucketQuantile for classic
//     histograms (buckets sorted by le, +Inf required, monotonicity forced,
//     linear interpolation, the lowest bucket starting at 0).
//
// Supported: number and string literals, durations (5m, 1h30m, 500ms),
// selectors with =, !=, =~ and !~ on any label including __name__ (a
// dotted OpenTSDB name like order_count.count is written
// {__name__="order_count.count"} or {"order_count.count"}), range
// selectors, offset, parentheses, unary minus, the arithmetic operators
// + - * / % ^, the comparisons == != > < >= <= (filtering, or 0/1 with
// bool), one-to-one vector matching (optionally on(...) or ignoring(...)),
// the functions rate irate increase delta idelta avg_over_time
// sum_over_time min_over_time max_over_time count_over_time
// last_over_time abs ceil floor round scalar vector time
// histogram_quantile, and the aggregations sum avg min max count topk
// bottomk with by(...) or without(...) before or after their arguments.
//
// Anything else (label_replace, and/or/unless, group_left, @, subqueries,
// other aggregations) is a parse error naming the unsupported construct,
// e.g. `1:1: parse error: unsupported function "label_replace"`.
//
// Hostile input is bounded: queries longer than MaxQueryLength or nested
// deeper than MaxDepth are rejected by Parse, and Limits bounds the series
// a selector may touch, the samples read and the points of a result.
package promql
