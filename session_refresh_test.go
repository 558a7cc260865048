package cognito_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// BenchmarkSessionsSignedInRequest is one signed-in request through
// Sessions.Require on a MemoryStore, with tokens that need no refresh: the
// path that the refresh machinery must leave alone (one store read, no
// write, no allocation of its own).
func BenchmarkSessionsSignedInRequest(b *testing.B) {
	pool := cognitotest.NewServer(b)
	pool.AddUser(cognitotest.User{Username: "bench", Email: "bench@example.com"})
	pool.SignInAs("bench")
	cfg := pool.Config()
	client, err := cognito.NewClient(cfg)
	require.NoError(b, err)
	verifier, err := cognito.NewVerifier(cfg)
	require.NoError(b, err)
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, cognito.NewMemoryStore())
	require.NoError(b, err)

	login := httptest.NewRecorder()
	sessions.Login(login, httptest.NewRequest(http.MethodGet, "http://localhost/login", nil))
	require.Equal(b, http.StatusFound, login.Code)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(login.Header().Get("Location"))
	require.NoError(b, err)
	res.Body.Close()
	cbURL, err := url.Parse(res.Header.Get("Location"))
	require.NoError(b, err)
	cb := httptest.NewRequest(http.MethodGet, cbURL.String(), nil)
	for _, c := range login.Result().Cookies() {
		cb.AddCookie(c)
	}
	done := httptest.NewRecorder()
	sessions.Callback(done, cb)
	require.Equal(b, http.StatusSeeOther, done.Code, done.Body.String())
	req := httptest.NewRequest(http.MethodGet, "http://localhost/page", nil)
	for _, c := range done.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			req.AddCookie(c)
		}
	}
	h := sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))

	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// gatedStore is a replica's view of the shared store whose writes the test
// can hold: while a gate is set, each Commit waits until it is opened, as a
// write to a Redis that is slow to answer would. Everything else is
// testStore's (failing Finds, Commits, Deletes on demand).
type gatedStore struct {
	*testStore
	leasing *leasingStore // the replica's store, when it has Lease
	mu      sync.Mutex
	gate    chan struct{} // nil: Commit goes through
	waiting chan struct{} // closed once a Commit waits at the gate
}

// holdWrites makes Commits wait until the returned function is called, and
// returns a channel that is closed once one of them waits.
func (s *gatedStore) holdWrites() (waiting <-chan struct{}, open func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate, s.waiting = make(chan struct{}), make(chan struct{})
	gate := s.gate
	var once sync.Once
	return s.waiting, func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate = nil
			s.mu.Unlock()
			close(gate)
		})
	}
}

func (s *gatedStore) Commit(id string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	gate, waiting := s.gate, s.waiting
	if gate != nil && waiting != nil {
		close(waiting)
		s.waiting = nil
	}
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return s.testStore.Commit(id, data, expiry)
}

// refuseWrites makes the store refuse every Commit (and, for a
// leasingStore, Lease) until the returned function is called, as a Redis at
// maxmemory with noeviction does; Deletes too when deletes is set (a Redis
// at maxmemory takes them).
func (s *gatedStore) refuseWrites(deletes bool) (back func()) {
	s.failCommit.Store(true)
	s.failDelete.Store(deletes)
	return func() {
		s.failCommit.Store(false)
		s.failDelete.Store(false)
	}
}

// leasingStore is a gatedStore with Lease (cognito.LeaseStore), on the
// shared MemoryStore: a store such as redisstore's.
type leasingStore struct {
	*gatedStore
	// onLease, when set before the replica serves, runs after each Lease
	// with its outcome.
	onLease func(held bool)
}

func (s *leasingStore) Lease(ctx context.Context, id string, data []byte, expiry time.Time) (bool, error) {
	if s.failCommit.Load() {
		return false, errStoreDown
	}
	held, err := s.mem.Lease(ctx, id, data, expiry)
	if s.onLease != nil {
		s.onLease(held)
	}
	return held, err
}

// storeKinds are the two kinds of shared store a replica may have: without
// Lease, as every scs store, and with it.
var storeKinds = []struct {
	name  string
	lease bool
}{{"store without Lease", false}, {"LeaseStore", true}}

// replicaOn makes an app process as sessionFixture.replica does, on a
// gatedStore over the fixture's MemoryStore, with Lease when lease is set.
func (f *sessionFixture) replicaOn(t *testing.T, lease bool, opts ...cognito.SessionOption) (*replica, *gatedStore) {
	t.Helper()
	gs := &gatedStore{testStore: &testStore{mem: f.mem}}
	var store cognito.SessionStore = gs
	if lease {
		gs.leasing = &leasingStore{gatedStore: gs}
		store = gs.leasing
	}
	cfg := f.pool.Config()
	client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	v, err := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	rep := &replica{flow: &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}, store: gs.testStore}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep.sessions, err = cognito.NewSessions(rep.flow, store, append([]cognito.SessionOption{cognito.WithSessionLogger(logger)}, opts...)...)
	require.NoError(t, err)
	rep.waits = newRefreshWaits(t)
	cognito.SetRefreshHooks(rep.sessions, rep.waits.sleep, rep.waits.goFlush)
	mux := http.NewServeMux()
	mux.HandleFunc("/login", rep.sessions.Login)
	mux.HandleFunc("/callback", rep.sessions.Callback)
	mux.HandleFunc("/logout", rep.sessions.Logout)
	mux.Handle("/", rep.sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := cognito.SessionFromContext(r.Context())
		if !assert.True(t, ok, "Require let a request through without a session") {
			return
		}
		rep.last.Store(sess)
		f.secrets.add(sess.AccessToken)
		fmt.Fprintf(w, "hello %s", sess.IDToken.Email)
	})))
	rep.handler = mux
	return rep, gs
}

// cookieCleared reports whether res deletes the session cookie: a sign-out.
func cookieCleared(res *http.Response) bool {
	c := findCookie(res, "cognito-session")
	return c != nil && c.MaxAge < 0
}

// rotatingFixture is a pool that rotates refresh tokens with no retry grace
// period, one hour tokens, and a user signed in on a replica A; B is a
// second replica on the same store. The race wait is short: nothing here
// depends on it but how long the tests take.
func rotatingFixture(t *testing.T, lease bool, bOpts ...cognito.SessionOption) (f *sessionFixture, a, b *replica, as, bs *gatedStore, user *browser) {
	t.Helper()
	f = newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true), cognitotest.WithRetryGracePeriod(0),
		cognitotest.WithTokenLifetimes(time.Hour, 0))
	opts := []cognito.SessionOption{cognito.WithRefreshRaceWait(20 * time.Millisecond)}
	a, as = f.replicaOn(t, lease, opts...)
	b, bs = f.replicaOn(t, lease, append(opts, bOpts...)...)
	user = f.browser()
	user.signIn(t, a, "")
	require.Equal(t, http.StatusOK, user.get(b).StatusCode, "signed in on A, signed in on B")
	return f, a, b, as, bs, user
}

// TestSessionsLoserOfASlowWriteKeepsTheSession: A spends the refresh token
// and its write of the successor takes longer than B's race wait (the issue
// had 3 s against 2 s); B's refresh, refused or held back, serves the tokens
// that still work and never signs the user out, and once A's write lands
// both replicas serve A's tokens with no new sign-in.
func TestSessionsLoserOfASlowWriteKeepsTheSession(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			f, a, b, as, bs, user := rotatingFixture(t, kind.lease)
			key := storeKey(user.cookie("cognito-session"))
			f.clock.Advance(56 * time.Minute) // inside the refresh margin; the tokens still work
			f.pool.ResetCounts()
			before := *b.last.Load() // the tokens B served after the sign-in on A

			waiting, open := as.holdWrites()
			defer open()
			aDone := make(chan *http.Response, 1)
			r := user.request(http.MethodGet, "/api/me")
			go func() { aDone <- send(a.handler, r) }()
			await(t, waiting, "A's write") // A spent the refresh token; its write hangs

			finds := bs.finds.Load()
			res := user.get(b)
			// Its request and its refresh read the session; refused, B reads
			// it once more, and does not wait while the tokens work.
			wantFinds := int64(3)
			if kind.lease {
				wantFinds = 2 // no refresh, no refusal: the lease was A's
			}
			assert.Equal(t, wantFinds, bs.finds.Load()-finds, "B's reads of the store")
			assert.Equal(t, http.StatusOK, res.StatusCode, "B serves the tokens that still work: %s", body(res))
			assert.False(t, cookieCleared(res), "B keeps the session cookie")
			assert.Equal(t, before.AccessToken, b.last.Load().AccessToken)
			_, found, err := f.mem.Find(key)
			require.NoError(t, err)
			assert.True(t, found, "B did not delete the session")

			open() // A's write lands
			resA := await(t, aDone, "A's answer")
			require.Equal(t, http.StatusOK, resA.StatusCode)
			fresh := a.last.Load().AccessToken
			require.NotEqual(t, before.AccessToken, fresh)
			f.clock.Advance(refreshBackoffForTests)
			for _, rep := range []*replica{b, a, b} {
				res := user.get(rep)
				require.Equal(t, http.StatusOK, res.StatusCode, body(res))
				assert.Equal(t, fresh, rep.last.Load().AccessToken, "A's tokens, from the store")
			}
			assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize), "no new sign-in")
			wantRefreshes := 2 // A's, and B's refused one
			if kind.lease {
				wantRefreshes = 1 // B saw A's lease and did not spend the token
			}
			assert.Equal(t, wantRefreshes, f.pool.Requests(cognitotest.EndpointToken))
			logs := f.logs.String()
			assert.NotContains(t, logs, "level=WARN", "a lost race is no warning")
			assert.NotContains(t, logs, "level=ERROR")
			if kind.lease {
				assert.Contains(t, logs, `level=DEBUG msg="cognito: another replica is refreshing the session" tokens_work=true`)
			} else {
				assert.Contains(t, logs, `level=INFO msg="cognito: the refresh token was refused while the session's tokens still work;`)
			}
		})
	}
}

// await receives from ch, failing the test if nothing comes within 10 s:
// a regression must fail the test, not hang it.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s never came", what)
		var zero T
		return zero
	}
}

// refreshBackoffForTests is the back-off after a refresh that failed while
// the tokens still work (10 s, as Require's doc says).
const refreshBackoffForTests = 10 * time.Second

// TestSessionsStoreThatRefusesWritesSignsNobodyOut: while the shared store
// refuses writes (as a Redis at maxmemory with noeviction does, taking
// deletes still, or deletes too), a refresh on either replica costs the
// user nothing: tokens that still work are served, expired ones get 503
// with the cookie kept, and once the store is back both replicas serve the
// session with no new sign-in, whichever is asked first. Without Lease, A
// spent the refresh token and holds its successor in memory, which its
// flusher stores once the store is back.
func TestSessionsStoreThatRefusesWritesSignsNobodyOut(t *testing.T) {
	for _, kind := range storeKinds {
		for _, deletes := range []bool{false, true} {
			testStoreThatRefusesWrites(t, kind.name, kind.lease, deletes)
		}
	}
}

func testStoreThatRefusesWrites(t *testing.T, kindName string, lease, deletes bool) {
	refused := "refusing writes, taking deletes"
	if deletes {
		refused = "refusing writes and deletes"
	}
	for _, tc := range []struct {
		name    string
		advance time.Duration
		status  int  // while the store refuses writes
		bFirst  bool // B, not A, is asked first once the store is back
	}{
		{"tokens still valid, A asked first when back", 56 * time.Minute, http.StatusOK, false},
		{"tokens still valid, B asked first when back", 56 * time.Minute, http.StatusOK, true},
		{"tokens expired, A asked first when back", 61 * time.Minute, http.StatusServiceUnavailable, false},
		{"tokens expired, B asked first when back", 61 * time.Minute, http.StatusServiceUnavailable, true},
	} {
		t.Run(kindName+"/"+refused+"/"+tc.name, func(t *testing.T) {
			f, a, b, as, bs, user := rotatingFixture(t, lease)
			key := storeKey(user.cookie("cognito-session"))
			before := b.last.Load().AccessToken
			f.clock.Advance(tc.advance)
			f.pool.ResetCounts()
			backA, backB := as.refuseWrites(deletes), bs.refuseWrites(deletes)

			for _, rep := range []*replica{a, b, a, b} {
				res := user.get(rep)
				assert.Equal(t, tc.status, res.StatusCode, body(res))
				assert.False(t, cookieCleared(res), "the session cookie is kept")
			}
			_, found, err := f.mem.Find(key)
			require.NoError(t, err)
			require.True(t, found, "the session is in the store")
			if lease {
				assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "no lease, no refresh token spent")
			}

			backA()
			backB()
			f.clock.Advance(refreshBackoffForTests)
			// Meanwhile A's flusher stored the successor it held, if any: with
			// Lease, no refresh token was spent, and none is held.
			flushed := "stopped"
			if lease {
				flushed = "idle"
			}
			assert.Equal(t, flushed, a.waits.flush(t))
			order := []*replica{a, b, a}
			if tc.bFirst {
				order = []*replica{b, a, b}
			}
			for _, rep := range order {
				res := user.get(rep)
				require.Equal(t, http.StatusOK, res.StatusCode, body(res))
				assert.False(t, cookieCleared(res))
			}
			fresh := a.last.Load().AccessToken
			assert.NotEqual(t, before, fresh, "refreshed tokens")
			assert.Equal(t, fresh, b.last.Load().AccessToken, "one set of tokens on both replicas")
			assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize), "no new sign-in")
		})
	}
}

// tokenHook runs after each answer of the token endpoint, before the Client
// reads it: what happens elsewhere while a refresh is on its way.
type tokenHook func()

func (h tokenHook) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.URL.Path == "/oauth2/token" {
		h()
	}
	return res, err
}

// onTokenAnswers gives rep a Client whose token answers run hook.
func (f *sessionFixture) onTokenAnswers(t *testing.T, rep *replica, hook func()) {
	t.Helper()
	client, err := cognito.NewClient(f.pool.Config(), cognito.WithClock(f.clock.Now),
		cognito.WithHTTPClient(&http.Client{Transport: tokenHook(hook)}))
	require.NoError(t, err)
	rep.flow.Client = client
}

// leaseKey is the store key of the refresh lease of the session with ID sid.
func leaseKey(sid string) string {
	return "cognito-refresh:" + strings.TrimPrefix(storeKey(sid), "cognito-session:")
}

// assertNoLease checks that no refresh lease of session sid is left.
func (f *sessionFixture) assertNoLease(t *testing.T, sid string) {
	t.Helper()
	_, found, err := f.mem.Find(leaseKey(sid))
	require.NoError(t, err)
	assert.False(t, found, "the refresh lease was let go")
}

// TestSessionsWaitForTheLeaseHolder: at expiry, B finds A holding the
// session's refresh lease while A's write hangs. B does not spend the
// refresh token: it watches the store and takes A's tokens when they land
// within the race wait, and answers 503, keeping the session, when they do
// not.
func TestSessionsWaitForTheLeaseHolder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		raceWait time.Duration
	}{
		{"A's tokens land within the race wait", time.Minute},
		{"A's write outlasts the race wait", 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, b, as, bs, user := rotatingFixture(t, true, cognito.WithRefreshRaceWait(tc.raceWait))
			f.clock.Advance(61 * time.Minute)
			f.pool.ResetCounts()
			waiting, open := as.holdWrites()
			defer open()
			aDone, aServed := make(chan *http.Response, 1), make(chan struct{})
			ra := user.request(http.MethodGet, "/api/me")
			go func() {
				aDone <- send(a.handler, ra)
				close(aServed)
			}()
			await(t, waiting, "A's write") // A holds the lease, spent the refresh token, and its write hangs
			if tc.raceWait == time.Minute {
				// While B waits out the race, A's write lands.
				b.waits.onRace(func(ctx context.Context) error {
					open()
					return until(aServed)(ctx)
				})
			}

			bWaits := make(chan struct{})
			var once sync.Once
			bs.leasing.onLease = func(held bool) {
				if !held {
					once.Do(func() { close(bWaits) })
				}
			}
			bDone := make(chan *http.Response, 1)
			rb := user.request(http.MethodGet, "/api/me")
			go func() { bDone <- send(b.handler, rb) }()
			await(t, bWaits, "B's look at A's lease")
			if tc.raceWait < time.Minute {
				resB := await(t, bDone, "B's answer")
				assert.Equal(t, http.StatusServiceUnavailable, resB.StatusCode, "the tokens expired and A's are not in yet")
				assert.False(t, cookieCleared(resB))
				assert.Equal(t, tc.raceWait, b.waits.racedFor(), "B waited out the race wait")
			}
			open()
			resA := await(t, aDone, "A's answer")
			require.Equal(t, http.StatusOK, resA.StatusCode)
			if tc.raceWait < time.Minute {
				bDone <- user.get(b)
			}
			resB := await(t, bDone, "B's answer")
			require.Equal(t, http.StatusOK, resB.StatusCode, body(resB))
			assert.False(t, cookieCleared(resB))
			assert.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken, "B serves A's tokens")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "B never spent the refresh token")
			if tc.raceWait == time.Minute {
				assert.Contains(t, f.logs.String(), "took the tokens another replica refreshed")
				assert.Less(t, b.waits.racedFor(), tc.raceWait, "B took A's tokens within the race wait")
			}
		})
	}
}

// TestSessionsLeaseAfterTheHoldersRefresh: B read the session before A's
// refresh, at expiry. When A let its lease go, B takes it, reads the
// session again under it and finds A's tokens; when A could not (its
// Delete failed), B finds the lease held and A's tokens in the store at its
// first look. Either way B serves A's tokens without spending the refresh
// token A spent, and without waiting out the race wait.
func TestSessionsLeaseAfterTheHoldersRefresh(t *testing.T) {
	for _, tc := range []struct {
		name    string
		aKeeps  bool // A's Delete of its lease fails
		bWaited bool // B found the lease held
	}{
		{"A let the lease go", false, false},
		{"A could not let the lease go", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// B polls the store five times within the race wait (10, 20, 40,
			// 80, then 50 ms apart); it needs one.
			f, a, b, as, bs, user := rotatingFixture(t, true, cognito.WithRefreshRaceWait(200*time.Millisecond))
			sid := user.cookie("cognito-session")
			f.clock.Advance(61 * time.Minute)
			bs.serveStale(t, storeKey(sid), 2) // B's request and its refresh read the session from before A's refresh
			f.pool.ResetCounts()
			as.failDelete.Store(tc.aKeeps)
			var bLeases []bool
			bs.leasing.onLease = func(held bool) { bLeases = append(bLeases, held) }

			require.Equal(t, http.StatusOK, user.get(a).StatusCode)
			_, leased, err := f.mem.Find(leaseKey(sid))
			require.NoError(t, err)
			assert.Equal(t, tc.aKeeps, leased, "A let its lease go if it could")
			res := user.get(b)
			require.Equal(t, http.StatusOK, res.StatusCode, body(res))
			assert.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken, "B serves A's tokens")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "B did not spend the refresh token")
			assert.Equal(t, []bool{!tc.bWaited}, bLeases, "B asked for the lease once")
			if !tc.aKeeps {
				f.assertNoLease(t, sid)
			} else {
				assert.Contains(t, f.logs.String(), "cannot let a session's refresh lease go")
			}
		})
	}
}

// TestSessionsEventsDuringARefreshRace: what the store says while B loses a
// refresh race decides for B. A session deleted meanwhile (a sign-out on
// another replica) is a signed-out user; a store that fails is a 503 that
// keeps the session, which works again afterwards.
func TestSessionsEventsDuringARefreshRace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lease  bool
		when   string // refused: after Cognito refused B's refresh; leased: once B took the lease; waiting: once B found A's lease
		event  string // "signed out" or "store fails"
		status int
	}{
		{"refused, then the session is deleted", false, "refused", "signed out", http.StatusUnauthorized},
		{"refused, then the store fails", false, "refused", "store fails", http.StatusServiceUnavailable},
		{"lease taken, then the session is deleted", true, "leased", "signed out", http.StatusUnauthorized},
		{"lease taken, then the store fails", true, "leased", "store fails", http.StatusServiceUnavailable},
		{"waiting for the holder, then the session is deleted", true, "waiting", "signed out", http.StatusUnauthorized},
		{"waiting for the holder, then the store fails", true, "waiting", "store fails", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, b, as, bs, user := rotatingFixture(t, tc.lease, cognito.WithRefreshRaceWait(time.Minute))
			sid := user.cookie("cognito-session")
			key := storeKey(sid)
			f.clock.Advance(61 * time.Minute)
			var once sync.Once
			event := func() {
				once.Do(func() {
					if tc.event == "signed out" {
						require.NoError(t, f.mem.Delete(key))
					} else {
						bs.failFind.Store(true)
					}
				})
			}
			switch tc.when {
			case "refused":
				bs.serveStale(t, key, 2)
				require.Equal(t, http.StatusOK, user.get(a).StatusCode, "A refreshed")
				f.onTokenAnswers(t, b, event)
			case "leased":
				bs.leasing.onLease = func(held bool) {
					if held {
						event()
					}
				}
			case "waiting":
				waiting, open := as.holdWrites()
				defer open()
				r := user.request(http.MethodGet, "/api/me")
				go func() { send(a.handler, r) }()
				await(t, waiting, "A's write")
				bs.leasing.onLease = func(held bool) {
					if !held {
						event()
					}
				}
			}

			res := user.get(b)
			assert.Equal(t, tc.status, res.StatusCode, body(res))
			assert.Equal(t, tc.event == "signed out", cookieCleared(res), "the cookie is cleared only for a signed-out user")
			if tc.when == "leased" {
				f.assertNoLease(t, sid)
			}
		})
	}
}

// TestSessionsDeadRefreshTokenEndsTheSession: a refresh token that really
// died (its lifetime is over) ends the session once the tokens have
// expired, with nothing of the refresh left in the store; but a store that
// fails to delete the session keeps the cookie and answers 503, and the
// session ends once the store is back.
func TestSessionsDeadRefreshTokenEndsTheSession(t *testing.T) {
	for _, kind := range storeKinds {
		for _, deleteFails := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, delete fails %v", kind.name, deleteFails), func(t *testing.T) {
				f := newSessionFixture(t, cognitotest.WithTokenLifetimes(time.Hour, 2*time.Hour))
				app, store := f.replicaOn(t, kind.lease, cognito.WithRefreshRaceWait(0))
				user := f.browser()
				user.signIn(t, app, "")
				sid := user.cookie("cognito-session")
				f.clock.Advance(2 * time.Hour) // the refresh token expired

				store.failDelete.Store(deleteFails)
				res := user.get(app)
				if deleteFails {
					assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
					assert.False(t, cookieCleared(res), "a failed delete never clears the cookie")
					_, found, err := f.mem.Find(storeKey(sid))
					require.NoError(t, err)
					assert.True(t, found)
					store.failDelete.Store(false)
					// With Lease, the lease that could not be let go holds
					// the next try back until it ends, 30 s on.
					f.clock.Advance(30 * time.Second)
					res = user.get(app)
				}
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
				assert.True(t, cookieCleared(res))
				assert.Zero(t, f.mem.Len(), "neither the session nor a lease or probe is left")
				assert.Contains(t, f.logs.String(), `msg="cognito: session ended" reason="the refresh token was refused"`)
			})
		}
	}
}

// TestSessionsNoRefreshWithoutRoomForTheSuccessor: a process holds at most
// cognito.MaxPending successors for a store that refused them. When that
// many are held and none can be stored or dropped, a refresh does not spend
// the rotating refresh token, whose successor could not be kept: the
// tokens are served while they work, and 503 after. Once the store takes
// writes again, a refresh first stores a few held successors, freeing their
// slots; successors whose session is gone, or past their deadline, make
// room too.
func TestSessionsNoRefreshWithoutRoomForTheSuccessor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fill      int
		inStore   bool          // the fillers' sessions are in the store
		deadline  time.Duration // of the fillers, from the fill
		refused   bool          // the store refuses writes: the fillers cannot be stored
		spent     bool          // the refresh token was spent
		heldAfter int
	}{
		{"one slot left", cognito.MaxPending - 1, true, 24 * time.Hour, true, true, cognito.MaxPending},
		{"full, and the store refuses the held successors", cognito.MaxPending, true, 24 * time.Hour, true, false, cognito.MaxPending},
		{"full, and the store takes the held successors", cognito.MaxPending, true, 24 * time.Hour, false, true, cognito.MaxPending - 8},
		{"full, of sessions that are gone", cognito.MaxPending, false, 24 * time.Hour, true, true, cognito.MaxPending - 8 + 1},
		{"full, past their deadline", cognito.MaxPending, true, time.Minute, true, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
			app, store := f.replicaOn(t, false)
			user := f.browser()
			user.signIn(t, app, "")
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
			before := app.last.Load().AccessToken
			cognito.FillHeldForStore(t, app.sessions, tc.fill, f.clock.Now().Add(tc.deadline), tc.inStore)
			f.clock.Advance(56 * time.Minute) // inside the margin, the tokens still work
			f.pool.ResetCounts()
			if tc.refused {
				store.refuseWrites(false)
			}

			res := user.get(app)
			require.Equal(t, http.StatusOK, res.StatusCode, body(res))
			tokenRequests := 0
			if tc.spent {
				tokenRequests = 1
			}
			assert.Equal(t, tokenRequests, f.pool.Requests(cognitotest.EndpointToken), "refresh token spent")
			held, promised := cognito.HeldForStore(app.sessions)
			assert.Equal(t, tc.heldAfter, held, "successors held")
			assert.Zero(t, promised, "no slot stays promised")
			if tc.spent && !tc.refused {
				assert.NotEqual(t, before, app.last.Load().AccessToken, "refreshed")
				return
			}
			assert.Equal(t, before, app.last.Load().AccessToken, "the tokens that still work")
			if !tc.spent {
				f.clock.Advance(5 * time.Minute) // expired
				res := user.get(app)
				assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
				assert.False(t, cookieCleared(res))
				assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "still not spent")
				assert.Contains(t, f.logs.String(), "refreshed sessions await the store already")
			}
		})
	}
}

// TestSessionsHeldSuccessorsSweptAtTheirDeadline: a successor held for the
// store lives until its session's idle deadline; past it, the first
// refresh a sweep interval (a minute) after the last sweep drops it, and
// nothing earlier does, not even holding another successor.
func TestSessionsHeldSuccessorsSweptAtTheirDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance time.Duration // after the fill, before the refresh
		refuse  bool          // the refresh's own successor is held: a put
		held    int
	}{
		{"a put within the sweep interval does not", 31 * time.Second, true, 11},
		{"a refresh a sweep interval on sweeps", time.Minute, false, 0},
		{"a refresh within the sweep interval does not", time.Minute - time.Millisecond, false, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
			app, store := f.replicaOn(t, false)
			user := f.browser()
			user.signIn(t, app, "")
			f.clock.Advance(55 * time.Minute)
			cognito.FillHeldForStore(t, app.sessions, 10, f.clock.Now().Add(30*time.Second), false)
			f.clock.Advance(tc.advance)
			if tc.refuse {
				store.refuseWrites(false)
			}
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
			require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken)-1, "refreshed")
			held, _ := cognito.HeldForStore(app.sessions)
			assert.Equal(t, tc.held, held)
		})
	}
}

// TestSessionsEndedSessionsLeaveNothingBehind: whichever way a session
// ends, the process drops what it held for it (a back-off, a successor the
// store refused) and revokes that successor's refresh token, which nothing
// would ever use or revoke otherwise.
func TestSessionsEndedSessionsLeaveNothingBehind(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rotation bool
		revokes  int // at Cognito, by the ending
		end      func(t *testing.T, f *sessionFixture, app *replica, store *gatedStore, user *browser) *http.Response
	}{
		{"sign-out", true, 2, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			return user.do(app.handler, http.MethodPost, "/logout")
		}},
		{"sign-out without rotation", false, 1, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			return user.do(app.handler, http.MethodPost, "/logout")
		}},
		{"idle timeout, the store expired it", true, 1, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			f.clock.Advance(5 * time.Minute) // an hour after sign-in, the idle timeout
			return user.get(app)
		}},
		{"idle timeout, the successor's revocation fails", true, 1, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			f.clock.Advance(5 * time.Minute)
			f.pool.FailNext(cognitotest.EndpointRevoke, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
			return user.get(app)
		}},
		{"idle timeout, the store kept it", true, 1, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			f.clock.Advance(5 * time.Minute)
			f.mem.Now = func() time.Time { return time.Unix(0, 0) } // a store that keeps everything
			return user.get(app)
		}},
		{"a new sign-in replaces it", true, 2, func(t *testing.T, f *sessionFixture, app *replica, _ *gatedStore, user *browser) *http.Response {
			cb := user.callbackURL(t, app, "")
			f.pool.ResetCounts()
			return user.do(app.handler, http.MethodGet, cb)
		}},
		{"deleted elsewhere during its refresh", true, 1, func(t *testing.T, f *sessionFixture, app *replica, store *gatedStore, user *browser) *http.Response {
			key := storeKey(user.cookie("cognito-session"))
			store.serveStale(t, key, 1) // the request finds it; its refresh does not
			require.NoError(t, f.mem.Delete(key))
			f.clock.Advance(refreshBackoffForTests)
			return user.get(app)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(tc.rotation))
			app, store := f.replicaOn(t, false, cognito.WithSessionLifetime(time.Hour, 0))
			user := f.browser()
			user.signIn(t, app, "")
			f.clock.Advance(56 * time.Minute)
			back := store.refuseWrites(false)
			require.Equal(t, http.StatusOK, user.get(app).StatusCode, "served while the tokens work")
			back()
			held, _ := cognito.HeldForStore(app.sessions)
			require.Equal(t, 1, held, "the successor the store refused")
			require.Equal(t, 1, cognito.BackingOff(app.sessions), "the refresh is held back")
			f.pool.ResetCounts()

			res := tc.end(t, f, app, store, user)
			require.Less(t, res.StatusCode, 500, body(res))
			held, _ = cognito.HeldForStore(app.sessions)
			assert.Zero(t, held, "no successor held")
			assert.Zero(t, cognito.BackingOff(app.sessions), "no back-off")
			assert.Equal(t, tc.revokes, f.pool.Requests(cognitotest.EndpointRevoke), "refresh tokens revoked")
			// A failed revocation is logged; one that worked is not.
			const warning = "cannot revoke the refresh token held for an ended session"
			if strings.HasSuffix(tc.name, "revocation fails") {
				assert.Contains(t, f.logs.String(), warning)
			} else {
				assert.NotContains(t, f.logs.String(), warning)
			}
		})
	}
}

// TestSessionsBackOffsSweptWhenOver: a back-off entry lives until it is
// over; the next one started drops those that are, so that the bounded map
// (cognito.MaxPending entries) is not kept full by sessions that never came
// back, which would make every other session retry at every request.
func TestSessionsBackOffsSweptWhenOver(t *testing.T) {
	for _, tc := range []struct {
		name   string
		over   bool // the fillers' back-offs are over
		held   int  // back-offs held after the session's
		waited bool // the session's next request waits out its own back-off
	}{
		{"the others are over", true, 1, true},
		{"the others still hold", false, cognito.MaxPending, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t)
			app, _ := f.replicaOn(t, false)
			user := f.browser()
			user.signIn(t, app, "")
			until := f.clock.Now().Add(time.Hour)
			if tc.over {
				until = f.clock.Now().Add(56 * time.Minute) // over by the time of the refresh
			}
			cognito.FillBackingOff(app.sessions, cognito.MaxPending, until)
			f.clock.Advance(56 * time.Minute)
			f.pool.ResetCounts()
			f.pool.FailNext(cognitotest.EndpointToken, 2, cognitotest.Failure{Status: http.StatusInternalServerError})
			require.Equal(t, http.StatusOK, user.get(app).StatusCode, "the tokens still work")
			assert.Equal(t, tc.held, cognito.BackingOff(app.sessions))
			require.Equal(t, http.StatusOK, user.get(app).StatusCode)
			wantTries := 2
			if tc.waited {
				wantTries = 1
			}
			assert.Equal(t, wantTries, f.pool.Requests(cognitotest.EndpointToken), "tries of the refresh")
		})
	}
}

// tokenHookBefore runs before each request to the token endpoint: what
// happens at the pool just before it answers a refresh.
type tokenHookBefore func()

func (h tokenHookBefore) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/oauth2/token" {
		h()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestSessionsRetiredSigningKey: the pool rotated its keys and retired the
// one that signed a session's ID token, so that a replica started since
// (whose JWKS lacks it) can never verify that token. Rather than answer
// 503 until the tokens' next refresh (up to 55 minutes), it refreshes once,
// with the usual back-off when that fails, and serves the new tokens, which
// a current key signed.
func TestSessionsRetiredSigningKey(t *testing.T) {
	setup := func(t *testing.T) (*sessionFixture, *replica, *gatedStore, *browser) {
		f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
		a, _ := f.replicaOn(t, true)
		user := f.browser()
		user.signIn(t, a, "")
		require.Equal(t, http.StatusOK, user.get(a).StatusCode)
		f.clock.Advance(10 * time.Minute) // the tokens are not due for a refresh
		f.pool.RotateKeys(cognitotest.DropOld)
		fresh, store := f.replicaOn(t, true) // started after the rotation
		f.pool.ResetCounts()
		return f, fresh, store, user
	}

	t.Run("one refresh, and the session goes on", func(t *testing.T) {
		f, app, _, user := setup(t)
		before := user.cookie("cognito-session")
		res := user.get(app)
		require.Equal(t, http.StatusOK, res.StatusCode, body(res))
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "one refresh")
		assert.Equal(t, before, user.cookie("cognito-session"), "the same session")
		assert.NotNil(t, findCookie(res, "cognito-session"), "the cookie is renewed with the session")
		require.Equal(t, http.StatusOK, user.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the new tokens are stored")
		assert.Zero(t, cognito.BackingOff(app.sessions))
	})
	t.Run("the refresh fails: 503, then the back-off", func(t *testing.T) {
		f, app, _, user := setup(t)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
		res := user.get(app)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.False(t, cookieCleared(res))
		f.clock.Advance(refreshBackoffForTests - time.Millisecond)
		assert.Equal(t, http.StatusServiceUnavailable, user.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "no new try within the back-off")
		f.clock.Advance(time.Millisecond)
		assert.Equal(t, http.StatusOK, user.get(app).StatusCode)
		assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken))
	})
	t.Run("the JWKS is down: no refresh", func(t *testing.T) {
		f, app, _, user := setup(t)
		require.NoError(t, app.flow.Verifier.Prefetch(context.Background()))
		f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
		assert.Equal(t, http.StatusServiceUnavailable, user.get(app).StatusCode)
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "the keys may be fine: the JWKS could not say")
		assert.Equal(t, http.StatusOK, user.get(app).StatusCode, "the JWKS back: it lacks the key, and the refresh brings tokens of a current one")
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	})
	t.Run("the session ended meanwhile", func(t *testing.T) {
		f, app, store, user := setup(t)
		key := storeKey(user.cookie("cognito-session"))
		store.serveStale(t, key, 1) // the request finds it; its refresh does not
		require.NoError(t, f.mem.Delete(key))
		res := user.get(app)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.True(t, cookieCleared(res))
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken))
	})
	t.Run("the new tokens' key is unknown too: 503, then the back-off", func(t *testing.T) {
		f, app, _, user := setup(t)
		// The pool rotates again just before it answers the refresh: the
		// JWKS this replica read a moment ago lacks that key too.
		var once sync.Once
		client, err := cognito.NewClient(f.pool.Config(), cognito.WithClock(f.clock.Now),
			cognito.WithHTTPClient(&http.Client{Transport: tokenHookBefore(func() { once.Do(func() { f.pool.RotateKeys() }) })}))
		require.NoError(t, err)
		app.flow.Client = client
		assert.Equal(t, http.StatusServiceUnavailable, user.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
		assert.Equal(t, http.StatusServiceUnavailable, user.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "no new try within the back-off")
		f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod) // the JWKS may be read again, and has the key
		assert.Equal(t, http.StatusOK, user.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the stored tokens were fine")
	})
}

// TestSessionsRefreshRaceLogs: the race of two replicas for a rotating
// refresh token is ordinary: the loser's refused refresh is logged at Info
// by its Client (WithLogger), its taking the winner's tokens at Info by
// Sessions, and nothing at Warn.
func TestSessionsRefreshRaceLogs(t *testing.T) {
	f, a, b, _, bs, user := rotatingFixture(t, false)
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, rep := range []*replica{a, b} {
		client, err := cognito.NewClient(f.pool.Config(), cognito.WithClock(f.clock.Now), cognito.WithLogger(logger))
		require.NoError(t, err)
		rep.flow.Client = client
	}
	f.clock.Advance(time.Hour)
	bs.serveStale(t, storeKey(user.cookie("cognito-session")), 2) // B read the session before A's refresh
	require.Equal(t, http.StatusOK, user.get(a).StatusCode)
	require.Equal(t, http.StatusOK, user.get(b).StatusCode)
	require.Equal(t, a.last.Load().AccessToken, b.last.Load().AccessToken)

	logs := f.logs.String()
	assert.Contains(t, logs, `level=INFO msg="cognito: token request failed" grant_type=refresh_token status=400 code=invalid_grant`)
	assert.Contains(t, logs, `level=INFO msg="cognito: took the tokens another replica refreshed"`)
	assert.NotContains(t, logs, "level=WARN")
	assert.NotContains(t, logs, "level=ERROR")
}

// TestSessionsSignedInRequestCostsOneRead: a signed-in request whose tokens
// need no refresh reads the store once and writes nothing, leases nothing,
// whatever the refresh machinery around it.
func TestSessionsSignedInRequestCostsOneRead(t *testing.T) {
	f := newSessionFixture(t)
	app, store := f.replicaOn(t, true)
	leases := 0
	store.leasing.onLease = func(bool) { leases++ }
	user := f.browser()
	user.signIn(t, app, "")
	finds, commits, deletes := store.finds.Load(), store.commits.Load(), store.deletes.Load()
	for range 3 {
		require.Equal(t, http.StatusOK, user.get(app).StatusCode)
	}
	assert.Equal(t, int64(3), store.finds.Load()-finds, "one read per request")
	assert.Equal(t, commits, store.commits.Load(), "no write")
	assert.Equal(t, deletes, store.deletes.Load(), "no delete")
	assert.Zero(t, leases, "no lease")
}

// TestSessionsRefreshInFlightHoldsASlot: a refresh on its way to Cognito
// holds a slot for its successor, so that held successors and refreshes in
// flight together stay within cognito.MaxPending. With one slot left and
// that taken by a refresh in flight, another session's refresh does not
// spend its refresh token (the store refuses writes, so none of the held
// successors can go); when the held successors are past their deadline,
// the count that makes the store full sweeps them first, even within the
// sweep interval, and the refresh goes ahead.
func TestSessionsRefreshInFlightHoldsASlot(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // of the held successors, from the fill
		later    time.Duration // from the fill to the second session's request
		spent    bool          // the second session's refresh token was spent
	}{
		{"held successors and the refresh in flight fill the slots", 24 * time.Hour, 30 * time.Second, false},
		// Held successors are swept at most once a sweep interval (a minute).
		{"the held successors are past their deadline, a sweep interval on", 20 * time.Second, time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
			app, store := f.replicaOn(t, false)
			first, second := f.browser(), f.browser()
			first.signIn(t, app, "")
			second.signIn(t, app, "")
			f.clock.Advance(55*time.Minute + 30*time.Second) // inside the margin; the tokens still work
			cognito.FillHeldForStore(t, app.sessions, cognito.MaxPending-1, f.clock.Now().Add(tc.deadline), true)
			f.clock.Advance(tc.later) // the tokens still work
			store.refuseWrites(false)

			arrived, release := make(chan struct{}), make(chan struct{})
			var held atomic.Bool
			client, err := cognito.NewClient(f.pool.Config(), cognito.WithClock(f.clock.Now),
				cognito.WithHTTPClient(&http.Client{Transport: tokenHookBefore(func() {
					if held.CompareAndSwap(false, true) { // the first refresh only
						close(arrived)
						<-release
					}
				})}))
			require.NoError(t, err)
			app.flow.Client = client
			f.pool.ResetCounts()

			firstDone := make(chan *http.Response, 1)
			r := first.request(http.MethodGet, "/api/me")
			go func() { firstDone <- send(app.handler, r) }()
			await(t, arrived, "the first session's refresh") // on its way, holding a slot

			res := second.get(app)
			require.Equal(t, http.StatusOK, res.StatusCode, "the tokens still work: %s", body(res))
			want := 0
			if tc.spent {
				want = 1
			}
			assert.Equal(t, want, f.pool.Requests(cognitotest.EndpointToken), "the second session's refresh token spent")

			close(release)
			require.Equal(t, http.StatusOK, await(t, firstDone, "the first session's answer").StatusCode)
			_, promised := cognito.HeldForStore(app.sessions)
			assert.Zero(t, promised, "no slot stays promised")
		})
	}
}
