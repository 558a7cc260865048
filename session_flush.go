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
// gets the session's next request; and it revokes the refresh tokens of
// successors dropped unstored. It runs while anything is held or to be
// revoked, as one goroutine per Sessions at most, and ends when nothing is,
// or when a wait fails (ctx ended). While the store fails it tries one held
// successor per back-off, which doubles from flushFirstDelay up to
// flushMaxDelay; once one is stored it goes on with the rest at once.
func (s *Sessions) flush(ctx context.Context) {
	delay := flushFirstDelay
	for {
		if err := s.hooks.sleep(ctx, delay); err != nil {
			s.pending.stopFlushing()
			return
		}
		delay = min(2*delay, flushMaxDelay)
		for {
			orphans, key, ok := s.pending.next(s.now())
			if !ok {
				return
			}
			s.revokeOrphans(ctx, orphans)
			if key == "" {
				continue
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
		s.backoff.clear(key)
		s.pending.abandon(key)
		return nil, errSignedOut
	}
	next := s.pending.take(key, cur.refreshToken)
	if next == nil {
		return nil, errNotFlushed
	}
	if err := s.commitHeld(ctx, key, cur, next); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "cognito: stored a session's refreshed tokens that the store had refused")
	return next, nil
}

// commitHeld stores next, the successor held for key, over cur, which
// still holds the refresh token next replaced; if the store fails, next is
// held again. With a LeaseStore, the session's refresh lease, which the
// refresh that spent that token kept, is let go.
func (s *Sessions) commitHeld(ctx context.Context, key string, cur, next *sessionRecord) error {
	if err := s.commit(ctx, key, next); err != nil {
		s.pending.put(key, cur.refreshToken, next, s.expiryOf(next))
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

// revokeOrphans revokes the refresh tokens of successors dropped unstored,
// which nothing will ever use.
func (s *Sessions) revokeOrphans(ctx context.Context, tokens []string) {
	for _, rt := range tokens {
		if err := s.flow.Client.Revoke(ctx, rt); err != nil {
			s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token of refreshed tokens the store never took", "err", err)
		}
	}
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
	// orphans are the refresh tokens of successors dropped unstored, for
	// the flusher to revoke.
	orphans []string
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
// deadline are dropped first, once a sweepInterval at most (sweepDue): none
// outlives its session for long, and no refresh scans every entry.
func (p *pendingCommits) reserve(now time.Time) bool {
	p.mu.Lock()
	defer p.unlockAndWake()
	p.sweepDue(now)
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
// the slot that reserve or take promised.
func (p *pendingCommits) put(key, spent string, rec *sessionRecord, deadline time.Time) {
	p.mu.Lock()
	defer p.unlockAndWake()
	p.promised--
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

// abandon forgets key's successor, if one was held, for a session that is
// gone, and has its refresh token revoked.
func (p *pendingCommits) abandon(key string) {
	p.mu.Lock()
	defer p.unlockAndWake()
	if pc, ok := p.m[key]; ok {
		delete(p.m, key)
		p.orphan(pc)
	}
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

// next returns the flusher's work: refresh tokens to revoke, and the key
// of one held successor to store ("" for none). When there is neither, the
// flusher's run is over: ok is false, and the next put starts another.
// Entries past their deadline are dropped first, once a sweepInterval.
func (p *pendingCommits) next(now time.Time) (orphans []string, key string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepDue(now)
	orphans, p.orphans = p.orphans, nil
	for key = range p.m {
		break
	}
	if len(orphans) == 0 && key == "" {
		p.flushing = false
		return nil, "", false
	}
	return orphans, key, true
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
	start := !p.flushing && (len(p.m) > 0 || len(p.orphans) > 0)
	if start {
		p.flushing = true
	}
	p.mu.Unlock()
	if start {
		p.startFlusher()
	}
}

// sweepDue drops the entries past their deadline, unless it did less than
// a sweepInterval ago. p.mu is held.
func (p *pendingCommits) sweepDue(now time.Time) {
	if now.Sub(p.swept) < sweepInterval && !now.Before(p.swept) {
		return
	}
	p.swept = now
	for key, pc := range p.m {
		if !now.Before(pc.deadline) {
			delete(p.m, key)
			p.orphan(pc)
		}
	}
}

// orphan queues the refresh token of pc, dropped unstored, for the flusher
// to revoke, unless it is the one the refresh spent: without rotation, the
// session's own. The queue is bounded as the entries are; past that, a
// token is left to expire. p.mu is held.
func (p *pendingCommits) orphan(pc pendingCommit) {
	if pc.rec.refreshToken != pc.spent && len(p.orphans) < maxPending {
		p.orphans = append(p.orphans, pc.rec.refreshToken)
	}
}
