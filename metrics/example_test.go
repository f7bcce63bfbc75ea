package metrics_test

import (
	"fmt"
	"time"

	"github.com/apptuit-go/apptuit/metrics"
)

func ExampleRegistry_Counter() {
	r := metrics.NewRegistry()
	c, err := r.Counter(`order_count{"city": "NYC"}`)
	if err != nil {
		panic(err)
	}
	c.Inc()
	// The same series, with the tags given as a map.
	same, _ := r.CounterWith("order_count", map[string]string{"city": "NYC"})
	same.Add(2)
	fmt.Println(c.Count())
	// Output: 3
}

func ExampleRegistry_Each() {
	r := metrics.NewRegistry()
	r.CounterWith("requests", map[string]string{"status": "500"})
	r.GaugeFunc("queue.length", func() float64 { return 7 })
	h, _ := r.Histogram("response.bytes")
	h.Update(100)
	h.Update(300)

	r.Each(func(name string, tags map[string]string, m any) {
		switch m := m.(type) {
		case *metrics.Counter:
			fmt.Println(name, tags, "count", m.Count())
		case *metrics.GaugeFunc:
			fmt.Println(name, tags, "value", m.Value())
		case *metrics.Histogram:
			s := m.SnapshotAndReset()
			fmt.Println(name, tags, "count", s.Count, "sum", s.Sum, "max", s.Max)
		}
	})
	// Output:
	// queue.length map[] value 7
	// requests map[status:500] count 0
	// response.bytes map[] count 2 sum 400 max 300
}

func ExampleTimer_Time() {
	r := metrics.NewRegistry()
	t, _ := r.TimerWith("db.query", map[string]string{"table": "orders"})
	t.Time(func() {
		time.Sleep(time.Millisecond)
	})
	s := t.Snapshot()
	fmt.Println(s.Histogram.Count, s.Histogram.Min >= 0.001) // seconds
	// Output: 1 true
}

func ExampleTimer_Start() {
	t := metrics.NewTimer()
	c := t.Start()
	time.Sleep(time.Millisecond)
	d := c.Stop()
	fmt.Println(t.Count(), d >= time.Millisecond)
	// Output: 1 true
}

func ExampleMeter() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := metrics.NewRegistry(metrics.WithClock(func() time.Time { return now }))
	m, _ := r.Meter("logins")
	for range 60 { // 10 logins a second for a minute
		m.Mark(10)
		now = now.Add(time.Second)
	}
	s := m.Snapshot()
	fmt.Printf("count %d, mean %.1f/s, 1-minute rate %.1f/s\n", s.Count, s.MeanRate, s.Rate1)
	// Output: count 600, mean 10.0/s, 1-minute rate 10.0/s
}

func ExampleHistogram_SnapshotAndReset() {
	h := metrics.NewHistogram()
	for i := 1; i <= 100; i++ {
		h.Update(float64(i))
	}
	s := h.SnapshotAndReset()
	fmt.Println(s.Count, s.Sum, s.Min, s.Max, s.Mean)
	fmt.Printf("p50 %.3g, p99 %.3g\n", s.P50, s.P99) // within 0.979 % of 50 and 99
	s = h.SnapshotAndReset()                         // an empty interval: Min... describe nothing
	fmt.Println(s.Count, s.Sum, s.IntervalCount)
	// Output:
	// 100 5050 1 100 50.5
	// p50 50.3, p99 98.6
	// 100 5050 0
}

func ExampleRegistry_Unregister() {
	r := metrics.NewRegistry()
	c, _ := r.CounterWith("sessions", map[string]string{"user": "ada"})
	c.Inc()
	// Addressed as the getters address it: encoded or with a map.
	fmt.Println(r.Unregister(`sessions{"user": "ada"}`, nil), r.Len())
	fmt.Println(r.Unregister("sessions", map[string]string{"user": "ada"}))
	c.Inc() // the detached counter still works, but nothing reports it
	fresh, _ := r.CounterWith("sessions", map[string]string{"user": "ada"})
	fmt.Println(c.Count(), fresh.Count())
	// Output:
	// true 0
	// false
	// 2 0
}

func ExampleRegistry_CounterVec() {
	r := metrics.NewRegistry()
	reqs, err := r.CounterVec("http.requests", "method", "code")
	if err != nil {
		panic(err)
	}
	reqs.With("GET", "200").Inc() // no allocation once the series exists
	reqs.With("GET", "200").Inc()
	reqs.With("POST", "500").Inc()
	// The same series as a getter's.
	c, _ := r.CounterWith("http.requests", map[string]string{"method": "GET", "code": "200"})
	fmt.Println(c.Count(), r.Len())
	// Output: 2 2
}

func ExampleWithSeriesLimit() {
	r := metrics.NewRegistry(metrics.WithSeriesLimit(2))
	byUser, _ := r.CounterVec("logins", "user")
	for _, u := range []string{"ada", "bob", "cyd", "dan", "ada"} {
		byUser.With(u).Inc()
	}
	r.Walk(func(name string, tags metrics.Tags, m any) {
		fmt.Println(name, tags.Map(), m.(*metrics.Counter).Count())
	})
	for _, err := range r.EndInterval().Errors {
		fmt.Println(err)
	}
	// Output:
	// logins map[overflow:true] 2
	// logins map[user:ada] 2
	// logins map[user:bob] 1
	// metrics: logins reached its limit of 2 series: 2 more went to its series tagged overflow=true (raise the limit with metrics.WithSeriesLimit, or a vector's SetSeriesLimit)
}

func ExampleWithExpiry() {
	r := metrics.NewRegistry(metrics.WithExpiry(2))
	sessions, _ := r.GaugeVec("sessions", "user")
	sessions.With("ada").Set(1)
	sessions.With("bob").Set(1)
	for range 3 { // reports; only ada's gauge is updated
		sessions.With("ada").Set(2)
		r.EndInterval()
	}
	r.Walk(func(name string, tags metrics.Tags, _ any) { fmt.Println(name, tags.Map()) })
	// Output: sessions map[user:ada]
}
