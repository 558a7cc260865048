package bench

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// prepare sets c up and verifies its first token once, so that lazy work
// (a JWKS fetch, a cache fill) happens before the timer starts.
func prepare(b *testing.B, f *fixture, c contender) (verifyFunc, []string) {
	b.Helper()
	verify, err := c.setup(b, f)
	if err != nil {
		b.Fatalf("%s: setup: %v", c.name, err)
	}
	tokens := c.tokens(f)
	if err := verify(context.Background(), tokens[0]); err != nil {
		b.Fatalf("%s: warm-up verify: %v", c.name, err)
	}
	return verify, tokens
}

// BenchmarkVerify measures one verify at a time, cycling through the
// contender's tokens.
func BenchmarkVerify(b *testing.B) {
	f := getFixture(b)
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			verify, tokens := prepare(b, f, c)
			ctx := context.Background()
			b.ReportAllocs()
			i, cpu := 0, time.Duration(0)
			for b.Loop() {
				if i == 0 {
					cpu = cpuTime(b) // b.Loop has just started the timer
				}
				if err := verify(ctx, tokens[i%len(tokens)]); err != nil {
					b.Fatalf("%s: verify: %v", c.name, err)
				}
				i++
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkVerifyParallel measures the same verifies from GOMAXPROCS
// goroutines at once: its ns/op is wall time per verify, so serial ns/op
// divided by it is the speed-up.
func BenchmarkVerifyParallel(b *testing.B) {
	f := getFixture(b)
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			verify, tokens := prepare(b, f, c)
			ctx := context.Background()
			var goroutines atomic.Uint32
			b.ReportAllocs()
			cpu := cpuTime(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine cycles through its own slice of the tokens,
				// so none verifies a token another just did (which a small
				// cache could remember), however the scheduler runs them.
				mine := tokens
				g, procs := int(goroutines.Add(1))-1, runtime.GOMAXPROCS(0)
				if n := len(tokens) / procs; n > 0 && g < procs {
					mine = tokens[g*n : (g+1)*n]
				}
				i := 0
				for pb.Next() {
					if err := verify(ctx, mine[i%len(mine)]); err != nil {
						b.Errorf("%s: verify: %v", c.name, err) // Fatal is for the benchmark's own goroutine
						return
					}
					i++
				}
			})
			reportCPU(b, cpu)
		})
	}
}
