package promql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var testData = memStorage{
	// A counter with a reset at 30 s.
	ser(`reqs{job=api}`, 0, 10, 15, 20, 30, 5, 45, 15, 60, 25),
	// A counter that starts inside the window: extrapolated by half an
	// interval at the start.
	ser(`late{job=api}`, 30, 100, 45, 110, 60, 120),
	// A counter near zero: the extrapolation stops at its zero point.
	ser(`small{job=api}`, 15, 1, 30, 11, 45, 21, 60, 31),
	// A gauge.
	ser(`temp{room=a}`, 15, 10, 30, 4, 45, 8, 60, 1),
	// Samples 10 minutes apart: a gap in the 5-minute lookback.
	ser(`sparse`, 0, 1, 600, 2),
	// An aggregation's input, with a tie at 5.
	ser(`m{job=a,instance=1}`, 0, 1),
	ser(`m{job=a,instance=2}`, 0, 3),
	ser(`m{job=b,instance=1}`, 0, 5),
	ser(`m{job=b,instance=3}`, 0, 5),
	ser(`n{job=a,instance=1}`, 0, 2),
	ser(`n{job=a,instance=2}`, 0, 4),
	// A histogram's cumulative buckets, one set not monotonic, one without +Inf.
	ser(`h_bucket{le=0.1}`, 0, 10),
	ser(`h_bucket{le=0.5}`, 0, 30),
	ser(`h_bucket{le=1}`, 0, 40),
	ser(`h_bucket{le=+Inf}`, 0, 50),
	ser(`nm_bucket{le=0.1}`, 0, 10),
	ser(`nm_bucket{le=0.5}`, 0, 30),
	ser(`nm_bucket{le=1}`, 0, 25),
	ser(`nm_bucket{le=+Inf}`, 0, 50),
	ser(`noinf_bucket{le=1}`, 0, 5),
	ser(`neg_bucket{le=-1}`, 0, 10),
	ser(`neg_bucket{le=+Inf}`, 0, 20),
	// Dotted OpenTSDB names.
	ser(`order_count.count{region=eu}`, 0, 7, 60, 9),
	ser(`order_count.count{region=us}`, 0, 3, 60, 4),
}

func TestEvalInstant(t *testing.T) {
	for _, c := range []struct {
		q    string
		at   float64
		want string
	}{
		// rate over (0, 60]: 20, 5, 15, 25 at 15…60 s; the reset adds 20:
		// an increase of 25 over 45 s, extrapolated 15 s to the start
		// (less than 1.1 × the 15 s interval), 0 s to the end.
		{`rate(reqs[1m])`, 60, `{job="api"} 60:0.555555555556`},
		{`increase(reqs[1m])`, 60, `{job="api"} 60:33.3333333333`},
		// the first sample 30 s after the start (≥ 16.5 s): extrapolated by
		// half an interval (7.5 s): 20 × 37.5/30.
		{`increase(late[1m])`, 60, `{job="api"} 60:25`},
		{`rate(late[1m])`, 60, `{job="api"} 60:0.416666666667`},
		// the zero point is 1.5 s before the first sample: 30 × 46.5/45.
		{`increase(small[1m])`, 60, `{job="api"} 60:31`},
		// a gauge: no reset correction, no zero clamp: -9 × 60/45.
		{`delta(temp[1m])`, 60, `{room="a"} 60:-12`},
		{`irate(reqs[1m])`, 60, `{job="api"} 60:0.666666666667`},
		// the last two are 20, 5: a reset, so 5 over 15 s.
		{`irate(reqs[1m])`, 30, `{job="api"} 30:0.333333333333`},
		{`idelta(reqs[1m])`, 30, `{job="api"} 30:-15`},
		{`idelta(temp[1m])`, 60, `{room="a"} 60:-7`},
		// one sample in the window: no rate.
		{`rate(reqs[10s])`, 60, ``},
		{`avg_over_time(temp[1m])`, 60, `{room="a"} 60:5.75`},
		{`sum_over_time(temp[1m])`, 60, `{room="a"} 60:23`},
		{`min_over_time(temp[1m])`, 60, `{room="a"} 60:1`},
		{`max_over_time(temp[1m])`, 60, `{room="a"} 60:10`},
		{`count_over_time(temp[1m])`, 60, `{room="a"} 60:4`},
		{`last_over_time(temp[1m])`, 60, `{__name__="temp", room="a"} 60:1`},
		// (t-r, t] is left-open: the sample at 15 s is out of (15, 60].
		{`count_over_time(temp[45s])`, 60, `{room="a"} 60:3`},
		{`temp offset 30s`, 60, `{__name__="temp", room="a"} 60:4`},
		{`max_over_time(temp[30s] offset 15s)`, 60, `{room="a"} 60:8`},
		{`sum by (job) (m)`, 0, "{job=\"a\"} 0:4\n{job=\"b\"} 0:10"},
		{`sum(m) by (job)`, 0, "{job=\"a\"} 0:4\n{job=\"b\"} 0:10"},
		{`avg by (job) (m)`, 0, "{job=\"a\"} 0:2\n{job=\"b\"} 0:5"},
		{`min without (instance) (m)`, 0, "{job=\"a\"} 0:1\n{job=\"b\"} 0:5"},
		{`max(m)`, 0, `{} 0:5`},
		{`count(m)`, 0, `{} 0:4`},
		{`count by (instance) (m)`, 0, "{instance=\"1\"} 0:2\n{instance=\"2\"} 0:1\n{instance=\"3\"} 0:1"},
		{`sum without (job, instance) (m)`, 0, `{} 0:14`},
		// of the tie at 5, the first series by labels wins.
		{`topk(1, m)`, 0, `{__name__="m", instance="1", job="b"} 0:5`},
		{`topk(2, m)`, 0, "{__name__=\"m\", instance=\"1\", job=\"b\"} 0:5\n{__name__=\"m\", instance=\"3\", job=\"b\"} 0:5"},
		{`topk by (job) (1, m)`, 0, "{__name__=\"m\", instance=\"1\", job=\"b\"} 0:5\n{__name__=\"m\", instance=\"2\", job=\"a\"} 0:3"},
		{`bottomk(1, m)`, 0, `{__name__="m", instance="1", job="a"} 0:1`},
		{`topk(0, m)`, 0, ``},
		{`m * 2`, 0, "{instance=\"1\", job=\"a\"} 0:2\n{instance=\"1\", job=\"b\"} 0:10\n{instance=\"2\", job=\"a\"} 0:6\n{instance=\"3\", job=\"b\"} 0:10"},
		{`10 - m{job="a"}`, 0, "{instance=\"1\", job=\"a\"} 0:9\n{instance=\"2\", job=\"a\"} 0:7"},
		{`m{job="a"} ^ 2 % 5`, 0, "{instance=\"1\", job=\"a\"} 0:1\n{instance=\"2\", job=\"a\"} 0:4"},
		{`-m{job="a"}`, 0, "{instance=\"1\", job=\"a\"} 0:-1\n{instance=\"2\", job=\"a\"} 0:-3"},
		{`m > 2`, 0, "{__name__=\"m\", instance=\"1\", job=\"b\"} 0:5\n{__name__=\"m\", instance=\"2\", job=\"a\"} 0:3\n{__name__=\"m\", instance=\"3\", job=\"b\"} 0:5"},
		// a scalar on the left: the vector's values are kept.
		{`4 > m`, 0, "{__name__=\"m\", instance=\"1\", job=\"a\"} 0:1\n{__name__=\"m\", instance=\"2\", job=\"a\"} 0:3"},
		{`m{job="a"} > bool 2`, 0, "{instance=\"1\", job=\"a\"} 0:0\n{instance=\"2\", job=\"a\"} 0:1"},
		{`m == 5`, 0, "{__name__=\"m\", instance=\"1\", job=\"b\"} 0:5\n{__name__=\"m\", instance=\"3\", job=\"b\"} 0:5"},
		{`m / n`, 0, "{instance=\"1\", job=\"a\"} 0:0.5\n{instance=\"2\", job=\"a\"} 0:0.75"},
		{`m < n`, 0, "{__name__=\"m\", instance=\"1\", job=\"a\"} 0:1\n{__name__=\"m\", instance=\"2\", job=\"a\"} 0:3"},
		{`m >= bool n`, 0, "{instance=\"1\", job=\"a\"} 0:0\n{instance=\"2\", job=\"a\"} 0:0"},
		{`m / on(instance, job) n`, 0, "{instance=\"1\", job=\"a\"} 0:0.5\n{instance=\"2\", job=\"a\"} 0:0.75"},
		{`sum by (job) (m) / on(job) sum by (job) (n)`, 0, `{job="a"} 0:0.666666666667`},
		{`1 + 2 * 3`, 0, `scalar 7`},
		{`2 ^ 3 ^ 2`, 0, `scalar 512`},
		{`-2 ^ 2`, 0, `scalar -4`},
		{`7 % 4 - (1 - 1)`, 0, `scalar 3`},
		{`1 == bool 1`, 0, `scalar 1`},
		{`1 / 0`, 0, `scalar +Inf`},
		{`time()`, 0, `scalar 1699999800`},
		{`scalar(sum(m))`, 0, `scalar 14`},
		{`scalar(m)`, 0, `scalar NaN`},
		{`vector(3) * 2`, 0, `{} 0:6`},
		{`abs(-m{job="a"})`, 0, "{instance=\"1\", job=\"a\"} 0:1\n{instance=\"2\", job=\"a\"} 0:3"},
		{`ceil(temp / 3)`, 60, `{room="a"} 60:1`},
		{`floor(temp / 3)`, 45, `{room="a"} 45:2`},
		{`round(temp / 3)`, 45, `{room="a"} 45:3`},
		{`round(temp, 5)`, 45, `{room="a"} 45:10`},
		{`histogram_quantile(0.5, h_bucket)`, 0, `{} 0:0.4`},
		{`histogram_quantile(0.1, h_bucket)`, 0, `{} 0:0.05`},
		{`histogram_quantile(0.9, h_bucket)`, 0, `{} 0:1`},
		{`histogram_quantile(1.5, h_bucket)`, 0, `{} 0:+Inf`},
		{`histogram_quantile(-1, h_bucket)`, 0, `{} 0:-Inf`},
		// le=1 holds 25 < 30: counted as 30, so 35 falls in (1, +Inf].
		{`histogram_quantile(0.7, nm_bucket)`, 0, `{} 0:1`},
		{`histogram_quantile(0.5, noinf_bucket)`, 0, `{} 0:NaN`},
		// the lowest bucket's upper bound is not above 0: it is the answer.
		{`histogram_quantile(0.25, neg_bucket)`, 0, `{} 0:-1`},
		{`histogram_quantile(0.5, sum by (le) (h_bucket))`, 0, `{} 0:0.4`},
		{`{__name__="order_count.count"}`, 60, "{__name__=\"order_count.count\", region=\"eu\"} 60:9\n{__name__=\"order_count.count\", region=\"us\"} 60:4"},
		{`{"order_count.count", region!="eu"}`, 60, `{__name__="order_count.count", region="us"} 60:4`},
		{`{__name__=~"order_count\\..*", region=~"e.|x"}`, 60, `{__name__="order_count.count", region="eu"} 60:9`},
		{`{__name__=~"order_count.count", region!~"e.*"}`, 60, `{__name__="order_count.count", region="us"} 60:4`},
		{`sum(increase({__name__="order_count.count"}[2m]))`, 60, `{} 60:6`},
		{`m{job="nosuch"}`, 0, ``},
		{`m{job=""}`, 0, ``},
		{`sparse{job=""}`, 0, `{__name__="sparse"} 0:1`},
	} {
		got := instant(t, testData, c.q, c.at)
		if got != c.want {
			t.Errorf("%s at %v:\n got %s\nwant %s", c.q, c.at, got, c.want)
		}
	}
}

func TestEvalRange(t *testing.T) {
	for _, c := range []struct {
		q                string
		start, end, step float64
		want             string
	}{
		// 5-minute lookback, left-open: the sample at 0 is seen at 0…299 s,
		// not at 300 s; the one at 600 s from 600 s.
		{`sparse`, 0, 700, 100, `{__name__="sparse"} 0:1 100:1 200:1 600:2 700:2`},
		{`sparse`, 299, 300, 1, `{__name__="sparse"} 299:1`},
		{`reqs`, 0, 60, 15, `{__name__="reqs", job="api"} 0:10 15:20 30:5 45:15 60:25`},
		{`rate(reqs[30s])`, 30, 60, 15,
			// at 30 s, (0,30] holds 20, 5: a reset, an increase of 5 over
			// 15 s, extrapolated 15 s to the start (the zero point is 60 s
			// back): 5×30/15/30. At 45 s, 5, 15: the zero point is 7.5 s
			// back, nearer than 15 s: 10×22.5/15/30.
			`{job="api"} 30:0.333333333333 45:0.5 60:0.666666666667`},
		{`1 + 1`, 0, 30, 15, `{} 0:2 15:2 30:2`},
		{`time()`, 0, 1, 0.5, `{} 0:1699999800 0.500:1699999800.5 1:1699999801`},
		{`sum(m)`, 0, 600, 300, `{} 0:14`},
	} {
		e, err := Parse(c.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.q, err)
		}
		r, err := EvalRange(context.Background(), testData, e, at(c.start), at(c.end), int64(c.step*1000), Limits{})
		if err != nil {
			t.Fatalf("EvalRange(%q): %v", c.q, err)
		}
		if got := fmtResult(r); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.q, got, c.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	dupNames := memStorage{ser(`a{x=1}`, 0, 1, 15, 2), ser(`b{x=1}`, 0, 1, 15, 2)}
	for _, c := range []struct {
		st   Storage
		q    string
		lim  Limits
		want string
	}{
		{testData, `m - ignoring(instance) sum by (job) (m)`, Limits{},
			`multiple matches for labels {__name__="m", instance="2", job="a"}: many-to-one matching must be explicit (group_left/group_right), which is unsupported`},
		{testData, `sum by (job) (m) - on(instance) m`, Limits{},
			`found duplicate series for the match group {__name__="m", instance="1", job="b"} on the right hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side`},
		{dupNames, `rate({x="1"}[1m])`, Limits{}, `vector cannot contain metrics with the same labelset`},
		{dupNames, `{x="1"} * 2`, Limits{}, `vector cannot contain metrics with the same labelset`},
		{testData, `m`, Limits{MaxSeries: 3}, `the selector sel matches more than 3 series (the limit of series per selector)`},
		{testData, `reqs`, Limits{MaxSamples: 2}, `the query reads more than 2 samples (the limit of samples per query)`},
		{testData, `m`, Limits{MaxPoints: 3}, `the result has more than 3 points (the limit of points per query)`},
		{testData, `topk(scalar(m), m)`, Limits{}, `parameter value is NaN for topk`},
	} {
		e, err := Parse(c.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.q, err)
		}
		_, err = EvalRange(context.Background(), c.st, e, at(0), at(30), 15000, c.lim)
		var ee *ExecError
		if !errors.As(err, &ee) || err.Error() != c.want {
			t.Errorf("%s: got %v (%T)\nwant *ExecError %s", c.q, err, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, _ := Parse(`m`)
	if _, err := EvalRange(ctx, testData, e, at(0), at(30), 15000, Limits{}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("canceled: got %v", err)
	}
	e, _ = Parse(`m[1m]`)
	if _, err := EvalRange(context.Background(), testData, e, at(0), at(30), 15000, Limits{}); err == nil ||
		err.Error() != `1:1: parse error: invalid expression type "range vector" for range query, must be Scalar or instant Vector` {
		t.Errorf("matrix range query: got %v", err)
	}
}

func TestEvalInstantMatrixAndString(t *testing.T) {
	e, _ := Parse(`temp[30s]`)
	r, err := EvalInstant(context.Background(), testData, e, at(60), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.AppendJSON(nil)), `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"temp","room":"a"},"values":[[1699999845,"8"],[1699999860,"1"]]}]}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e, _ = Parse(`"a\"b"`)
	r, _ = EvalInstant(context.Background(), testData, e, at(0.5), Limits{})
	if got, want := string(r.AppendJSON(nil)), `{"status":"success","data":{"resultType":"string","result":[1699999800.500,"a\"b"]}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e, _ = Parse(`m{job="a"} / 0`)
	r, _ = EvalInstant(context.Background(), testData, e, at(0), Limits{})
	if got, want := string(r.AppendJSON(nil)), `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"1","job":"a"},"value":[1699999800,"+Inf"]},{"metric":{"instance":"2","job":"a"},"value":[1699999800,"+Inf"]}]}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e, _ = Parse(`-1/0 + 0/0`)
	r, _ = EvalInstant(context.Background(), testData, e, 1001, Limits{})
	if got, want := string(r.AppendJSON(nil)), `{"status":"success","data":{"resultType":"scalar","result":[1.001,"NaN"]}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEvalDeadline(t *testing.T) {
	// a long range query stops at the context's deadline.
	e, _ := Parse(`sum(rate(reqs[1h])) + count(m)`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	time.Sleep(30 * time.Millisecond)
	_, err := EvalRange(ctx, testData, e, at(0), at(1e7), 1000, Limits{})
	var ee *ExecError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("got %v", err)
	}
}
