package store

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// A chunk holds consecutive samples of one series, compressed: up to
// maxChunkSamples samples in about maxChunkBytes. Its encoding:
//
//	header byte    0x80 for XOR values, else the decimal scale e (0..15)
//	varint         the first timestamp (Unix milliseconds)
//	first value    decimal: varint of its mantissa m (value = m / 10^e);
//	               XOR: its 8 bytes (big-endian float64 bits)
//	then, for each further sample, bit-packed:
//	  timestamp    delta-of-delta, zigzag: '0' (0), '10'+14 bits,
//	               '110'+17, '1110'+20, '1111'+64 (Gorilla's, as
//	               Prometheus's XOR chunks)
//	  value        decimal: delta of the mantissa, zigzag: '0' (same),
//	               '10'+8 bits, '110'+15, '1110'+22, '11110'+32,
//	               '11111'+64;
//	               XOR: Gorilla's XOR of the float bits, as Prometheus's
//	               XOR chunks ('0' same, '10' + bits in the previous
//	               window, '11' + 5 bits of leading zeros, 6 of length
//	               and the bits)
//
// Decimal values are what metrics are made of (12.34 is 1234 at scale 2):
// their mantissas' deltas take 1 to 3 bytes where the XOR of their float
// bits takes 7 (bench/RESULTS.md). A value that is not a decimal of at most
// 15 digits after the point and below 2^53 (1/3, NaN, ±Inf, -0) makes the
// chunk's remaining samples go to a new chunk with XOR values, which take
// any float exactly. A decimal chunk whose next value needs more digits is
// re-encoded at the larger scale (the scale only grows, at most 15 times a
// chunk).
//
// The sample count is kept beside the bytes (in the chunk's descriptor),
// so the bytes hold samples only. Samples are in time order; several at
// one timestamp are kept in the order they arrived.

const (
	maxChunkBytes   = 1024 // a chunk is cut before a sample could take it past this
	maxSampleBytes  = 20   // the most bytes one sample may add (4+64 + 5+64 bits, or 2+5+6+64)
	maxChunkSamples = 256  // and at this many samples
	xorHeader       = 0x80
	maxScale        = 15
)

// pow10[e] is 10^e, exact as a float64.
var pow10 = [maxScale + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// decimalOf returns m and the smallest scale e >= minE at which v is
// exactly m / 10^e, with |m| < 2^53, or false if there is none up to
// maxScale. Since m and 10^e are exact float64s and division rounds
// correctly, m / 10^e is the float nearest to the decimal, which is what
// parsing its digits gave: decimals written with up to 15 digits after the
// point come back bit for bit.
func decimalOf(v float64, minE uint8) (int64, uint8, bool) {
	if v == 0 {
		return 0, minE, !math.Signbit(v)
	}
	for e := minE; e <= maxScale; e++ {
		f := v * pow10[e]
		if !(math.Abs(f) < 1<<53) { // too large, ±Inf or NaN
			return 0, 0, false
		}
		if r := math.Round(f); r/pow10[e] == v {
			return int64(r), e, true
		}
	}
	return 0, 0, false
}

func zigzag(x int64) uint64   { return uint64(x<<1) ^ uint64(x>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// bitWriter appends bits to b, most significant first.
type bitWriter struct {
	b    []byte
	free uint // unused low bits of the last byte of b
}

// writeBits writes the low k bits of v (k <= 64).
func (w *bitWriter) writeBits(v uint64, k uint) {
	for k > 0 {
		if w.free == 0 {
			w.b = append(w.b, 0)
			w.free = 8
		}
		m := min(k, w.free)
		w.b[len(w.b)-1] |= byte((v>>(k-m))&(1<<m-1)) << (w.free - m)
		w.free -= m
		k -= m
	}
}

// bitReader reads bits from b, most significant first, through a 64-bit
// buffer.
type bitReader struct {
	b   []byte
	i   int    // bytes of b moved into buf
	buf uint64 // the next bits, left-aligned
	n   uint   // bits in buf
}

func (r *bitReader) fill() {
	if r.i+8 <= len(r.b) {
		// Take whole bytes of the next 8 that fit in buf.
		w := binary.BigEndian.Uint64(r.b[r.i:])
		k := (64 - r.n) / 8
		r.buf |= w >> r.n &^ (math.MaxUint64 >> (r.n + 8*k))
		r.n += 8 * k
		r.i += int(k)
		return
	}
	for r.n <= 56 && r.i < len(r.b) {
		r.buf |= uint64(r.b[r.i]) << (56 - r.n)
		r.n += 8
		r.i++
	}
}

// bits reads k <= 56 bits. Past the end of b it reads zeros.
func (r *bitReader) bits(k uint) uint64 {
	if r.n < k {
		r.fill()
		if r.n < k {
			r.n = k // past the end: zeros (only a bug could get here)
		}
	}
	v := r.buf >> (64 - k) // 0 for k == 0
	r.buf <<= k
	r.n -= k
	return v
}

func (r *bitReader) bits64(k uint) uint64 {
	if k <= 56 {
		return r.bits(k)
	}
	hi := r.bits(k - 32)
	return hi<<32 | r.bits(32)
}

// ones reads up to max (< 8) 1 bits, stopping after a 0, and returns how
// many 1s.
func (r *bitReader) ones(max int) int {
	if r.n < 8 {
		r.fill()
	}
	n := min(bits.LeadingZeros64(^r.buf), max)
	k := uint(n)
	if n < max {
		k++ // the 0
	}
	k = min(k, r.n) // past the end: zeros (only a bug could get here)
	r.buf <<= k
	r.n -= k
	return n
}

// consumed returns the bits read so far.
func (r *bitReader) consumed() int { return r.i*8 - int(r.n) }

// buckets are the widths of a number's encoding, by the number of 1 bits
// of its prefix: '0' and widths[0] bits, '10' and widths[1], …, and for
// the last as many 1 bits as there are others, without a 0 (64 bits).
type buckets []uint

// The buckets of the timestamps' delta-of-delta (Prometheus's) and of the
// decimal mantissas' delta: '0' (same), '10'+8 bits, '110'+15 (two
// decimals up to ±163.84), '1110'+22, '11110'+32, '11111'+64.
var (
	dodBits   = buckets{0, 14, 17, 20, 64}
	deltaBits = buckets{0, 8, 15, 22, 32, 64}
)

// writeBucketed writes zz (a zigzag number) as its prefix and bits.
func (w *bitWriter) writeBucketed(zz uint64, widths buckets) {
	last := len(widths) - 1
	for k := 0; k < last; k++ {
		if k > 0 && zz < 1<<widths[k] || k == 0 && zz == 0 {
			w.writeBits((1<<k-1)<<1, uint(k)+1) // k ones and a zero
			w.writeBits(zz, widths[k])
			return
		}
	}
	w.writeBits(1<<last-1, uint(last))
	w.writeBits(zz, 64)
}

func (r *bitReader) readBucketed(widths buckets) uint64 {
	if r.n < 40 {
		r.fill()
	}
	if r.buf>>63 == 0 && r.n > 0 { // '0': the most frequent, by far
		r.buf <<= 1
		r.n--
		return 0
	}
	// The usual case: the prefix and a width of up to 32 bits are in buf.
	last := len(widths) - 1
	n := min(bits.LeadingZeros64(^r.buf), last)
	k := uint(n) + 1
	if n == last {
		k--
	}
	if w := widths[n]; n > 0 && w <= 32 && k+w <= r.n {
		v := r.buf << (k & 63) >> ((64 - w) & 63)
		r.buf <<= (k + w) & 63
		r.n -= k + w
		return v
	}
	return r.bits64(widths[r.ones(last)])
}

// appender appends samples to one chunk's bytes. Its state is the previous
// sample's; a chunk's appender is rebuilt by decoding it (loadAppender).
type appender struct {
	w    bitWriter
	n    int   // samples
	t    int64 // previous timestamp
	dt   int64 // previous timestamp delta
	xor  bool  // XOR values (else decimal)
	e    uint8 // decimal scale
	m    int64 // previous mantissa (decimal)
	fb   uint64
	lead uint8 // XOR window of the previous value; 0xff: none yet
	tail uint8
}

// start begins a new chunk, in buf (reset), with the sample (t, v).
func (a *appender) start(buf []byte, t int64, v float64) {
	m, e, dec := decimalOf(v, 0)
	*a = appender{w: bitWriter{b: buf[:0]}, n: 1, t: t, e: e, m: m, xor: !dec, fb: math.Float64bits(v), lead: 0xff}
	if dec {
		a.w.b = append(a.w.b, e)
		a.w.b = binary.AppendVarint(a.w.b, t)
		a.w.b = binary.AppendVarint(a.w.b, m)
	} else {
		a.w.b = append(a.w.b, xorHeader)
		a.w.b = binary.AppendVarint(a.w.b, t)
		a.w.b = binary.BigEndian.AppendUint64(a.w.b, a.fb)
	}
}

// full reports whether the chunk takes no more samples.
func (a *appender) full() bool {
	return a.n >= maxChunkSamples || len(a.w.b) > maxChunkBytes-maxSampleBytes
}

// add appends (t, v), t >= the previous timestamp, and reports whether the
// chunk could take it: false when v is not a decimal and the chunk's values
// are (then nothing changed). It may re-encode the chunk at a larger
// decimal scale, in place.
func (a *appender) add(t int64, v float64) bool {
	if a.xor {
		a.putT(t)
		a.putXOR(math.Float64bits(v))
		a.n++
		return true
	}
	m, e, ok := decimalOf(v, a.e)
	if !ok || (e > a.e && !a.rescale(e)) {
		return false
	}
	a.putT(t)
	a.w.writeBucketed(zigzag(m-a.m), deltaBits)
	a.m = m
	a.n++
	return true
}

func (a *appender) putT(t int64) {
	dt := t - a.t
	a.w.writeBucketed(zigzag(dt-a.dt), dodBits)
	a.t, a.dt = t, dt
}

func (a *appender) putXOR(fb uint64) {
	x := fb ^ a.fb
	a.fb = fb
	if x == 0 {
		a.w.writeBits(0, 1)
		return
	}
	lead, tail := uint8(min(bits.LeadingZeros64(x), 31)), uint8(bits.TrailingZeros64(x))
	if a.lead != 0xff && lead >= a.lead && tail >= a.tail {
		a.w.writeBits(0b10, 2)
		a.w.writeBits(x>>a.tail, uint(64-a.lead-a.tail))
		return
	}
	a.lead, a.tail = lead, tail
	sig := 64 - uint(lead) - uint(tail)
	a.w.writeBits(0b11, 2)
	a.w.writeBits(uint64(lead), 5)
	a.w.writeBits(uint64(sig&63), 6) // 64 is written as 0
	a.w.writeBits(x>>tail, sig)
}

// rescale re-encodes the chunk's decimal values at scale e > a.e, in
// place. It fails, changing nothing, when a mantissa would reach 2^53.
func (a *appender) rescale(e uint8) bool {
	k := int64(1)
	for range e - a.e {
		k *= 10
	}
	var d decoder
	d.reset(a.w.b, a.n)
	type tm struct{ t, m int64 }
	old := make([]tm, 0, a.n)
	for d.next() {
		if d.m >= 1<<53/k || d.m <= -(1<<53)/k {
			return false
		}
		old = append(old, tm{d.t, d.m * k})
	}
	buf := a.w.b
	*a = appender{w: bitWriter{b: buf[:0]}, n: 1, t: old[0].t, e: e, m: old[0].m, lead: 0xff}
	a.w.b = append(a.w.b, e)
	a.w.b = binary.AppendVarint(a.w.b, a.t)
	a.w.b = binary.AppendVarint(a.w.b, a.m)
	for _, s := range old[1:] {
		a.putT(s.t)
		a.w.writeBucketed(zigzag(s.m-a.m), deltaBits)
		a.m = s.m
		a.n++
	}
	return true
}

// loadAppender returns the appender of a chunk of n samples in b, whose
// bytes it appends to (in place).
func loadAppender(b []byte, n int) appender {
	var d decoder
	d.reset(b, n)
	for d.next() {
	}
	a := appender{n: n, t: d.t, dt: d.dt, xor: d.xor, e: d.e, m: d.m, fb: d.fb, lead: d.lead, tail: d.tail}
	a.w = bitWriter{b: b, free: uint(len(b)*8 - d.r.consumed())}
	return a
}

// decoder reads the samples of a chunk in order.
type decoder struct {
	r     bitReader
	n, i  int   // samples in all, read
	t, dt int64 // current timestamp, delta
	xor   bool
	e     uint8
	scale float64 // 10^e
	m     int64
	fb    uint64
	lead  uint8
	tail  uint8
}

// reset starts d on a chunk of n samples in b; the first next reads the
// first sample.
func (d *decoder) reset(b []byte, n int) {
	*d = decoder{n: n, lead: 0xff}
	if n == 0 || len(b) == 0 {
		d.n = 0
		return
	}
	d.xor = b[0] == xorHeader
	d.e = b[0] & 0x0f
	t, w := binary.Varint(b[1:])
	if w <= 0 {
		d.n = 0
		return
	}
	p := 1 + w
	d.t = t
	if d.xor {
		if len(b) < p+8 {
			d.n = 0
			return
		}
		d.fb = binary.BigEndian.Uint64(b[p:])
		p += 8
	} else {
		m, w := binary.Varint(b[p:])
		if w <= 0 {
			d.n = 0
			return
		}
		d.m = m
		d.scale = pow10[min(d.e, maxScale)]
		p += w
	}
	d.r = bitReader{b: b, i: p}
}

// next moves to the next sample (d.t, d.value()) and reports whether
// there was one.
func (d *decoder) next() bool {
	if d.i >= d.n {
		return false
	}
	d.i++
	if d.i == 1 {
		return true
	}
	d.dt += unzigzag(d.r.readBucketed(dodBits))
	d.t += d.dt
	if !d.xor {
		d.m += unzigzag(d.r.readBucketed(deltaBits))
		return true
	}
	if d.r.bits(1) == 0 {
		return true
	}
	if d.r.bits(1) == 1 {
		d.lead = uint8(d.r.bits(5))
		sig := uint8(d.r.bits(6))
		if sig == 0 {
			sig = 64
		}
		d.tail = 64 - min(d.lead+sig, 64)
	}
	sig := 64 - uint(d.lead) - uint(d.tail)
	d.fb ^= d.r.bits64(sig) << d.tail
	return true
}

// value returns the current sample's value: decimals are divided by their
// scale only when asked (a seek skips samples without).
func (d *decoder) value() float64 {
	if d.xor {
		return math.Float64frombits(d.fb)
	}
	return float64(d.m) / d.scale
}
