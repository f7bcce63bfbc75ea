package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/server"
)

// The memory of "apptuit serve". --max-memory is the server's memory
// budget (server.WithMaxMemory): the store keeps its points, series and
// tags within three quarters of it; the process holds more: what puts and
// queries are working on, and what the garbage collector has not collected
// yet. serve bounds those with the budget too, as the process is the
// server's alone:
//
//   - the Go runtime's soft memory limit is the budget (memoryLimit), so
//     that the collector works harder rather than let the heap grow past
//     it;
//   - once puts pause, the memory the collector freed is given back to
//     the system (giveBack), so that between bursts the process holds what
//     it stores, not the garbage of decoding puts nor the collector's
//     headroom.

// memoryLimit is the runtime's memory limit for a budget (0: none).
func memoryLimit(budget int64) int64 {
	if budget == 0 {
		return math.MaxInt64
	}
	return budget
}

// giveBack returns the memory the garbage collector freed, or could free,
// to the system (runtime/debug.FreeOSMemory: a collection, then the
// release) when puts have paused for a tick and the runtime holds more
// than the live heap and a quarter (and 8 MiB), until ctx ends. A steady
// trickle of small puts (a reporter's) seldom calls for one.
func giveBack(ctx context.Context, srv *server.Server, tick time.Duration) {
	m := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	spare := func() bool {
		metrics.Read(m)
		for _, s := range m {
			if s.Value.Kind() != metrics.KindUint64 {
				return false
			}
		}
		held, live := m[0].Value.Uint64()-m[1].Value.Uint64(), m[2].Value.Uint64()
		return held > live+live/4+8<<20
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	last := srv.Stats().Accepted
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := srv.Stats().Accepted
		if now == last && spare() {
			debug.FreeOSMemory()
		}
		last = now
	}
}

// sizeFlag is a flag holding a size in bytes: a number, with an optional
// unit B, KiB, MiB, GiB or TiB (powers of 1024) or KB, MB, GB, TB (of
// 1000).
type sizeFlag struct {
	flagValue
	p *int64
}

// sizeVar defines a size flag.
func sizeVar(fs *flag.FlagSet, p *int64, name string, value int64, usage string) {
	*p = value
	fs.Var(&sizeFlag{flagValue{name: name}, p}, name, usage)
}

const sizeSyntax = "a size in bytes, e.g. 256MiB, 1GiB or 500000000 (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"

func (f *sizeFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return formatSize(*f.p)
}

func (f *sizeFlag) Set(s string) error {
	n, ok := parseSize(s)
	if !ok {
		return f.fail(s, "want "+sizeSyntax)
	}
	*f.p = n
	return nil
}

var sizeUnits = []struct {
	name string
	mul  int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseSize reads a size as sizeFlag takes it.
func parseSize(s string) (int64, bool) {
	num, mul := s, int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.name); ok {
			num, mul = rest, u.mul
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

// formatSize writes n exactly, in the largest binary unit that divides it
// (parseSize reads it back).
func formatSize(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range sizeUnits[:4] {
		if n >= u.mul && n%u.mul == 0 && (n/u.mul < 1024 || u.name == "TiB" || n%(u.mul<<10) != 0) {
			return fmt.Sprintf("%d%s", n/u.mul, u.name)
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// approxSize writes n rounded, in B, KiB, MiB or GiB.
func approxSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2fGiB", float64(n)/(1<<30))
}
