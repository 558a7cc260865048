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
	// flushBatch is how many held successors a refresh that finds no slot
	// for its own tries to store first.
	flushBatch = 8
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
// rotating refresh token twice.
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
		if err := s.commit(ctx, key, next); err != nil {
			s.pending.put(key, cur.refreshToken, next, s.expiryOf(next), s.now())
			return nil, err
		}
		s.pending.release()
		return next, nil
	}
	if ls, ok := s.store.(LeaseStore); ok {
		var held bool
		if cur, held, err = s.lease(ctx, ls, key, cur, stale); !held {
			return cur, err
		}
		defer s.unlease(ctx, key)
	}
	return s.spend(ctx, key, cur)
}

// due reports whether rec needs a refresh: its tokens are within the
// refresh margin, or its ID token is the stale one.
func (s *Sessions) due(rec *sessionRecord, stale string) bool {
	return s.needsRefresh(rec, s.now()) || rec.idToken == stale
}

// spend refreshes cur's tokens with its refresh token and stores them. With
// rotation the refresh token is spent from then on, so a slot for its
// successor is promised first: should the store fail, the successor waits
// in memory for the next try instead of being lost, and when no slot is
// left, nor freed by storing held successors, the refresh token is not
// spent at all.
func (s *Sessions) spend(ctx context.Context, key string, cur *sessionRecord) (*sessionRecord, error) {
	if !s.pending.reserve(s.now()) && !(s.storeHeld(ctx) && s.pending.reserve(s.now())) {
		return nil, errPendingFull
	}
	kept := false
	defer func() {
		if !kept {
			s.pending.release()
		}
	}()
	tokens, err := s.flow.Client.Refresh(ctx, cur.refreshToken)
	if errors.Is(err, ErrInvalidGrant) {
		return s.refused(ctx, key, cur, err)
	}
	if err != nil {
		return nil, err
	}
	// A sign-out may have deleted the session while the refresh was on its
	// way: storing the successor would bring the session back. The store
	// offers no compare-and-set, so this narrows the window to the time
	// between this read and the commit below.
	if again, ferr := s.find(ctx, key); ferr == nil && again == nil {
		if rerr := s.flow.Client.Revoke(ctx, tokens.RefreshToken); rerr != nil {
			s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token of a session signed out during its refresh", "err", rerr)
		}
		return nil, errSignedOut
	}
	next := *cur
	now := s.now()
	next.setTokens(tokens, now)
	next.lastSeen = now
	if err := s.commit(ctx, key, &next); err != nil {
		// With rotation, cur's refresh token is spent: keep its successor
		// for the next try, or the session would be lost with the store.
		s.pending.put(key, cur.refreshToken, &next, s.expiryOf(&next), now)
		kept = true
		return nil, err
	}
	return &next, nil
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

// refreshHooks are how the refresh machinery waits, which tests replace
// (export_test.go) so as to drive its waits without the wall clock.
type refreshHooks struct {
	// sleep waits d, or until ctx ends: a refresh waiting out the race.
	sleep func(ctx context.Context, d time.Duration) error
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

// storeHeld stores up to flushBatch of the successors held for the store,
// as their sessions' next refreshes here would, and drops those whose
// session moved on or is gone, so that a store back from an outage frees
// the slots of users who have not come back. It reports whether it freed
// any, and stops at the first failure of the store.
func (s *Sessions) storeHeld(ctx context.Context) bool {
	freed := false
	for _, key := range s.pending.keys(flushBatch) {
		cur, err := s.find(ctx, key)
		if err != nil {
			return freed
		}
		spent := "" // no session: take drops the successor
		if cur != nil {
			spent = cur.refreshToken
		}
		if next := s.pending.take(key, spent); next != nil {
			if err := s.commit(ctx, key, next); err != nil {
				s.pending.put(key, spent, next, s.expiryOf(next), s.now())
				return freed
			}
			s.pending.release()
		}
		freed = true
	}
	return freed
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

// pendingCommits holds refreshed sessions that the store failed to take,
// keyed by session, with the refresh token they replace: with rotation that
// one is spent, and the successor must not be lost. It holds at most
// maxPending, counting the slots promised to refreshes in flight, so that
// no refresh is made whose successor would have nowhere to wait. Each entry
// lives until its session's idle deadline, and goes earlier with the
// session.
type pendingCommits struct {
	mu       sync.Mutex
	m        map[string]pendingCommit
	promised int       // slots promised to refreshes in flight
	swept    time.Time // when entries past their deadline were last dropped
}

type pendingCommit struct {
	spent    string
	rec      *sessionRecord
	deadline time.Time
}

// reserve promises a slot for one successor, and reports whether there was
// one left. The promise ends with put or release. Entries past their
// deadline are dropped first when no slot is left, and once a sweepInterval
// anyway, so that none outlives its session for long.
func (p *pendingCommits) reserve(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m)+p.promised >= maxPending || now.Sub(p.swept) >= sweepInterval {
		p.sweep(now)
	}
	if len(p.m)+p.promised >= maxPending {
		return false
	}
	p.promised++
	return true
}

// release gives back a promised slot that was not needed.
func (p *pendingCommits) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.promised--
}

// put keeps rec, the successor of refresh token spent, until deadline, in
// the slot that reserve or take promised, first dropping the entries past
// their deadline.
func (p *pendingCommits) put(key, spent string, rec *sessionRecord, deadline, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.promised--
	p.sweep(now)
	if p.m == nil {
		p.m = map[string]pendingCommit{}
	}
	p.m[key] = pendingCommit{spent: spent, rec: rec, deadline: deadline}
}

// take returns and forgets the successor of refresh token spent, if held;
// its slot stays promised, for put or release.
func (p *pendingCommits) take(key, spent string) *sessionRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.m[key]
	if !ok {
		return nil
	}
	delete(p.m, key)
	if pc.spent != spent {
		return nil // the store moved on without it
	}
	p.promised++
	return pc.rec
}

// keys returns the keys of up to n held successors.
func (p *pendingCommits) keys(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]string, 0, min(n, len(p.m)))
	for key := range p.m {
		if len(keys) == n {
			break
		}
		keys = append(keys, key)
	}
	return keys
}

// drop forgets key's successor and returns it, if one was held.
func (p *pendingCommits) drop(key string) *sessionRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.m[key]
	delete(p.m, key)
	if !ok {
		return nil
	}
	return pc.rec
}

// sweep drops the entries past their deadline. p.mu is held.
func (p *pendingCommits) sweep(now time.Time) {
	p.swept = now
	for key, pc := range p.m {
		if !now.Before(pc.deadline) {
			delete(p.m, key)
		}
	}
}

// refreshBackoffs remembers, per session, until when a failed refresh is not
// retried while the tokens still work. Bounded: when full of entries that
// still hold, sessions simply retry on every request.
type refreshBackoffs struct {
	mu    sync.Mutex
	until map[string]time.Time
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
// that are over.
func (b *refreshBackoffs) start(key string, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, t := range b.until {
		if !now.Before(t) {
			delete(b.until, k)
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
