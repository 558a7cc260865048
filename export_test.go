package cognito

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TenantCounts says how many pools v keeps a Verifier for, how many refused
// issuers it remembers, and how many verified tokens its pools' shared cache
// holds, for tests of their bounds.
func TenantCounts(v *TenantVerifier) (tenants, refusals, tokens int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.entries), v.refused.len(), v.cache.len()
}

// What the external tests of the refresh machinery look at: how much a
// process holds for sessions, as a reader of its memory would see it.

// MaxPending is how many refreshed sessions may wait for a failing store.
const MaxPending = maxPending

// HeldForStore reports how many successors s holds for a store that failed
// to take them, and how many slots it has promised to refreshes in flight.
func HeldForStore(s *Sessions) (held, promised int) {
	s.pending.mu.Lock()
	defer s.pending.mu.Unlock()
	return len(s.pending.m), s.pending.promised
}

// BackingOff reports how many sessions s holds a refresh back for.
func BackingOff(s *Sessions) int {
	s.backoff.mu.Lock()
	defer s.backoff.mu.Unlock()
	return len(s.backoff.until)
}

// FillHeldForStore makes s hold n successors of sessions of nobody's, kept
// until deadline (their idle deadline: they were last seen the idle
// timeout before it), as refreshes during a long store outage would leave.
// With inStore set, the store holds each session too, with the refresh
// token its successor replaced, as it would have once the outage is over;
// without, the sessions are gone.
func FillHeldForStore(t testing.TB, s *Sessions, n int, deadline time.Time, inStore bool) {
	t.Helper()
	now := s.now()
	seen := deadline.Add(-s.idle)
	for i := range n {
		key := "filler:" + strconv.Itoa(i)
		spent := "spent-" + strconv.Itoa(i)
		if inStore {
			stored := &sessionRecord{created: now, lastSeen: now, obtained: now, expiry: now, idToken: "id", accessToken: "access", refreshToken: spent}
			if err := s.commit(context.Background(), key, stored); err != nil {
				t.Fatal(err)
			}
		}
		next := &sessionRecord{created: seen, lastSeen: seen, obtained: now, expiry: now.Add(time.Hour), idToken: "id", accessToken: "access", refreshToken: "next-" + strconv.Itoa(i)}
		s.pending.promised++
		s.pending.put(key, spent, next, deadline)
	}
	s.pending.mu.Lock()
	s.pending.swept = now
	s.pending.mu.Unlock()
}

// SetRefreshHooks makes s's refresh machinery wait with sleep instead of
// timers (a refresh waiting out the race, the flusher's back-off) and start
// its flusher with goFlush, so that tests drive both without the wall
// clock.
func SetRefreshHooks(s *Sessions, sleep func(ctx context.Context, d time.Duration) error, goFlush func(flush func(ctx context.Context))) {
	s.hooks = refreshHooks{sleep: sleep, goFlush: goFlush}
}

// FillBackingOff makes s hold back the refreshes of n sessions of nobody's
// until until.
func FillBackingOff(s *Sessions, n int, until time.Time) {
	for i := range n {
		s.backoff.start("filler:"+strconv.Itoa(i), until, time.Time{})
	}
}

// SetTokenStoreSleep makes c's M2M sources wait with sleep instead of a
// timer while another replica renews the fleet's token (WithTokenStore), so
// that tests drive those waits without the wall clock. Call it before c's
// sources are used.
func SetTokenStoreSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.fleet.sleep = sleep
}
