package cognito

import (
	"context"
	"errors"
	"fmt"
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
)

// refresh renews the session's tokens, once per session in this process
// however many requests ask at once: they share the result. The refresh runs
// apart from the request that started it, bounded by refreshTimeout, so that a
// request that gives up does not fail the others; each waits within its own
// context.
func (s *Sessions) refresh(ctx context.Context, key string) (*sessionRecord, error) {
	ch := s.group.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return s.doRefresh(fctx, key)
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

// doRefresh is one refresh of the session under key.
func (s *Sessions) doRefresh(ctx context.Context, key string) (*sessionRecord, error) {
	cur, err := s.find(ctx, key)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return nil, errSignedOut
	case !s.needsRefresh(cur, s.now()):
		return cur, nil // another replica, or an earlier flight, refreshed it
	}
	if next := s.pending.take(key, cur.refreshToken); next != nil {
		// An earlier refresh spent cur's refresh token but could not store
		// its successor: store it now.
		if err := s.commit(ctx, key, next); err != nil {
			s.pending.put(key, cur.refreshToken, next)
			return nil, err
		}
		return next, nil
	}
	tokens, err := s.flow.Client.Refresh(ctx, cur.refreshToken)
	if err == nil {
		// A sign-out may have deleted the session while the refresh was on
		// its way: storing the successor would bring the session back. The
		// store offers no compare-and-set, so this narrows the window to
		// the time between this read and the commit below.
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
			s.pending.put(key, cur.refreshToken, &next)
			return nil, err
		}
		return &next, nil
	}
	if !errors.Is(err, ErrInvalidGrant) {
		return nil, err
	}
	// Refused: the refresh token died, or another replica rotated it a
	// moment ago and is storing its successor. Watch the store for that.
	delay, waited := 10*time.Millisecond, time.Duration(0)
	for {
		again, ferr := s.find(ctx, key)
		switch {
		case ferr != nil:
			return nil, ferr
		case again == nil:
			return nil, errSignedOut
		case again.refreshToken != cur.refreshToken && !s.needsRefresh(again, s.now()):
			return again, nil
		}
		if waited >= s.raceWait {
			break
		}
		d := min(delay, s.raceWait-waited)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", ErrEndpointUnavailable, ctx.Err())
		}
		waited, delay = waited+d, delay*2
	}
	s.log.InfoContext(ctx, "cognito: session ended", "reason", "the refresh token was refused", "err", err)
	if derr := s.delete(ctx, key); derr != nil {
		s.log.ErrorContext(ctx, "cognito: cannot delete an ended session", "err", derr)
	}
	return nil, errSignedOut
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
// one is spent, and the successor must not be lost.
type pendingCommits struct {
	mu sync.Mutex
	m  map[string]pendingCommit
}

type pendingCommit struct {
	spent string
	rec   *sessionRecord
}

func (p *pendingCommits) put(key, spent string, rec *sessionRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pendingCommit{}
	}
	if _, ok := p.m[key]; ok || len(p.m) < maxPending {
		p.m[key] = pendingCommit{spent: spent, rec: rec}
	}
}

// take returns and forgets the successor of refresh token spent, if held.
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
	return pc.rec
}

// refreshBackoffs remembers, per session, until when a failed refresh is not
// retried while the tokens still work. Bounded: when full, sessions simply
// retry on every request.
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

func (b *refreshBackoffs) start(key string, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
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

// headerRecorder catches what LoginFlow.Start writes, so that Login can add
