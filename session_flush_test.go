package cognito_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// failNextCommit makes the replica's next write of a refreshed session
// fail, after its lease (if its store has Lease) was taken: a blip of the
// store, or a write that outlasted the store timeout. back ends it.
func failNextCommit(store *gatedStore) (back func()) {
	if store.leasing == nil {
		store.failCommit.Store(true)
		return func() { store.failCommit.Store(false) }
	}
	store.leasing.onLease = func(held bool) {
		if held {
			store.failCommit.Store(true)
		}
	}
	return func() {
		store.leasing.onLease = nil
		store.failCommit.Store(false)
	}
}

// TestSessionsOneFailedCommitLosesNothing: with rotation, A spends the
// refresh token and the store fails once to take its successor. Once the
// store is back, A's flusher stores the successor with no request to A,
// and B, asked once the tokens have expired, serves it: nothing is lost,
// with or without Lease, whether the tokens still worked at the blip or
// not. (Before the flusher, B spent the dead refresh token, was refused,
// found it still stored and signed the user out.)
func TestSessionsOneFailedCommitLosesNothing(t *testing.T) {
	for _, kind := range storeKinds {
		for _, tc := range []struct {
			name    string
			advance time.Duration
			status  int // A's answer at the blip
		}{
			{"tokens still valid at the blip", 56 * time.Minute, http.StatusOK},
			{"tokens expired at the blip", 61 * time.Minute, http.StatusServiceUnavailable},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				f, a, b, as, _, user := rotatingFixture(t, kind.lease)
				before := b.last.Load().AccessToken
				f.clock.Advance(tc.advance)
				f.pool.ResetCounts()
				back := failNextCommit(as)
				res := user.get(a)
				back()
				assert.Equal(t, tc.status, res.StatusCode, body(res))
				assert.False(t, cookieCleared(res))
				held, _ := cognito.HeldForStore(a.sessions)
				require.Equal(t, 1, held, "A holds the successor the store refused")

				f.clock.Advance(5 * time.Minute)
				assert.Equal(t, "stopped", a.waits.flush(t), "A's flusher stored the successor, with no request to A")
				res = user.get(b)
				require.Equal(t, http.StatusOK, res.StatusCode, body(res))
				assert.False(t, cookieCleared(res), "B keeps the session")
				fresh := b.last.Load().AccessToken
				assert.NotEqual(t, before, fresh, "B serves the refreshed tokens")
				require.Equal(t, http.StatusOK, user.get(a).StatusCode)
				assert.Equal(t, fresh, a.last.Load().AccessToken, "one set of tokens on both replicas")
				assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the refresh token was spent once")
				assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize), "no new sign-in")
				held, _ = cognito.HeldForStore(a.sessions)
				assert.Zero(t, held)
				assert.Equal(t, []time.Duration{100 * time.Millisecond}, a.waits.backoffsTaken())
			})
		}
	}
}

// TestSessionsFlusherBacksOffWhileTheStoreFails: while the store refuses
// writes, the flusher tries one held successor per back-off, which doubles
// from 100 ms to at most 1 s (below the race wait of the other replicas);
// once the store takes one, it stores the rest at once and stops. One
// flusher serves every held successor.
func TestSessionsFlusherBacksOffWhileTheStoreFails(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	app, store := f.replicaOn(t, false)
	users := []*browser{f.browser(), f.browser()}
	for _, u := range users {
		u.signIn(t, app, "")
	}
	f.clock.Advance(56 * time.Minute)
	back := store.refuseWrites(false)
	for _, u := range users {
		require.Equal(t, http.StatusOK, u.get(app).StatusCode, "served while the tokens work")
	}
	held, _ := cognito.HeldForStore(app.sessions)
	require.Equal(t, 2, held)

	for range 5 {
		commits := store.commits.Load()
		assert.Equal(t, "parked", app.waits.flush(t), "the store still refuses writes")
		assert.Equal(t, int64(1), store.commits.Load()-commits, "one held successor tried per back-off")
	}
	back()
	commits := store.commits.Load()
	assert.Equal(t, "stopped", app.waits.flush(t))
	assert.Equal(t, int64(2), store.commits.Load()-commits, "once one is stored, the rest at once")
	assert.Equal(t, []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second,
	}, app.waits.backoffsTaken())
	started, most := app.waits.flushers()
	assert.Equal(t, 1, started, "one flusher for both")
	assert.Equal(t, 1, most)

	f.pool.ResetCounts()
	for _, u := range users {
		require.Equal(t, http.StatusOK, u.get(app).StatusCode)
	}
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "each user's refreshed tokens were stored")
}

// TestSessionsFlusherStopsWhenNothingIsHeld: however the held successor
// goes, the flusher that waited to store it stops once it finds nothing
// held, without a write of its own; the next successor held starts
// another.
func TestSessionsFlusherStopsWhenNothingIsHeld(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone func(t *testing.T, f *sessionFixture, app *replica, user *browser)
	}{
		{"the session's next request stored it", func(t *testing.T, f *sessionFixture, app *replica, user *browser) {
			f.clock.Advance(refreshBackoffForTests)
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
		}},
		{"the user signed out", func(t *testing.T, f *sessionFixture, app *replica, user *browser) {
			require.Equal(t, http.StatusSeeOther, user.do(app.handler, http.MethodPost, "/logout").StatusCode)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
			app, store := f.replicaOn(t, false)
			user := f.browser()
			user.signIn(t, app, "")
			f.clock.Advance(56 * time.Minute)
			back := store.refuseWrites(false)
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
			back()

			tc.gone(t, f, app, user)
			held, _ := cognito.HeldForStore(app.sessions)
			require.Zero(t, held)
			commits := store.commits.Load()
			assert.Equal(t, "stopped", app.waits.flush(t))
			assert.Equal(t, commits, store.commits.Load(), "the flusher wrote nothing")
			assert.Equal(t, "idle", app.waits.flush(t))

			other := f.browser()
			other.signIn(t, app, "")
			f.clock.Advance(56 * time.Minute)
			store.refuseWrites(false)
			require.Equal(t, http.StatusOK, other.get(app).StatusCode)
			started, most := app.waits.flushers()
			assert.Equal(t, 2, started, "a new flusher for the next successor held")
			assert.Equal(t, 1, most)
		})
	}
}

// TestSessionsFlusherNeverStoresOverANewerSession: within the retry grace
// period, B spends the refresh token A spent, whose successor the store
// refused A, and stores its own. A's flusher finds the session moved on:
// it drops its successor, neither storing it over B's nor revoking it
// (Cognito would revoke the whole sign-in with it, B's tokens included),
// and the session lives on.
func TestSessionsFlusherNeverStoresOverANewerSession(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true), cognitotest.WithRetryGracePeriod(30*time.Second),
		cognitotest.WithTokenLifetimes(time.Hour, 0))
	a, as := f.replicaOn(t, false)
	b, _ := f.replicaOn(t, false)
	user := f.browser()
	user.signIn(t, a, "")
	key := storeKey(user.cookie("cognito-session"))
	f.clock.Advance(56 * time.Minute)
	back := as.refuseWrites(false)
	require.Equal(t, http.StatusOK, user.get(a).StatusCode, "A spent the refresh token; its successor is held")
	back()
	require.Equal(t, http.StatusOK, user.get(b).StatusCode, "B spent it too, within the grace period, and stored its successor")
	stored, found, err := f.mem.Find(key)
	require.NoError(t, err)
	require.True(t, found)
	f.pool.ResetCounts()

	commits := as.commits.Load()
	assert.Equal(t, "stopped", a.waits.flush(t))
	assert.Equal(t, commits, as.commits.Load(), "A stored nothing")
	now, _, err := f.mem.Find(key)
	require.NoError(t, err)
	assert.Equal(t, stored, now, "B's tokens stand")
	held, _ := cognito.HeldForStore(a.sessions)
	assert.Zero(t, held, "A's successor is dropped")
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointRevoke), "and not revoked")

	f.clock.Advance(time.Hour) // B's tokens expired: a refresh with B's refresh token
	for _, rep := range []*replica{a, b} {
		res := user.get(rep)
		require.Equal(t, http.StatusOK, res.StatusCode, body(res))
	}
	assert.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize), "no new sign-in")
}

// refreshWaits drives one replica's refresh waits and flusher without the
// wall clock (cognito.SetRefreshHooks). A race wait passes at once, as if
// its time had passed, unless the test set duringRace, which then runs in
// its place and does what happens elsewhere meanwhile. The flusher runs on
// a goroutine that ends with the test, and waits in each back-off until the
// test calls flush.
type refreshWaits struct {
	ctx        context.Context // the test's: a flusher waiting in a back-off stops with it
	events     chan string     // what the flusher did: "parked" in a back-off, or "stopped"
	mu         sync.Mutex
	raced      time.Duration // race waits taken
	duringRace func(ctx context.Context) error
	parked     chan struct{}   // closing it ends the back-off the flusher waits in
	backoffs   []time.Duration // the flusher's back-offs, in order
	running    int             // flushers running
	started    int             // flushers started
	most       int             // flushers running at once, at most
}

// flusherContext marks the flusher's context, so that sleep tells its
// back-off from a race wait.
type flusherContext struct{}

func newRefreshWaits(t *testing.T) *refreshWaits {
	return &refreshWaits{ctx: t.Context(), events: make(chan string, 16)}
}

func (w *refreshWaits) sleep(ctx context.Context, d time.Duration) error {
	if ctx.Value(flusherContext{}) != nil {
		return w.backOff(ctx, d)
	}
	w.mu.Lock()
	w.raced += d
	during := w.duringRace
	w.mu.Unlock()
	if during != nil {
		return during(ctx)
	}
	return ctx.Err()
}

// backOff is the flusher's back-off: it lasts until flush ends it, or the
// test does.
func (w *refreshWaits) backOff(ctx context.Context, d time.Duration) error {
	release := make(chan struct{})
	w.mu.Lock()
	w.parked = release
	w.backoffs = append(w.backoffs, d)
	w.event("parked")
	w.mu.Unlock()
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *refreshWaits) goFlush(flush func(ctx context.Context)) {
	w.mu.Lock()
	w.running++
	w.started++
	w.most = max(w.most, w.running)
	w.mu.Unlock()
	go func() {
		flush(context.WithValue(w.ctx, flusherContext{}, true))
		w.mu.Lock()
		w.running--
		w.event("stopped")
		w.mu.Unlock()
	}()
}

// event records what the flusher did; w.mu is held.
func (w *refreshWaits) event(e string) {
	select {
	case w.events <- e:
	default: // nobody is reading: flush drops what came before it anyway
	}
}

// flush ends the back-off the replica's flusher waits in (once it gets
// there, if it is on its way) and returns what it did next: "parked" in its
// next back-off (the store failed it), or "stopped" (its work ran out). It
// returns "idle" when no flusher runs.
func (w *refreshWaits) flush(t *testing.T) string {
	t.Helper()
	for {
		w.mu.Lock()
		release, running := w.parked, w.running
		w.parked = nil
		for len(w.events) > 0 {
			<-w.events // what happened before this call
		}
		w.mu.Unlock()
		switch {
		case release != nil:
			close(release)
			return await(t, w.events, "the flusher's next move")
		case running == 0:
			return "idle"
		}
		if await(t, w.events, "the flusher's back-off") == "stopped" {
			return "stopped"
		}
	}
}

// backoffsTaken returns the flusher's back-offs so far, in order.
func (w *refreshWaits) backoffsTaken() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.backoffs...)
}

// flushers says how many flushers the replica started, and how many ran at
// once at most.
func (w *refreshWaits) flushers() (started, most int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started, w.most
}

// onRace makes each race wait run during instead.
func (w *refreshWaits) onRace(during func(ctx context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.duringRace = during
}

// racedFor is how long the replica's refreshes have waited out races.
func (w *refreshWaits) racedFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.raced
}

// until is a race wait that lasts until done is closed: until what the
// replica waits for has happened elsewhere.
func until(done <-chan struct{}) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSessionsLeaseKeptWhileTheSuccessorIsHeld: A's write of the tokens it
// refreshed under the session's lease fails, and A keeps the lease rather
// than let it go. B, asked at once with expired tokens, does not spend the
// dead refresh token (Cognito would refuse it and B, finding it still
// stored, would end the session) but waits out the race: it takes A's
// tokens if A's flusher stores them meanwhile, and answers 503 keeping the
// session if not. The lease goes once the tokens are stored.
func TestSessionsLeaseKeptWhileTheSuccessorIsHeld(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flushFirst bool // A's flusher stores the tokens while B waits
	}{
		{"A's flusher stores the tokens while B waits", true},
		{"B's race wait ends first", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, b, as, _, user := rotatingFixture(t, true)
			sid := user.cookie("cognito-session")
			f.clock.Advance(61 * time.Minute)
			f.pool.ResetCounts()
			back := failNextCommit(as)
			require.Equal(t, http.StatusServiceUnavailable, user.get(a).StatusCode)
			back()
			_, leased, err := f.mem.Find(leaseKey(sid))
			require.NoError(t, err)
			assert.True(t, leased, "A keeps the lease")

			bWaits, bGoes := make(chan struct{}), make(chan struct{})
			var once sync.Once
			b.waits.onRace(func(ctx context.Context) error {
				once.Do(func() { close(bWaits) })
				return until(bGoes)(ctx)
			})
			bDone := make(chan *http.Response, 1)
			r := user.request(http.MethodGet, "/api/me")
			go func() { bDone <- send(b.handler, r) }()
			await(t, bWaits, "B waiting out the race")
			if tc.flushFirst {
				assert.Equal(t, "stopped", a.waits.flush(t))
			}
			close(bGoes)
			res := await(t, bDone, "B's answer")
			assert.False(t, cookieCleared(res), "B keeps the session")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "B did not spend the dead refresh token")
			if !tc.flushFirst {
				assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, body(res))
				assert.Equal(t, "stopped", a.waits.flush(t))
				res = user.get(b)
			}
			require.Equal(t, http.StatusOK, res.StatusCode, body(res))
			require.Equal(t, http.StatusOK, user.get(a).StatusCode)
			assert.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken, "B serves A's tokens")
			f.assertNoLease(t, sid)
		})
	}
}

// TestSessionsHeldSuccessorsPastTheirDeadlineRevoked: a successor held for
// the store past its session's idle deadline is dropped, and its refresh
// token, which nothing will ever use, revoked; without rotation the
// refresh did not mint one, and the session's own is left alone.
func TestSessionsHeldSuccessorsPastTheirDeadlineRevoked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rotation bool
		revokes  int
	}{
		{"with rotation", true, 1},
		{"without rotation", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(tc.rotation))
			app, store := f.replicaOn(t, false, cognito.WithSessionLifetime(time.Hour, 0))
			user := f.browser()
			user.signIn(t, app, "")
			f.clock.Advance(56 * time.Minute)
			store.refuseWrites(false) // for good
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
			held, _ := cognito.HeldForStore(app.sessions)
			require.Equal(t, 1, held)
			assert.Equal(t, "parked", app.waits.flush(t), "the store refuses the successor")

			f.clock.Advance(time.Hour) // past the session's idle deadline
			f.pool.ResetCounts()
			assert.Equal(t, "stopped", app.waits.flush(t))
			held, _ = cognito.HeldForStore(app.sessions)
			assert.Zero(t, held)
			assert.Equal(t, tc.revokes, f.pool.Requests(cognitotest.EndpointRevoke))
			assert.NotContains(t, f.logs.String(), "cannot revoke", "the revocation went through")
		})
	}
}

// TestSessionsFlusherDropsTheSuccessorOfAnEndedSession: the user signs out
// on B while A holds the successor of the session's refresh, which the
// store refused. A's flusher finds the session gone: it drops the
// successor and revokes its refresh token.
func TestSessionsFlusherDropsTheSuccessorOfAnEndedSession(t *testing.T) {
	f, a, b, as, _, user := rotatingFixture(t, false)
	f.clock.Advance(56 * time.Minute)
	back := as.refuseWrites(false)
	require.Equal(t, http.StatusOK, user.get(a).StatusCode)
	back()
	f.pool.ResetCounts()
	require.Equal(t, http.StatusSeeOther, user.do(b.handler, http.MethodPost, "/logout").StatusCode)
	require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke), "the sign-out revoked the stored refresh token")

	commits := as.commits.Load()
	assert.Equal(t, "stopped", a.waits.flush(t))
	assert.Equal(t, commits, as.commits.Load(), "the session is not brought back")
	held, _ := cognito.HeldForStore(a.sessions)
	assert.Zero(t, held)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointRevoke), "and the flusher the held one")
}

// TestSessionsHeldSuccessorsSweptOnceASweepInterval: successors past their
// deadline are dropped once a sweep interval (a minute) at most, so that a
// refresh never scans every held successor: within the interval, a full
// process whose held successors the store refuses does not spend another
// refresh token, even if their deadlines have passed; a sweep interval on,
// it does.
func TestSessionsHeldSuccessorsSweptOnceASweepInterval(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	app, store := f.replicaOn(t, false)
	user := f.browser()
	user.signIn(t, app, "")
	f.clock.Advance(56 * time.Minute)
	cognito.FillHeldForStore(t, app.sessions, cognito.MaxPending, f.clock.Now().Add(time.Second), true)
	f.clock.Advance(30 * time.Second) // past the fillers' deadline, within the sweep interval
	store.refuseWrites(false)
	f.pool.ResetCounts()

	require.Equal(t, http.StatusOK, user.get(app).StatusCode, "the tokens still work")
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "no slot for a successor: the refresh token is not spent")
	held, _ := cognito.HeldForStore(app.sessions)
	assert.Equal(t, cognito.MaxPending, held)

	f.clock.Advance(30 * time.Second) // a sweep interval since the fill, and past the back-off
	require.Equal(t, http.StatusOK, user.get(app).StatusCode)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the sweep made room")
	held, _ = cognito.HeldForStore(app.sessions)
	assert.Equal(t, 1, held, "the session's own successor, which the store refused")
}

// TestSessionsBackOffsSweptOnceABackOff: back-offs that are over are
// dropped once a back-off (10 s) at most, so that starting one never scans
// them all at every failed refresh.
func TestSessionsBackOffsSweptOnceABackOff(t *testing.T) {
	f := newSessionFixture(t)
	app, _ := f.replicaOn(t, false)
	first, second := f.browser(), f.browser()
	first.signIn(t, app, "")
	second.signIn(t, app, "")
	cognito.FillBackingOff(app.sessions, 100, f.clock.Now().Add(56*time.Minute+time.Second))
	f.clock.Advance(56 * time.Minute)
	f.pool.ResetCounts()
	f.pool.FailNext(cognitotest.EndpointToken, 3, cognitotest.Failure{Status: http.StatusInternalServerError})

	require.Equal(t, http.StatusOK, first.get(app).StatusCode) // a failed refresh: a sweep, which keeps the fillers
	assert.Equal(t, 101, cognito.BackingOff(app.sessions))
	f.clock.Advance(2 * time.Second) // the fillers' back-offs are over
	require.Equal(t, http.StatusOK, second.get(app).StatusCode)
	assert.Equal(t, 102, cognito.BackingOff(app.sessions), "no sweep within a back-off of the last")
	f.clock.Advance(8 * time.Second) // a back-off since the sweep; first's is over too
	require.Equal(t, http.StatusOK, first.get(app).StatusCode)
	assert.Equal(t, 2, cognito.BackingOff(app.sessions), "swept: second's, and first's new one")
	assert.Equal(t, 3, f.pool.Requests(cognitotest.EndpointToken))
}

// TestSessionsReplicaAskedAsTheStoreComesBack: without Lease, A spent the
// refresh token and holds its successor, which the store refused; the
// store comes back, and B is asked with expired tokens before A's flusher
// has tried again. Cognito refuses B's refresh (A spent the token) and B
// waits out the race for A's tokens: A's flusher, whose back-off is at most
// 1 s, below the default race wait of 2 s, stores them meanwhile and B
// serves them. A race wait that ends before the flusher's next try is what
// can still lose the session: B finds the spent token still stored and
// ends it.
func TestSessionsReplicaAskedAsTheStoreComesBack(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flushFirst bool // A's flusher stores the tokens while B waits
		status     int
	}{
		{"A's flusher stores the tokens while B waits", true, http.StatusOK},
		{"B's race wait ends first", false, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, b, as, _, user := rotatingFixture(t, false)
			f.clock.Advance(61 * time.Minute)
			back := as.refuseWrites(false)
			require.Equal(t, http.StatusServiceUnavailable, user.get(a).StatusCode)
			back()

			bWaits, bGoes := make(chan struct{}), make(chan struct{})
			var once sync.Once
			b.waits.onRace(func(ctx context.Context) error {
				once.Do(func() { close(bWaits) })
				return until(bGoes)(ctx)
			})
			bDone := make(chan *http.Response, 1)
			r := user.request(http.MethodGet, "/api/me")
			go func() { bDone <- send(b.handler, r) }()
			await(t, bWaits, "B waiting out the race")
			if tc.flushFirst {
				assert.Equal(t, "stopped", a.waits.flush(t))
			}
			close(bGoes)
			res := await(t, bDone, "B's answer")
			assert.Equal(t, tc.status, res.StatusCode, body(res))
			assert.Equal(t, !tc.flushFirst, cookieCleared(res))
			if tc.flushFirst {
				require.Equal(t, http.StatusOK, user.get(a).StatusCode)
				assert.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken, "B serves A's tokens")
			}
		})
	}
}

// afterCommit makes every Commit that goes through run fn with its ID.
func (s *testStore) afterCommit(fn func(id string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCommit = fn
}

// TestSessionsFlusherBackOffStartsOverAfterAStore: once the store takes a
// held successor, the flusher's back-off starts again from 100 ms, should
// the store fail the next one: it is a new outage, not the old one.
func TestSessionsFlusherBackOffStartsOverAfterAStore(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	app, store := f.replicaOn(t, false)
	users := []*browser{f.browser(), f.browser()}
	for _, u := range users {
		u.signIn(t, app, "")
	}
	f.clock.Advance(56 * time.Minute)
	back := store.refuseWrites(false)
	for _, u := range users {
		require.Equal(t, http.StatusOK, u.get(app).StatusCode)
	}
	for range 2 {
		require.Equal(t, "parked", app.waits.flush(t))
	}
	back()
	store.afterCommit(func(string) { store.failCommit.Store(true) }) // the store takes one, then fails again
	assert.Equal(t, "parked", app.waits.flush(t))
	held, _ := cognito.HeldForStore(app.sessions)
	assert.Equal(t, 1, held, "one stored, one held")
	backoffs := app.waits.backoffsTaken()
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond}, backoffs)
	store.afterCommit(nil)
	back()
	assert.Equal(t, "stopped", app.waits.flush(t))
}
