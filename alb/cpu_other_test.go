//go:build !unix

package alb_test

import (
	"testing"
	"time"
)

// Without getrusage, the benchmarks report ns/op only.
func cpuTime(testing.TB) time.Duration    { return 0 }
func reportCPU(*testing.B, time.Duration) {}
