package store

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
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
						if d.t != ts[i] || math.Float64bits(d.value()) != math.Float64bits(vs[i]) {
							t.Fatalf("reload %d, sample %d (chunk %d): got %d %v (%x), want %d %v (%x)", reload, i, c, d.t, d.value(), math.Float64bits(d.value()), ts[i], vs[i], math.Float64bits(vs[i]))
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

// xorBytes returns the bytes Prometheus's XOR chunks (tsdb/chunkenc, 120
// samples a chunk as Prometheus cuts them) take for the samples.
func xorBytes(ts []int64, vs []float64) int {
	total := 0
	var c *chunkenc.XORChunk
	var app chunkenc.Appender
	for i := range ts {
		if i%120 == 0 {
			if c != nil {
				total += len(c.Bytes())
			}
			c = chunkenc.NewXORChunk()
			app, _ = c.Appender()
		}
		app.Append(0, ts[i], vs[i])
	}
	return total + len(c.Bytes())
}

// TestChunkBytesPerSample: the sizes the encoding is for, beside those of
// Prometheus's XOR chunks on the same samples (10,000 of one series, 10 s
// apart). Decimal values are where they part: the XOR of the float bits of
// 12.34 and 12.35 has few zero bits, the difference of 1234 and 1235 many.
func TestChunkBytesPerSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	walk := 50.0
	for _, c := range []struct {
		name string
		gen  func(i int) float64
		max  float64
	}{
		{"two decimals, uniform in [0, 100)", func(int) float64 { return float64(rng.IntN(10000)) / 100 }, 2.5},
		{"two decimals, uniform in [0, 1000)", func(int) float64 { return float64(rng.IntN(100000)) / 100 }, 3.5},
		{"two decimals, random walk", func(int) float64 {
			walk = math.Round((walk+float64(rng.IntN(201)-100)/100)*100) / 100
			return walk
		}, 1.5},
		{"counter", func(i int) float64 { return float64(i * 3) }, 1.5},
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
		got, xor := float64(size)/float64(n), float64(xorBytes(ts, vs))/float64(n)
		t.Logf("%s: %.2f bytes a sample in %d chunks; Prometheus's XOR chunks %.2f", c.name, got, len(chunks), xor)
		if got > c.max {
			t.Errorf("%s: %.2f bytes a sample, want at most %.2f", c.name, got, c.max)
		}
	}
}

// FuzzChunkRoundTrip encodes the samples the input describes (each 9
// bytes: a timestamp step of 0 to 255 ms scaled by a power of ten, and a
// value: the float bits, or a decimal when the top byte is 0xd0) and
// decodes them back, bit for bit.
func FuzzChunkRoundTrip(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x0a\xd0\x00\x00\x00\x00\x00\x04\xd2\x0a\xd0\x00\x00\x00\x00\x00\x04\xd3\x00\x7f\xf8\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte("\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x3f\xd5\x55\x55\x55\x55\x55\x55"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var ts []int64
		var vs []float64
		tm := int64(1700000000000)
		for ; len(in) >= 9; in = in[9:] {
			tm += int64(in[0]) * []int64{1, 10, 1000, 100000}[in[0]%4]
			bitsv := uint64(in[1])<<56 | uint64(in[2])<<48 | uint64(in[3])<<40 | uint64(in[4])<<32 | uint64(in[5])<<24 | uint64(in[6])<<16 | uint64(in[7])<<8 | uint64(in[8])
			v := math.Float64frombits(bitsv)
			if in[1] == 0xd0 { // a decimal: the low bytes are the mantissa, the scale in the second
				v = float64(int64(bitsv&0xffffffffff)) / pow10[in[2]%16]
			}
			ts, vs = append(ts, tm), append(vs, v)
		}
		if len(ts) == 0 {
			return
		}
		for _, reload := range []int{1, 3, 1 << 30} {
			chunks, counts := encodeAll(ts, vs, reload)
			i := 0
			for c, b := range chunks {
				var d decoder
				d.reset(b, counts[c])
				for d.next() {
					if d.t != ts[i] || math.Float64bits(d.value()) != math.Float64bits(vs[i]) {
						t.Fatalf("sample %d: got %d %v, want %d %v", i, d.t, d.value(), ts[i], vs[i])
					}
					i++
				}
			}
			if i != len(ts) {
				t.Fatalf("decoded %d of %d samples", i, len(ts))
			}
		}
	})
}
