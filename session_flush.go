package cognito

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pace of the flusher, which stores held successors in the background.
const (
	flushFirstDelay = 100 * time.Millisecond
	// flushMaxDelay caps the flusher's back-off below
	// DefaultRefreshRaceWait, so that a replica waiting out the race for a
	// session sees the successor that this one stores once the store is
	// back.
	flushMaxDelay = time.Second
	// flushBatch is how many held successors a refresh that finds no slot
	// for its own tries to store first.
	flushBatch = 8
)

// errNotFlushed: the flusher's flight for a session found nothing it may
// store: the session moved on without the successor held for it, or a
// refresh took it meanwhile.
var errNotFlushed = errors.New("cognito: no refreshed tokens held for the session were stored")

// flush stores held successors in the background, so that a successor the
// store refused reaches it soon after the store is back, whichever replica
// gets the session's next request. It runs while anything is held, as one
// goroutine per Sessions at most, and ends when nothing is, or when a wait
// fails (ctx ended). While the store fails it tries one held successor per
// back-off, which doubles from flushFirstDelay up to flushMaxDelay; once
// one is stored it goes on with the rest at once.
func (s *Sessions) flush(ctx context.Context) {
	delay := flushFirstDelay
	for {
		if err := s.hooks.sleep(ctx, delay); err != nil {
			s.pending.stopFlushing()
			return
		}
		delay = min(2*delay, flushMaxDelay)
		for {
			key, ok := s.pending.next(s.now())
			if !ok {
				return
			}
			if errors.Is(s.flushKey(ctx, key), ErrSessionStoreUnavailable) {
				break
			}
			delay = flushFirstDelay
		}
	}
}

// flushKey runs flushHeld for key in the session's flight, so that no
// refresh of the session in this process runs beside it (one would spend
// the dead refresh token), or joins the refresh under way, which deals
// with the held successor itself.
func (s *Sessions) flushKey(ctx context.Context, key string) error {
	_, err, _ := s.group.Do(key, func() (any, error) { return s.flushHeld(ctx, key) })
	return err
}

// flushHeld stores the successor held for key if the store still holds the
// refresh token that the successor replaced, and returns it. It never
// stores it over anything else: the successor of a session that moved on
// is dropped (errNotFlushed), that of a session that is gone too
// (errSignedOut). When the store fails, the successor stays held.
func (s *Sessions) flushHeld(ctx context.Context, key string) (*sessionRecord, error) {
	cur, err := s.find(ctx, key)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		s.forget(ctx, key, "")
		return nil, errSignedOut
	}
	next := s.pending.take(key, cur.refreshToken)
	if next == nil {
		return nil, errNotFlushed
	}
	if err := s.commitHeld(ctx, key, cur, next); err != nil {
		return nil, err
	}
	return next, nil
}

// commitHeld stores next, the successor held for key, over cur, which
// still holds the refresh token next replaced; if the store fails, next is
// held again. With a LeaseStore, the session's refresh lease, which the
// refresh that spent that token kept, is let go.
func (s *Sessions) commitHeld(ctx context.Context, key string, cur, next *sessionRecord) error {
	if err := s.commit(ctx, key, next); err != nil {
		s.pending.put(key, cur.refreshToken, next, s.expiryOf(next), s.now())
		return err
	}
	s.pending.release()
	if _, ok := s.store.(LeaseStore); ok {
		s.unlease(ctx, key)
	}
	return nil
}

// flushSome stores up to flushBatch held successors, as the flusher
// would, so that a refresh that finds every slot taken once the store is
// back need not wait for it; it drops those whose session moved on or is
// gone. It reports whether it freed any, and stops at the first failure of
// the store. It runs in the flight of the refresh that called it, whose
// own session holds nothing (doRefresh took it), so it never joins that
// flight.
func (s *Sessions) flushSome(ctx context.Context) bool {
	freed := false
	for _, key := range s.pending.keys(flushBatch) {
		if errors.Is(s.flushKey(ctx, key), ErrSessionStoreUnavailable) {
			return freed
		}
		freed = true
	}
	return freed
}

// pendingCommits holds refreshed sessions that the store failed to take,
// keyed by session, with the refresh token they replace: with rotation that
// one is spent, and the successor must not be lost. It holds at most
// maxPending, counting the slots promised to refreshes in flight, so that
// no refresh is made whose successor would have nowhere to wait. Each entry
// lives until its session's idle deadline, and goes earlier with the
// session. While it holds anything, its flusher runs.
type pendingCommits struct {
	mu       sync.Mutex
	m        map[string]pendingCommit
	promised int       // slots promised to refreshes in flight
	swept    time.Time // when entries past their deadline were last dropped
	// flushing: the flusher runs, started by startFlusher.
	flushing     bool
	startFlusher func()
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
	defer p.unlockAndWake()
	p.promised--
	p.sweep(now)
	if p.m == nil {
		p.m = map[string]pendingCommit{}
	}
	p.m[key] = pendingCommit{spent: spent, rec: rec, deadline: deadline}
}

// take returns and forgets the successor of refresh token spent, the one
// the store holds now, if held; its slot stays promised, for put or
// release. A successor of another refresh token is dropped, and not
// revoked: the session moved on without it, to tokens of the same sign-in
// (another replica's refresh within the retry grace period, or this
// successor itself, when a write reported failed went through), and
// Cognito revokes a sign-in's tokens together.
func (p *pendingCommits) take(key, spent string) *sessionRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.m[key]
	if !ok {
		return nil
	}
	delete(p.m, key)
	if pc.spent != spent {
		return nil
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

// next returns the key of a held successor for the flusher to store. When
// there is none, the flusher's run is over: ok is false, and the next put
// starts another. Entries past their deadline are dropped first, once a
// sweepInterval.
func (p *pendingCommits) next(now time.Time) (key string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.swept) >= sweepInterval {
		p.sweep(now)
	}
	for key := range p.m {
		return key, true
	}
	p.flushing = false
	return "", false
}

// stopFlushing records that the flusher stopped before its work ran out;
// the next put starts another.
func (p *pendingCommits) stopFlushing() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushing = false
}

// unlockAndWake unlocks p.mu, which is held, and starts the flusher if
// there is work for it and it is not running.
func (p *pendingCommits) unlockAndWake() {
	start := !p.flushing && len(p.m) > 0
	if start {
		p.flushing = true
	}
	p.mu.Unlock()
	if start {
		p.startFlusher()
	}
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
