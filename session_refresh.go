package cognito

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Limits of the refresh machinery.
const (
	refreshTimeout = 30 * time.Second // bounds one refresh, whoever waits for it
	maxPending     = 4096             // refreshed sessions awaiting a store that failed
	// refreshBackoff is how long, after a refresh failed for want of
	// Cognito or the store, requests whose tokens still work are served
	// without another attempt.
	refreshBackoff = 10 * time.Second
	// refreshLeaseLabel starts the store key of a session's refresh lease.
	refreshLeaseLabel = "cognito-refresh:"
)

// Why a refresh did not happen, when the session lives on: Require serves
// tokens that still work, and answers 503 otherwise.
var (
	// errRefreshRefused: Cognito refused the refresh token, and the
	// session may live on: its tokens still work (another replica may have
	// spent the token and be storing its successor), or the store no longer
	// holds the refused token.
	errRefreshRefused = errors.New("cognito: the session's refresh token was refused")
	// errRefreshElsewhere: another replica holds the session's refresh
	// lease and has not stored its tokens yet.
	errRefreshElsewhere = errors.New("cognito: another replica is refreshing the session")
	// errPendingFull: so many refreshed sessions await a failing store that
	// the successor of one more refresh would have nowhere to wait.
	errPendingFull = fmt.Errorf("%w: %d refreshed sessions await the store already", ErrSessionStoreUnavailable, maxPending)
)

// refresh renews the session's tokens, once per session in this process
// however many requests ask at once: they share the result. The refresh runs
// apart from the request that started it, bounded by refreshTimeout, so that a
// request that gives up does not fail the others; each waits within its own
// context.
func (s *Sessions) refresh(ctx context.Context, key string) (*sessionRecord, error) {
	return s.renew(ctx, key, "")
}

// renew is refresh, also when the tokens are not due but the stored ID
// token is stale (its signing key was retired). A renewal by another
// replica, or by a flight this one joined, stands for it.
//
// A refresh may also join the flusher's flight for the session (flushHeld),
// and take its result: the held successor, stored; a signed-out session; or
// a failure, answered as a failed refresh is.
func (s *Sessions) renew(ctx context.Context, key, stale string) (*sessionRecord, error) {
	ch := s.group.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		rec, err := s.doRefresh(fctx, key, stale)
		if errors.Is(err, errSignedOut) {
			s.forget(fctx, key, "")
		}
		return rec, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		rec := *res.Val.(*sessionRecord) // each waiter gets its own copy to touch
		return &rec, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the session's refresh: %w", ErrEndpointUnavailable, ctx.Err())
	}
}

// doRefresh is one refresh of the session under key. With a LeaseStore it
// first takes the session's refresh lease, so that replicas do not spend one
// rotating refresh token twice, and lets it go once done; unless the store
// failed to take the tokens the refresh brought.
func (s *Sessions) doRefresh(ctx context.Context, key, stale string) (*sessionRecord, error) {
	cur, err := s.find(ctx, key)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return nil, errSignedOut
	case !s.due(cur, stale):
		return cur, nil // another replica, or an earlier flight, refreshed it
	}
	if next := s.pending.take(key, cur.refreshToken); next != nil {
		// An earlier refresh spent cur's refresh token but could not store
		// its successor: store it now.
		if err := s.commitHeld(ctx, key, cur, next); err != nil {
			return nil, err
		}
		return next, nil
	}
	ls, ok := s.store.(LeaseStore)
	if !ok {
		rec, _, err := s.spend(ctx, key, cur)
		return rec, err
	}
	var leased bool
	if cur, leased, err = s.lease(ctx, ls, key, cur, stale); !leased {
		return cur, err
	}
	rec, held, err := s.spend(ctx, key, cur)
	if !held {
		s.unlease(ctx, key)
	}
	// Otherwise the refresh token is spent and its successor waits in
	// memory: the lease stays until it ends, or until the successor is
	// stored, so that other replicas serve the session, or wait, rather
	// than spend the dead refresh token.
	return rec, err
}

// due reports whether rec needs a refresh: its tokens are within the
// refresh margin, or its ID token is the stale one.
func (s *Sessions) due(rec *sessionRecord, stale string) bool {
	return s.needsRefresh(rec, s.now()) || rec.idToken == stale
}

// spend refreshes cur's tokens with its refresh token and stores them. With
// rotation the refresh token is spent from then on, so a slot for its
// successor is promised first: should the store fail, the successor waits
// in memory (held reports it) for the flusher or the next try instead of
// being lost, and when no slot is left, nor freed by storing held
// successors, the refresh token is not spent at all.
func (s *Sessions) spend(ctx context.Context, key string, cur *sessionRecord) (rec *sessionRecord, held bool, err error) {
	if !s.pending.reserve(s.now()) && !(s.flushSome(ctx) && s.pending.reserve(s.now())) {
		return nil, false, errPendingFull
	}
	kept := false
	defer func() {
		if !kept {
			s.pending.release()
		}
	}()
	tokens, err := s.flow.Client.Refresh(ctx, cur.refreshToken)
	if errors.Is(err, ErrInvalidGrant) {
		rec, err := s.refused(ctx, key, cur, err)
		return rec, false, err
	}
	if err != nil {
		return nil, false, err
	}
	// A sign-out may have deleted the session while the refresh was on its
	// way: storing the successor would bring the session back. The store
	// offers no compare-and-set, so this narrows the window to the time
	// between this read and the commit below.
	if again, ferr := s.find(ctx, key); ferr == nil && again == nil {
		if rerr := s.flow.Client.Revoke(ctx, tokens.RefreshToken); rerr != nil {
			s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token of a session signed out during its refresh", "err", rerr)
		}
		return nil, false, errSignedOut
	}
	next := *cur
	now := s.now()
	next.setTokens(tokens, now)
	next.lastSeen = now
	if err := s.commit(ctx, key, &next); err != nil {
		// With rotation, cur's refresh token is spent: keep its successor
		// for the next try, or the session would be lost with the store.
		s.pending.put(key, cur.refreshToken, &next, s.expiryOf(&next))
		kept = true
		return nil, true, err
	}
	return &next, false, nil
}

// refused handles a refresh that Cognito refused with invalid_grant. The
// refresh token died, or another replica spent it a moment ago and is
// storing its successor (rotation without a retry grace period), or did and
// could not store it. Which of these it was, only the store can tell, and
// only once that replica's write is in: so the session ends only when its
// tokens have expired, the store, read again for the race wait, still holds
// the refused token, takes a write (one that refuses them may have refused
// the other replica's) and deletes the session. Until then it lives on: its
// tokens are served while they work, and it is answered 503 after.
// refusal is Cognito's answer.
func (s *Sessions) refused(ctx context.Context, key string, cur *sessionRecord, refusal error) (*sessionRecord, error) {
	valid := s.now().Before(cur.expiry)
	delay, waited := 10*time.Millisecond, time.Duration(0)
	for {
		again, err := s.find(ctx, key)
		switch {
		case err != nil:
			return nil, err
		case again == nil:
			return nil, errSignedOut
		case again.refreshToken != cur.refreshToken:
			return s.adopt(ctx, again, "Cognito refused the refresh token, which that replica spent"), nil
		}
		if valid || waited >= s.raceWait {
			break
		}
		if waited, delay, err = s.pause(ctx, delay, waited); err != nil {
			return nil, err
		}
	}
	if valid {
		return nil, errRefreshRefused
	}
	if err := s.probeWrites(ctx, key); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "cognito: session ended", "reason", "the refresh token was refused", "err", refusal)
	if err := s.delete(ctx, key); err != nil {
		// Nobody else could end it for good either: the next request,
		// with the store back, decides again.
		s.log.ErrorContext(ctx, "cognito: cannot delete an ended session", "err", err)
		return nil, err
	}
	return nil, errSignedOut
}

// probeWrites checks that the store takes writes, with an entry under the
// session's lease key (which a replica that holds the lease holds already),
// deleted at once. A Redis at maxmemory refuses writes and takes deletes.
func (s *Sessions) probeWrites(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	if err := commitTo(cctx, s.store, refreshLeaseKey(key), []byte{1}, s.now().Add(refreshTimeout)); err != nil {
		s.log.ErrorContext(ctx, "cognito: the store refuses writes, so a refused refresh token does not end its session yet", "err", err)
		return fmt.Errorf("%w: %w", ErrSessionStoreUnavailable, err)
	}
	s.unlease(ctx, key)
	return nil
}

// pause waits delay, at most what is left of the race wait after waited,
// and returns the time waited and the next delay.
func (s *Sessions) pause(ctx context.Context, delay, waited time.Duration) (time.Duration, time.Duration, error) {
	d := min(delay, s.raceWait-waited)
	if err := s.hooks.sleep(ctx, d); err != nil {
		return waited, delay, fmt.Errorf("%w: %w", ErrEndpointUnavailable, err)
	}
	return waited + d, delay * 2, nil
}

// refreshHooks are how the refresh machinery waits and starts its flusher,
// which tests replace (export_test.go) so as to drive them without the
// wall clock.
type refreshHooks struct {
	// sleep waits d, or until ctx ends: a refresh waiting out the race,
	// the flusher's back-off.
	sleep func(ctx context.Context, d time.Duration) error
	// goFlush runs flush on a goroutine of its own, with the context that
	// bounds it.
	goFlush func(flush func(ctx context.Context))
}

// sleep waits d on a timer, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goFlush runs flush on a goroutine of its own. Nothing ends it but its
// work running out: it stops once nothing is held for the store.
func goFlush(flush func(ctx context.Context)) { go flush(context.Background()) }

// refreshLeaseKey is the store key of the refresh lease of the session
// under key.
func refreshLeaseKey(key string) string {
	return refreshLeaseLabel + strings.TrimPrefix(key, sessionKeyLabel)
}

// lease takes the session's refresh lease, and reports whether it did. It
// then returns the session as read under the lease: another replica may
// have stored its refresh and let the lease go since cur was read. When
// another replica holds the lease, it returns that replica's tokens if the
// store has them by then, or errRefreshElsewhere: at once while cur's
// tokens still work, after watching the store for the race wait when they
// have expired. A store that cannot take the lease cannot take the
// successor either: the refresh token is not spent. The lease ends
// refreshTimeout on by the session clock, as every expiry Sessions gives the
// store is dated: a store whose clock runs ahead of it by more than that
// takes no lease at all.
func (s *Sessions) lease(ctx context.Context, ls LeaseStore, key string, cur *sessionRecord, stale string) (*sessionRecord, bool, error) {
	delay, waited := 10*time.Millisecond, time.Duration(0)
	for {
		lctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
		held, err := ls.Lease(lctx, refreshLeaseKey(key), []byte{1}, s.now().Add(refreshTimeout))
		cancel()
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrSessionStoreUnavailable, err)
		}
		if held {
			again, err := s.find(ctx, key)
			switch {
			case err == nil && again != nil && s.due(again, stale):
				return again, true, nil
			case err == nil && again == nil:
				err = errSignedOut
			case err == nil:
				again = s.adopt(ctx, again, "it stored them before this replica took the refresh lease")
			}
			s.unlease(ctx, key)
			return again, false, err
		}
		if s.now().Before(cur.expiry) || waited >= s.raceWait {
			return nil, false, errRefreshElsewhere
		}
		if waited, delay, err = s.pause(ctx, delay, waited); err != nil {
			return nil, false, err
		}
		again, err := s.find(ctx, key)
		switch {
		case err != nil:
			return nil, false, err
		case again == nil:
			return nil, false, errSignedOut
		case again.refreshToken != cur.refreshToken || !s.due(again, stale):
			return s.adopt(ctx, again, "it held the refresh lease"), false, nil
		}
	}
}

// unlease lets the session's refresh lease go: it is an entry like any
// other, which Delete ends. Should that fail, the lease ends on its own
// within refreshTimeout.
func (s *Sessions) unlease(ctx context.Context, key string) {
	if err := s.delete(ctx, refreshLeaseKey(key)); err != nil {
		s.log.WarnContext(ctx, "cognito: cannot let a session's refresh lease go", "err", err)
	}
}

// adopt logs that the session's refresh is another replica's, whose tokens
// the store holds now, and returns rec.
func (s *Sessions) adopt(ctx context.Context, rec *sessionRecord, how string) *sessionRecord {
	s.log.InfoContext(ctx, "cognito: took the tokens another replica refreshed", "how", how)
	return rec
}

// logRefreshFailure logs why Require could not refresh a session and serves
// its tokens (valid) or answers 503. A replica that lost the race for a
// rotating refresh token is ordinary, not a warning.
func (s *Sessions) logRefreshFailure(ctx context.Context, err error, valid bool) {
	switch {
	case errors.Is(err, errRefreshElsewhere):
		s.log.DebugContext(ctx, "cognito: another replica is refreshing the session", "tokens_work", valid)
	case errors.Is(err, errRefreshRefused):
		s.log.InfoContext(ctx, "cognito: the refresh token was refused while the session's tokens still work; "+
			"another replica may have spent it, so they are served until they expire")
	case valid:
		s.log.WarnContext(ctx, "cognito: cannot refresh a session yet; its tokens still work", "err", err)
	default:
		s.log.ErrorContext(ctx, "cognito: cannot refresh a session whose tokens expired", "err", err)
	}
}

// refreshRetiredKey answers an ID token whose signing key the pool's JWKS,
// read just now, lacks: the pool rotated its keys and retired that one, so
// the token will never verify again, and a refresh brings tokens that a
// current key signed. It is tried once per refresh back-off, as failed
// refreshes are; verr is the verification's error. It returns the session
// refreshed and its verified ID token, or the error to answer.
func (s *Sessions) refreshRetiredKey(ctx context.Context, key string, rec *sessionRecord, now time.Time, verr error) (*sessionRecord, *IDToken, error) {
	if errors.Is(verr, ErrJWKSUnavailable) || s.backoff.holds(key, now) {
		return nil, nil, verr // the JWKS could not say; or a try failed just now
	}
	fresh, err := s.renew(ctx, key, rec.idToken)
	if err == nil {
		var id *IDToken
		if id, err = s.flow.Verifier.VerifyIDToken(ctx, fresh.idToken); err == nil {
			return fresh, id, nil
		}
	}
	if !errors.Is(err, errSignedOut) {
		s.backoff.start(key, now.Add(refreshBackoff), now)
	}
	return nil, nil, err
}

// forget drops what this process holds for a session that ended: its
// back-off, and a successor waiting for the store, whose refresh token
// nothing will ever use: it is revoked, unless it is the one the caller
// revoked already.
func (s *Sessions) forget(ctx context.Context, key, revoked string) {
	s.backoff.clear(key)
	if next := s.pending.drop(key); next != nil && next.refreshToken != revoked {
		if err := s.flow.Client.Revoke(ctx, next.refreshToken); err != nil {
			s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token held for an ended session", "err", err)
		}
	}
}

// needsRefresh reports whether rec's tokens are within the refresh margin of
// their expiry (or half their lifetime, when that is shorter).
func (s *Sessions) needsRefresh(rec *sessionRecord, now time.Time) bool {
	return !now.Before(s.refreshAt(rec))
}

// refreshAt is when rec's tokens are due for a refresh.
func (s *Sessions) refreshAt(rec *sessionRecord) time.Time {
	return rec.expiry.Add(-min(s.margin, rec.expiry.Sub(rec.obtained)/2))
}

// refreshBackoffs remembers, per session, until when a failed refresh is not
// retried while the tokens still work. Bounded: when full of entries that
// still hold, sessions simply retry on every request.
type refreshBackoffs struct {
	mu    sync.Mutex
	until map[string]time.Time
	swept time.Time // when the entries that are over were last dropped
}

func (b *refreshBackoffs) holds(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[key]
	if ok && !now.Before(t) {
		delete(b.until, key)
		return false
	}
	return ok
}

// start holds key's refreshes back until until, first dropping the entries
// that are over, once a refreshBackoff at most (the entries' own
// lifetime): so no entry outlives its end by more than that, and no failed
// refresh scans them all.
func (b *refreshBackoffs) start(key string, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) >= refreshBackoff || now.Before(b.swept) {
		b.swept = now
		for k, t := range b.until {
			if !now.Before(t) {
				delete(b.until, k)
			}
		}
	}
	if b.until == nil {
		b.until = map[string]time.Time{}
	}
	if _, ok := b.until[key]; ok || len(b.until) < maxPending {
		b.until[key] = until
	}
}

func (b *refreshBackoffs) clear(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.until, key)
}
