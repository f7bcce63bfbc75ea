package server

// The queries of TestPromQLAgainstPrometheus, by family. Each is asked as
// an instant query at every one of pdInstantTimes and as a range query over
// pdRange, of this server and of Prometheus 2.42; every answer must be the
// same: status (and errorType), result type, series (label sets),
// timestamps, and values within 1e-9 relative (NaN equals NaN). {T+n} is
// the time pdT0+n (Unix seconds). Where pdDotted appears, Prometheus is
// asked with pdDottedProm; a quoted name ({"pd.http.requests"}), which
// 2.42 cannot parse, is sent to it as {__name__="pd_http_requests"}.
//
// Where Prometheus 2.42 and Prometheus 3 (this server's engine, v0.316)
// differ, the queries keep off the difference:
//
//   - Range selectors, lookback and subquery ranges: 3 excludes the start
//     of a range (left-open), 2.42 includes it. Evaluation times are at
//     .500 s and samples never are, ranges, offsets, subquery steps and @
//     times are whole seconds, and samples never are: no boundary ever
//     falls on a sample (see pdJitter).
//   - rate/increase extrapolation of a counter whose window starts before
//     the series' first sample: 2.42 cuts the extrapolation at the
//     counter's zero point before deciding how far to extrapolate, 3
//     after; they differ when the zero point lies between 0.5 and 1.1
//     average sample intervals before the first sample. The counters
//     were running before the data starts (2,000 or more) or start at 0
//     or at 3,000, and do not reset next to a gap (pdData).
//   - Ties: topk, bottomk, sort and sort_desc pick and order equal values
//     by their heap's or sort's order, which changed since 2.42. No two
//     gauges ever hold the same value (a different thousandth each), and
//     NaN goes through topk only where all elements are kept.
//   - atan2 keeps the metric name in 2.42 and drops it in 3 (as every
//     other arithmetic operator does): its queries are flagged
//     pdIgnoreName and compared without __name__.
//   - Functions that 2.42 lacks (first_over_time, histogram_avg,
//     histogram_stddev, histogram_stdvar, sort_by_label, limitk,
//     limit_ratio, mad_over_time, info, double_exponential_smoothing, ts_of_*)
//     or that 3 removed (holt_winters) are not asked; nor are 3's
//     UTF-8 label names or duration arithmetic ([5m+1m]).
//   - histogram_fraction reads classic le buckets in Prometheus 3 (this
//     server answers histogram_fraction(0, 0.5, pd_latency_seconds_bucket)
//     with a fraction per job); in 2.42 it reads only native histograms
//     and answers nothing. It is not asked; histogram_count and
//     histogram_sum, native-only in both, are (every answer empty).
//   - Subqueries: an inner evaluation time on the start of a subquery's
//     range is in 2.42's range and not in 3's. Instant and range times
//     are at .500 s, so subquery ranges end off the whole-second grid of
//     inner evaluations; @ times are not multiples of a subquery step
//     ({T+3601}), and a nested subquery's inner range is not a multiple
//     of the outer step ([5m30s:1m] inside [15m:5m]).
//   - Prometheus 3 normalises classic histograms' le (and summaries'
//     quantile) label values when it scrapes ("1" becomes "1.0"); 2.42
//     does not. Neither does anything to stored labels at query time, and
//     both stores hold the strings of pdData (formatLe: "1", "+Inf"), so
//     it does not show here.
//   - Regular expressions: 3 lets . match a newline; no label value here
//     holds one.
//   - Sums (sum, avg, sum_over_time, avg_over_time, stddev, deriv, ...): 3
//     uses Kahan summation where 2.42 mostly does not; the answers differ in
//     the last bits, within the 1e-9 tolerance.
//
// NaN and ±Inf sample values cannot be stored in this server: /api/put
// refuses them as OpenTSDB does ("NaN" is not an integer, and a float that
// is NaN or Inf fails "value is NaN or Infinite"). Prometheus could hold
// them; the data holds only finite values, and NaN and ±Inf come from
// expressions (0/0, 1/0, ln of 0 and of negatives, sqrt of negatives, sums
// that overflow pd_huge, NaN and Inf literals) and go through every
// aggregation and function that follows.
type pdQuery struct {
	family string
	q      string
	flags  pdFlags
}

type pdFlags uint8

const (
	// pdOrdered: the instant answer's order counts (sort, sort_desc).
	pdOrdered pdFlags = 1 << iota
	// pdIgnoreName: __name__ is not compared (atan2, see above).
	pdIgnoreName
	// pdEmpty: every answer is a success with an empty result (both
	// agree on nothing, e.g. histogram_count of classic buckets).
	pdEmpty
	// pdError: every answer is an error (both fail alike).
	pdError
)

var pdQueries = []pdQuery{
	// Selectors.
	{family: "selector", q: `pd_gauge`},
	{family: "selector", q: `pd_gauge{job="api"}`},
	{family: "selector", q: `pd_gauge{job=~"d.*", instance!="i2"}`},
	{family: "selector", q: `pd_requests_total{code!~"2..", job!="api"}`},
	{family: "selector", q: `{__name__=~"pd_(gauge|temp)"}`},
	{family: "selector", q: `count by (__name__) ({job="api"})`},
	{family: "selector", q: `pd_sparse`},
	{family: "selector", q: `pd_gappy_total`},
	{family: "selector", q: `pd_late_total`},
	{family: "selector", q: `pd_gauge[2m]`},
	{family: "selector", q: `pd_sparse[10m]`},
	{family: "selector", q: `pd_huge`},
	{family: "selector", q: `pd_epoch`},
	{family: "selector", q: `42`},
	{family: "selector", q: `-1.5e3`},
	{family: "selector", q: `"a string"`},

	// Dotted names: {__name__="..."} in both; the quoted form on this
	// server (its __name__ form to Prometheus 2.42).
	{family: "dotted", q: `{__name__="pd.http.requests"}`},
	{family: "dotted", q: `{__name__="pd.http.requests", code="404"}`},
	{family: "dotted", q: `{__name__=~"pd[._]http[._]requests"}`},
	{family: "dotted", q: `{"pd.http.requests"}`},
	{family: "dotted", q: `{"pd.http.requests", code="200"}`},
	{family: "dotted", q: `sum by (code) ({"pd.http.requests"})`},
	{family: "dotted", q: `rate({"pd.http.requests"}[5m])`},
	{family: "dotted", q: `rate({__name__="pd.http.requests"}[5m])`},
	{family: "dotted", q: `label_replace({__name__="pd.http.requests"}, "name", "$1", "__name__", "(.*)")`},

	// Rates and other range functions over counters (with resets, gaps,
	// late starts) and gauges.
	{family: "rate", q: `rate(pd_requests_total[5m])`},
	{family: "rate", q: `rate(pd_requests_total[1m])`},
	{family: "rate", q: `rate(pd_requests_total{code="500"}[1h])`},
	{family: "rate", q: `rate(pd_gappy_total[5m])`},
	{family: "rate", q: `rate(pd_gappy_total[20m])`},
	{family: "rate", q: `rate(pd_late_total[5m])`},
	{family: "rate", q: `rate(pd_sparse_total[10m])`},
	{family: "rate", q: `increase(pd_sparse_total[30m])`},
	{family: "rate", q: `irate(pd_requests_total[2m])`},
	{family: "rate", q: `irate(pd_gappy_total[1m])`},
	{family: "rate", q: `irate(pd_sparse[15m])`},
	{family: "rate", q: `increase(pd_requests_total[10m])`},
	{family: "rate", q: `increase(pd_gappy_total[5m])`},
	{family: "rate", q: `increase(pd_late_total[15m])`},
	{family: "rate", q: `increase(pd_latency_seconds_count[30m])`},
	{family: "rate", q: `delta(pd_gauge[5m])`},
	{family: "rate", q: `delta(pd_sparse[15m])`},
	{family: "rate", q: `idelta(pd_gauge[1m])`},
	{family: "rate", q: `idelta(pd_sparse[10m])`},
	{family: "rate", q: `deriv(pd_gauge[10m])`},
	{family: "rate", q: `deriv(pd_sparse[30m])`},
	{family: "rate", q: `predict_linear(pd_gauge[15m], 600)`},
	{family: "rate", q: `predict_linear(pd_requests_total[5m], 3600)`},
	{family: "rate", q: `resets(pd_requests_total[30m])`},
	{family: "rate", q: `resets(pd_latency_seconds_bucket[1h])`},
	{family: "rate", q: `changes(pd_gauge[5m])`},
	{family: "rate", q: `changes(pd_temp[10m])`},

	// *_over_time.
	{family: "over_time", q: `avg_over_time(pd_gauge[5m])`},
	{family: "over_time", q: `avg_over_time(pd_huge[2m])`},
	{family: "over_time", q: `sum_over_time(pd_requests_total[2m])`},
	{family: "over_time", q: `sum_over_time(pd_huge[2m])`},
	{family: "over_time", q: `min_over_time(pd_temp[10m])`},
	{family: "over_time", q: `max_over_time(pd_gauge[1h])`},
	{family: "over_time", q: `max_over_time(pd_latency_seconds_sum[5m])`},
	{family: "over_time", q: `count_over_time(pd_sparse[30m])`},
	{family: "over_time", q: `count_over_time(pd_gappy_total[10m])`},
	{family: "over_time", q: `last_over_time(pd_sparse[10m])`},
	{family: "over_time", q: `quantile_over_time(0.9, pd_gauge[15m])`},
	{family: "over_time", q: `quantile_over_time(0, pd_temp[5m])`},
	{family: "over_time", q: `quantile_over_time(1, pd_temp[5m])`},
	{family: "over_time", q: `quantile_over_time(0.25, pd_sparse[1h])`},
	{family: "over_time", q: `quantile_over_time(-1, pd_gauge[5m])`},
	{family: "over_time", q: `quantile_over_time(2, pd_gauge[5m])`},
	{family: "over_time", q: `stddev_over_time(pd_gauge[10m])`},
	{family: "over_time", q: `stddev_over_time(pd_sparse[1h])`},
	{family: "over_time", q: `stdvar_over_time(pd_temp[30m])`},
	{family: "over_time", q: `present_over_time(pd_sparse[5m])`},
	{family: "over_time", q: `absent_over_time(pd_sparse{id="1"}[5m])`},
	{family: "over_time", q: `absent_over_time(pd_gappy_total{job="api"}[3m])`},
	{family: "over_time", q: `absent_over_time(pd_nothing{job="x", code=~"5.."}[5m])`},

	// Mathematical functions and arithmetic, NaN and ±Inf included.
	{family: "math", q: `abs(pd_temp)`},
	{family: "math", q: `ceil(pd_gauge)`},
	{family: "math", q: `floor(pd_temp)`},
	{family: "math", q: `round(pd_gauge)`},
	{family: "math", q: `round(pd_gauge, 5)`},
	{family: "math", q: `round(pd_temp, 0.3)`},
	{family: "math", q: `clamp(pd_gauge, 40, 60)`},
	{family: "math", q: `clamp(pd_gauge, 60, 40)`, flags: pdEmpty},
	{family: "math", q: `clamp_max(pd_temp, 1)`},
	{family: "math", q: `clamp_min(pd_temp, -1)`},
	{family: "math", q: `exp(pd_temp)`},
	{family: "math", q: `exp(pd_gauge * 10)`},
	{family: "math", q: `ln(pd_temp)`},
	{family: "math", q: `log2(pd_gauge)`},
	{family: "math", q: `log10(pd_temp)`},
	{family: "math", q: `sqrt(pd_temp)`},
	{family: "math", q: `sgn(pd_temp)`},
	{family: "math", q: `sin(pd_gauge) + cos(pd_gauge)`},
	{family: "math", q: `tan(pd_temp)`},
	{family: "math", q: `asin(pd_temp / 10) + acos(pd_temp / 10) * atan(pd_temp)`},
	{family: "math", q: `sinh(pd_temp) - cosh(pd_temp) + tanh(pd_temp)`},
	{family: "math", q: `acosh(pd_gauge)`},
	{family: "math", q: `asinh(pd_temp) + atanh(pd_temp / 5)`},
	{family: "math", q: `deg(pd_temp)`},
	{family: "math", q: `rad(pd_gauge)`},
	{family: "math", q: `pi() * pd_temp`},
	{family: "math", q: `-pd_gauge ^ 2 % 7`},
	{family: "math", q: `pd_temp % 0`},
	{family: "math", q: `pd_gauge atan2 pd_gauge`, flags: pdIgnoreName},
	{family: "math", q: `pd_temp atan2 1`, flags: pdIgnoreName},

	// NaN and ±Inf from expressions, and what aggregations make of them.
	{family: "nan_inf", q: `0 / 0`},
	{family: "nan_inf", q: `1 / 0`},
	{family: "nan_inf", q: `-1 / 0`},
	{family: "nan_inf", q: `vector(NaN)`},
	{family: "nan_inf", q: `pd_temp + -Inf`},
	{family: "nan_inf", q: `pd_temp / 0`},
	{family: "nan_inf", q: `pd_temp / pd_temp`},
	{family: "nan_inf", q: `sum(pd_temp / 0)`},
	{family: "nan_inf", q: `avg(1 / pd_temp)`},
	{family: "nan_inf", q: `max(ln(pd_temp))`},
	{family: "nan_inf", q: `min(ln(pd_temp))`},
	{family: "nan_inf", q: `topk(3, ln(pd_temp))`},
	{family: "nan_inf", q: `quantile(0.5, sqrt(pd_temp))`},
	{family: "nan_inf", q: `count_values("v", ln(pd_temp))`},
	{family: "nan_inf", q: `sum(pd_huge)`},
	{family: "nan_inf", q: `sum(pd_huge{k!="c"})`},
	{family: "nan_inf", q: `avg(pd_huge)`},
	{family: "nan_inf", q: `avg(pd_huge{k!="c"})`},
	{family: "nan_inf", q: `avg(pd_huge * 10)`},
	{family: "nan_inf", q: `stddev(pd_huge)`},
	{family: "nan_inf", q: `pd_huge * 10 > 0`},
	{family: "nan_inf", q: `pd_gauge * NaN`},
	{family: "nan_inf", q: `pd_gauge < Inf`},
	{family: "nan_inf", q: `pd_gauge == bool NaN`},
	{family: "nan_inf", q: `clamp(ln(pd_temp), -1, 1)`},
	{family: "nan_inf", q: `histogram_quantile(0.5, sum by (le) (rate(pd_latency_seconds_bucket[5m])) * NaN)`},

	// Time and date functions.
	{family: "time", q: `time()`},
	{family: "time", q: `timestamp(pd_gauge)`},
	{family: "time", q: `time() - timestamp(pd_sparse)`},
	{family: "time", q: `timestamp(pd_sparse @ {T+5000})`},
	{family: "time", q: `minute() + hour() * 60`},
	{family: "time", q: `day_of_week() + day_of_month() + day_of_year()`},
	{family: "time", q: `days_in_month() + month() * 100 + year() * 10000`},
	{family: "time", q: `minute(pd_epoch)`},
	{family: "time", q: `hour(pd_epoch)`},
	{family: "time", q: `day_of_week(pd_epoch)`},
	{family: "time", q: `day_of_month(pd_epoch)`},
	{family: "time", q: `day_of_year(pd_epoch)`},
	{family: "time", q: `days_in_month(pd_epoch)`},
	{family: "time", q: `month(pd_epoch)`},
	{family: "time", q: `year(pd_epoch)`},
	{family: "time", q: `hour(timestamp(pd_gauge))`},

	// Labels.
	{family: "label", q: `label_replace(pd_gauge, "host", "$1", "instance", "i(.*)")`},
	{family: "label", q: `label_replace(pd_gauge, "job", "", "job", ".*")`, flags: pdError}, // duplicate label sets
	{family: "label", q: `label_replace(pd_requests_total, "dst", "$1-$2", "job", "(a)(.*)")`},
	{family: "label", q: `label_replace(pd_gauge, "m", "$1", "__name__", "pd_(.*)")`},
	{family: "label", q: `label_join(pd_requests_total, "key", "/", "job", "instance", "code")`},
	{family: "label", q: `label_join(pd_gauge, "x", ",", "nothing")`},
	{family: "label", q: `label_replace(pd_gauge{job="api"}, "job", "", "job", "a.*")`},
	{family: "label", q: `label_replace(pd_gauge, "instance", "same", "instance", ".*")`, flags: pdError}, // duplicate label sets

	// Sorting, scalar, vector, absent.
	{family: "sort", q: `sort(pd_gauge)`, flags: pdOrdered},
	{family: "sort", q: `sort_desc(pd_temp)`, flags: pdOrdered},
	{family: "sort", q: `sort_desc(sum by (job) (pd_gauge))`, flags: pdOrdered},
	{family: "sort", q: `sort(pd_latency_seconds_sum)`, flags: pdOrdered},
	{family: "scalar", q: `scalar(pd_gauge{job="api", instance="i1"})`},
	{family: "scalar", q: `scalar(pd_gauge)`},
	{family: "scalar", q: `scalar(pd_sparse{id="1"})`},
	{family: "scalar", q: `vector(1)`},
	{family: "scalar", q: `vector(time())`},
	{family: "scalar", q: `pd_gauge - scalar(avg(pd_gauge))`},
	{family: "scalar", q: `scalar(sum(pd_temp)) * pd_temp`},
	{family: "absent", q: `absent(pd_gauge)`},
	{family: "absent", q: `absent(pd_nothing{job="x", code=~"5.."})`},
	{family: "absent", q: `absent(pd_sparse{id="1"})`},
	{family: "absent", q: `absent(pd_gappy_total{job="db"})`},
	{family: "absent", q: `absent(sum(pd_nothing))`},

	// Classic histograms (le buckets).
	{family: "histogram", q: `histogram_quantile(0.9, rate(pd_latency_seconds_bucket[5m]))`},
	{family: "histogram", q: `histogram_quantile(0.5, sum by (le) (rate(pd_latency_seconds_bucket[10m])))`},
	{family: "histogram", q: `histogram_quantile(0.99, sum by (job, le) (increase(pd_latency_seconds_bucket[1h])))`},
	{family: "histogram", q: `histogram_quantile(0, rate(pd_latency_seconds_bucket[5m]))`},
	{family: "histogram", q: `histogram_quantile(1, rate(pd_latency_seconds_bucket[5m]))`},
	{family: "histogram", q: `histogram_quantile(1.5, rate(pd_latency_seconds_bucket[5m]))`},
	{family: "histogram", q: `histogram_quantile(-0.5, rate(pd_latency_seconds_bucket[5m]))`},
	{family: "histogram", q: `histogram_quantile(0.5, pd_latency_seconds_bucket)`},
	{family: "histogram", q: `histogram_quantile(0.75, pd_latency_seconds_bucket{le!="0.25"})`},
	{family: "histogram", q: `histogram_quantile(0.5, pd_latency_seconds_bucket{le!="+Inf"})`},
	{family: "histogram", q: `rate(pd_latency_seconds_sum[5m]) / rate(pd_latency_seconds_count[5m])`},
	{family: "histogram", q: `histogram_count(pd_latency_seconds_bucket)`, flags: pdEmpty},
	{family: "histogram", q: `histogram_sum(pd_latency_seconds_bucket)`, flags: pdEmpty},

	// Aggregations.
	{family: "aggregation", q: `sum(pd_gauge)`},
	{family: "aggregation", q: `sum by (job) (pd_gauge)`},
	{family: "aggregation", q: `sum without (instance) (pd_requests_total)`},
	{family: "aggregation", q: `avg by (code) (rate(pd_requests_total[5m]))`},
	{family: "aggregation", q: `min(pd_temp)`},
	{family: "aggregation", q: `max by (job) (pd_gauge)`},
	{family: "aggregation", q: `count(pd_gauge)`},
	{family: "aggregation", q: `count by (id) (pd_sparse)`},
	{family: "aggregation", q: `group by (job) (pd_requests_total)`},
	{family: "aggregation", q: `group(pd_gauge)`},
	{family: "aggregation", q: `stddev(pd_gauge)`},
	{family: "aggregation", q: `stdvar by (job) (pd_gauge)`},
	{family: "aggregation", q: `topk(3, pd_gauge)`},
	{family: "aggregation", q: `topk by (job) (1, pd_gauge)`},
	{family: "aggregation", q: `bottomk(2, pd_temp)`},
	{family: "aggregation", q: `bottomk without (instance) (1, pd_gauge)`},
	{family: "aggregation", q: `topk(2, rate(pd_requests_total{code="200"}[5m]))`},
	{family: "aggregation", q: `quantile(0.5, pd_gauge)`},
	{family: "aggregation", q: `quantile by (job) (0.9, rate(pd_requests_total[5m]))`},
	{family: "aggregation", q: `quantile(0, pd_temp)`},
	{family: "aggregation", q: `quantile(1.5, pd_gauge)`},
	{family: "aggregation", q: `count_values("value", round(pd_temp))`},
	{family: "aggregation", q: `count_values by (job) ("v", ceil(pd_gauge / 50))`},
	{family: "aggregation", q: `sum(pd_nothing)`, flags: pdEmpty},
	{family: "aggregation", q: `count(count by (job) (pd_gauge))`},
	{family: "aggregation", q: `max without (code, instance) (increase(pd_requests_total[10m]))`},

	// Binary operators and vector matching.
	{family: "binary", q: `1 + 2 * 3 - 4 / 8`},
	{family: "binary", q: `2 ^ 3 ^ 2`},
	{family: "binary", q: `-2 ^ 2`},
	{family: "binary", q: `5 % 3 + 1 > bool 2`},
	{family: "binary", q: `pd_gauge * 2 + 1`},
	{family: "binary", q: `2 - pd_gauge`},
	{family: "binary", q: `pd_gauge / -0.5`},
	{family: "binary", q: `pd_gauge + pd_gauge`},
	{family: "binary", q: `pd_gauge - pd_gauge offset 1h`},
	{family: "binary", q: `pd_gauge > 50`},
	{family: "binary", q: `pd_gauge > bool 50`},
	{family: "binary", q: `50 < pd_gauge`},
	{family: "binary", q: `pd_temp < 0`},
	{family: "binary", q: `pd_gauge != 0`},
	{family: "binary", q: `pd_gauge == bool pd_gauge`},
	{family: "binary", q: `pd_temp >= pd_temp offset 5m`},
	{family: "binary", q: `pd_temp <= bool pd_temp offset 5m`},
	{family: "binary", q: `pd_requests_total / on (job, instance) group_left pd_gauge`},
	{family: "binary", q: `pd_gauge * on (job) group_left (version) pd_build_info`},
	{family: "binary", q: `pd_build_info * on (job) group_right (version) pd_gauge`},
	{family: "binary", q: `pd_requests_total + ignoring (code) group_left pd_gauge`},
	{family: "binary", q: `rate(pd_requests_total[5m]) / ignoring (code) group_left sum without (code) (rate(pd_requests_total[5m]))`},
	{family: "binary", q: `sum by (job) (pd_gauge) / on () group_left sum(pd_gauge)`},
	{family: "binary", q: `pd_gauge > on (job) group_left max by (job) (pd_gauge) - 10`},
	{family: "binary", q: `pd_gauge and pd_gauge > 60`},
	{family: "binary", q: `pd_gauge or pd_temp`},
	{family: "binary", q: `pd_gauge unless pd_gauge > 60`},
	{family: "binary", q: `pd_gauge and on (job) pd_build_info{version="1.2.3"}`},
	{family: "binary", q: `pd_requests_total unless ignoring (code) pd_requests_total{code="500"} > 3000`},
	{family: "binary", q: `pd_sparse or on () vector(0)`},
	// What the hand-written engine before Prometheus's got wrong (#15).
	{family: "binary", q: `pd_nothing * on (job) pd_requests_total`, flags: pdEmpty},
	{family: "binary", q: `pd_requests_total * on (job) pd_nothing`, flags: pdEmpty},
	{family: "binary", q: `pd_gauge > on (job, instance) pd_gauge offset 1m`},
	{family: "binary", q: `pd_gauge * on () 2`},
	{family: "binary", q: `1 + ignoring () 2`},
	{family: "rate", q: `rate((pd_requests_total[5m]))`},
	{family: "nan_inf", q: `avg(pd_temp / 0)`},
	{family: "nan_inf", q: `avg by (room) (pd_temp / 0)`},
	{family: "binary", q: `pd_requests_total + on (job) pd_gauge`, flags: pdError},            // many-to-many
	{family: "binary", q: `pd_gauge + on (job) group_left pd_requests_total`, flags: pdError}, // many on both sides
	{family: "binary", q: `rate(pd_gauge)`, flags: pdError},                                   // a parse error
	{family: "binary", q: `sum(pd_gauge`, flags: pdError},                                     // a parse error

	// Subqueries.
	{family: "subquery", q: `max_over_time(rate(pd_requests_total[5m])[30m:1m])`},
	{family: "subquery", q: `avg_over_time(pd_gauge[10m:30s])`},
	{family: "subquery", q: `min_over_time(deriv(pd_gauge[5m])[20m:2m] offset 5m)`},
	{family: "subquery", q: `sum_over_time(pd_gauge[1h:5m])`},
	{family: "subquery", q: `rate(pd_requests_total[10m:1m])`},
	{family: "subquery", q: `max_over_time(pd_gauge[5m:])`},
	{family: "subquery", q: `avg_over_time(sum by (job) (rate(pd_requests_total[2m]))[15m:1m])`},
	{family: "subquery", q: `max_over_time(pd_gauge[10m:1m] @ {T+3601})`},
	{family: "subquery", q: `max_over_time(avg_over_time(pd_gauge[5m30s:1m])[15m:5m])`},
	{family: "subquery", q: `quantile_over_time(0.5, rate(pd_requests_total[5m])[30m:2m])`},
	{family: "subquery", q: `count_over_time(pd_sparse[30m:1m])`},

	// Offset and @.
	{family: "offset_at", q: `pd_gauge offset 10m`},
	{family: "offset_at", q: `pd_gauge offset -5m`},
	{family: "offset_at", q: `rate(pd_requests_total[5m] offset 1h)`},
	{family: "offset_at", q: `pd_gauge @ {T+3600}`},
	{family: "offset_at", q: `rate(pd_requests_total[5m] @ {T+1800})`},
	{family: "offset_at", q: `pd_gauge @ start()`},
	{family: "offset_at", q: `pd_gauge @ end()`},
	{family: "offset_at", q: `sum by (job) (pd_gauge @ {T+600})`},
	{family: "offset_at", q: `pd_gauge @ {T+3600} offset 10m`},
	{family: "offset_at", q: `avg_over_time(pd_temp[10m] @ end())`},
	{family: "offset_at", q: `pd_gappy_total @ {T+2100}`, flags: pdEmpty},
}
