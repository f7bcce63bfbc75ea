package store

import (
	"math"
	"math/rand/v2"
	"testing"
)

// encodeAll encodes samples into chunks as the store does: appending to
// the head, reloading its appender every few samples (as each put does),
// cutting when it is full or when a value does not fit its encoding.
func encodeAll(ts []int64, vs []float64, reloadEvery int) (chunks [][]byte, counts []int) {
	var a appender
	for i := range ts {
		if len(chunks) > 0 && i%reloadEvery == 0 {
			a = loadAppender(chunks[len(chunks)-1], counts[len(counts)-1])
		}
		if len(chunks) == 0 || a.full() || !a.add(ts[i], vs[i]) {
			a.start(nil, ts[i], vs[i])
			chunks = append(chunks, nil)
			counts = append(counts, 0)
		}
		chunks[len(chunks)-1] = a.w.b
		counts[len(counts)-1] = a.n
	}
	return chunks, counts
}

func TestChunkRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e-300, 1 << 53, 1<<53 + 2, tenth + 0.2, 1.0 / 3, 123456789.123456, -42.5, 9007199254740991}
	gens := map[string]func(i int) float64{
		"two decimals": func(int) float64 { return float64(rng.IntN(10000)) / 100 },
		"integers":     func(i int) float64 { return float64(i * 3) },
		"growing scale": func(i int) float64 {
			return float64(rng.IntN(1000)) / pow10[i%17%16]
		},
		"floats":   func(int) float64 { return rng.NormFloat64() * 1e3 },
		"specials": func(int) float64 { return specials[rng.IntN(len(specials))] },
		"mixed": func(i int) float64 {
			if rng.IntN(3) == 0 {
				return rng.Float64()
			}
			return float64(rng.IntN(100)) / 10
		},
		"constant": func(int) float64 { return 7 },
	}
	for name, gen := range gens {
		t.Run(name, func(t *testing.T) {
			for _, reload := range []int{1, 7, 1 << 30} {
				n := 5000
				ts, vs := make([]int64, n), make([]float64, n)
				tm := int64(-5000)
				for i := range ts {
					switch rng.IntN(10) {
					case 0: // duplicate timestamp
					case 1:
						tm += rng.Int64N(1 << 40)
					default:
						tm += 10000 + rng.Int64N(3) - 1
					}
					ts[i], vs[i] = tm, gen(i)
				}
				chunks, counts := encodeAll(ts, vs, reload)
				i := 0
				for c, b := range chunks {
					if len(b) > maxChunkBytes || counts[c] > maxChunkSamples {
						t.Fatalf("chunk %d: %d bytes, %d samples", c, len(b), counts[c])
					}
					var d decoder
					d.reset(b, counts[c])
					for d.next() {
						if d.t != ts[i] || math.Float64bits(d.v) != math.Float64bits(vs[i]) {
							t.Fatalf("reload %d, sample %d (chunk %d): got %d %v (%x), want %d %v (%x)", reload, i, c, d.t, d.v, math.Float64bits(d.v), ts[i], vs[i], math.Float64bits(vs[i]))
						}
						i++
					}
				}
				if i != n {
					t.Fatalf("decoded %d samples of %d", i, n)
				}
			}
		})
	}
}

var tenth = 0.1 // a variable: 0.1 + 0.2 in constants is exactly 0.3

func TestDecimalOf(t *testing.T) {
	for _, c := range []struct {
		v    float64
		minE uint8
		m    int64
		e    uint8
		ok   bool
	}{
		{12.34, 0, 1234, 2, true},
		{12.34, 3, 12340, 3, true},
		{0, 2, 0, 2, true},
		{math.Copysign(0, -1), 0, 0, 0, false},
		{-0.5, 0, -5, 1, true},
		{1e15, 0, 1e15, 0, true},
		{1e16, 0, 0, 0, false},
		{tenth + 0.2, 0, 0, 0, false}, // 0.30000000000000004
		{1.0 / 3, 0, 0, 0, false},
		{math.NaN(), 0, 0, 0, false},
		{math.Inf(-1), 0, 0, 0, false},
		{0.000000000000001, 0, 1, 15, true},
	} {
		m, e, ok := decimalOf(c.v, c.minE)
		if m != c.m || e != c.e || ok != c.ok {
			t.Errorf("decimalOf(%v, %d) = %d, %d, %v; want %d, %d, %v", c.v, c.minE, m, e, ok, c.m, c.e, c.ok)
		}
	}
}

// TestChunkBytesPerSample: the sizes the encoding is for.
func TestChunkBytesPerSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	walk := 50.0
	for _, c := range []struct {
		name string
		gen  func(i int) float64
		max  float64
	}{
		{"two decimals, uniform in [0, 100)", func(int) float64 { return float64(rng.IntN(10000)) / 100 }, 2.6},
		{"two decimals, random walk", func(int) float64 {
			walk = math.Round((walk+float64(rng.IntN(201)-100)/100)*100) / 100
			return walk
		}, 1.4},
		{"counter", func(i int) float64 { return float64(i * 3) }, 1.4},
		{"constant", func(int) float64 { return 1 }, 0.3},
		{"random floats (XOR)", func(int) float64 { return rng.Float64() }, 8.5},
	} {
		n := 10000
		ts, vs := make([]int64, n), make([]float64, n)
		for i := range ts {
			ts[i], vs[i] = 1700000000000+int64(i)*10000, c.gen(i)
		}
		chunks, _ := encodeAll(ts, vs, 100)
		size := 0
		for _, b := range chunks {
			size += len(b)
		}
		got := float64(size) / float64(n)
		t.Logf("%s: %.2f bytes a sample in %d chunks", c.name, got, len(chunks))
		if got > c.max {
			t.Errorf("%s: %.2f bytes a sample, want at most %.2f", c.name, got, c.max)
		}
	}
}
