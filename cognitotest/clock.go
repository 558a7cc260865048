package cognitotest

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests that move time instead of sleeping.
// Share one between the fake pool, the library and the test, so that all
// three agree on what time it is:
//
//	clk := cognitotest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
//	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
//	verifier, _ := cognito.NewVerifier(pool.Config(), cognito.WithClock(clk.Now))
//	sessions, _ := cognito.NewSessions(flow, store, cognito.WithSessionClock(clk.Now))
//	clk.Advance(time.Hour + time.Minute) // the tokens have expired, everywhere at once
//
// Time stands still between calls to Advance and Set: a Clock never reads
// the wall clock. Its methods are safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock {
	return &Clock{t: t}
}

// Now returns the clock's time. Its method value, clk.Now, is the func()
// time.Time that WithClock, cognito.WithClock and cognito.WithSessionClock
// take.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d, or back when d is negative.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
