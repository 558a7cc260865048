package cognito_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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

// testStore wraps a MemoryStore, possibly shared with other testStores (the
// replicas' views of one Redis), and can fail, serve garbage or serve a
// stale copy, as a real store over a network might.
type testStore struct {
	mem *cognito.MemoryStore

	failFind, failCommit, failDelete, garbage atomic.Bool
	finds, commits, deletes                   atomic.Int64

	mu         sync.Mutex
	staleFinds int    // the next staleFinds Finds of staleKey answer staleData
	staleKey   string //
	staleData  []byte //
	committed  []commitCall
	onCommit   func(id string) // runs after each Commit that went through
}

type commitCall struct {
	id     string
	data   []byte
	expiry time.Time
}

var errStoreDown = errors.New("test store: connection refused")

func (s *testStore) Find(id string) ([]byte, bool, error) {
	s.finds.Add(1)
	if s.failFind.Load() {
		return nil, false, errStoreDown
	}
	if s.garbage.Load() {
		return []byte("\x01garbage"), true, nil
	}
	s.mu.Lock()
	if s.staleFinds > 0 && id == s.staleKey {
		s.staleFinds--
		data := s.staleData
		s.mu.Unlock()
		return data, true, nil
	}
	s.mu.Unlock()
	return s.mem.Find(id)
}

func (s *testStore) Commit(id string, data []byte, expiry time.Time) error {
	s.commits.Add(1)
	if s.failCommit.Load() {
		return errStoreDown
	}
	s.mu.Lock()
	s.committed = append(s.committed, commitCall{id, bytes.Clone(data), expiry})
	onCommit := s.onCommit
	s.mu.Unlock()
	err := s.mem.Commit(id, data, expiry)
	if onCommit != nil {
		onCommit(id)
	}
	return err
}

func (s *testStore) Delete(id string) error {
	s.deletes.Add(1)
	if s.failDelete.Load() {
		return errStoreDown
	}
	return s.mem.Delete(id)
}

// onCommitOf makes every Commit of id that goes through run fn.
func (s *testStore) onCommitOf(id string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCommit = func(got string) {
		if got == id {
			fn()
		}
	}
}

// serveStale makes the next n Finds of id answer what id holds now.
func (s *testStore) serveStale(t *testing.T, id string, n int) {
	t.Helper()
	data, found, err := s.mem.Find(id)
	require.NoError(t, err)
	require.True(t, found)
	s.mu.Lock()
	s.staleKey, s.staleData, s.staleFinds = id, data, n
	s.mu.Unlock()
}

func (s *testStore) commitCalls() []commitCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]commitCall(nil), s.committed...)
}

// replica is one app process: its own Client, Verifier and Sessions, over a
// store that may be shared with other replicas.
type replica struct {
	sessions *cognito.Sessions
	flow     *cognito.LoginFlow
	store    *testStore
	waits    *refreshWaits
	handler  http.Handler
	last     atomic.Pointer[cognito.Session]
}

// sessionFixture is a fake pool, a clock shared by everything, and replicas
// of an app served at http://localhost with Sessions on /login, /callback,
// /logout and everything else behind Require.
type sessionFixture struct {
	pool    *cognitotest.Server
	clock   *cognitotest.Clock
	mem     *cognito.MemoryStore
	logs    *logBuffer
	secrets *secretSet
}

func newSessionFixture(t *testing.T, poolOpts ...cognitotest.Option) *sessionFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, append([]cognitotest.Option{cognitotest.WithClock(clock.Now)}, poolOpts...)...)
	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw", Email: "alice@example.com", EmailVerified: true})
	pool.SignInAs("alice")
	f := &sessionFixture{
		pool: pool, clock: clock, logs: &logBuffer{}, secrets: &secretSet{},
		mem: &cognito.MemoryStore{Now: clock.Now},
	}
	t.Cleanup(func() { f.assertNoSecretsLogged(t) })
	return f
}

// replica makes an app process. verifierOpts go to its Verifier.
func (f *sessionFixture) replica(t *testing.T, opts []cognito.SessionOption, verifierOpts ...cognito.Option) *replica {
	t.Helper()
	cfg := f.pool.Config()
	client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	v, err := cognito.NewVerifier(cfg, append([]cognito.Option{cognito.WithClock(f.clock.Now)}, verifierOpts...)...)
	require.NoError(t, err)
	rep := &replica{flow: &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}, store: &testStore{mem: f.mem}}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]cognito.SessionOption{cognito.WithSessionLogger(logger)}, opts...)
	rep.sessions, err = cognito.NewSessions(rep.flow, rep.store, opts...)
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
	return rep
}

// secretSet collects what must never be logged: session IDs, codes, tokens.
type secretSet struct {
	mu sync.Mutex
	s  []string
}

func (s *secretSet) add(v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	s.s = append(s.s, v)
	s.mu.Unlock()
}

func (f *sessionFixture) assertNoSecretsLogged(t *testing.T) {
	logs := f.logs.String()
	// Every JWT, and cognitotest's JWE-shaped refresh tokens, start with
	// the base64url of `{"`.
	assert.NotContains(t, logs, "eyJ", "a token was logged")
	f.secrets.mu.Lock()
	defer f.secrets.mu.Unlock()
	for _, s := range f.secrets.s {
		assert.NotContains(t, logs, s, "a secret was logged")
	}
}

// browser keeps cookies as a browser would, for http://localhost.
type browser struct {
	f       *sessionFixture
	mu      sync.Mutex
	cookies map[string]string
}

func (f *sessionFixture) browser() *browser { return &browser{f: f, cookies: map[string]string{}} }

// request builds a request with the browser's cookies and header pairs.
func (b *browser) request(method, target string, header ...string) *http.Request {
	r := httptest.NewRequest(method, "http://localhost"+target, nil)
	b.mu.Lock()
	for name, value := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	b.mu.Unlock()
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// send serves r with h, without keeping any cookie: safe for concurrent use.
func send(h http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// do serves a request and keeps the cookies the answer sets.
func (b *browser) do(h http.Handler, method, target string, header ...string) *http.Response {
	res := send(h, b.request(method, target, header...))
	b.keep(res)
	return res
}

func (b *browser) keep(res *http.Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
			b.f.secrets.add(c.Value)
		}
	}
}

func (b *browser) cookie(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cookies[name]
}

func (b *browser) setCookie(name, value string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cookies[name] = value
}

// callbackURL runs a login on rep up to the hosted UI's redirect back, and
// returns that callback's path and query, not yet visited.
func (b *browser) callbackURL(t *testing.T, rep *replica, returnTo string) string {
	t.Helper()
	target := "/login"
	if returnTo != "" {
		target += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	res := b.do(rep.handler, http.MethodGet, target)
	require.Equal(t, http.StatusFound, res.StatusCode)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hosted, err := noFollow.Get(res.Header.Get("Location"))
	require.NoError(t, err)
	hosted.Body.Close()
	require.Equal(t, http.StatusFound, hosted.StatusCode)
	cb, err := url.Parse(hosted.Header.Get("Location"))
	require.NoError(t, err)
	b.f.secrets.add(cb.Query().Get("code"))
	return cb.RequestURI()
}

// signIn signs the browser in on rep and returns where the callback sent it.
func (b *browser) signIn(t *testing.T, rep *replica, returnTo string) string {
	t.Helper()
	res := b.do(rep.handler, http.MethodGet, b.callbackURL(t, rep, returnTo))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
	require.NotEmpty(t, b.cookie("cognito-session"))
	return res.Header.Get("Location")
}

func body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// get asks for a page as a browser's script would (no redirect to sign in).
func (b *browser) get(rep *replica) *http.Response {
	return b.do(rep.handler, http.MethodGet, "/api/me", "Accept", "application/json")
}

func storeKey(sessionID string) string {
	h := sha256.Sum256([]byte(sessionID))
	return "cognito-session:" + base64.RawURLEncoding.EncodeToString(h[:])
}

func TestSessionsSignInAndRequire(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()

	res := b.get(app)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "signed out at first")

	loc := b.signIn(t, app, "/orders?id=7")
	assert.Equal(t, "/orders?id=7", loc)

	res = b.get(app)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "hello alice@example.com", body(res))
	sess := app.last.Load()
	require.NotNil(t, sess)
	assert.Equal(t, "alice@example.com", sess.IDToken.Email)
	assert.True(t, sess.IDToken.EmailVerified)
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), sess.Expiry, 0)
	at, err := app.flow.Verifier.VerifyAccessToken(context.Background(), sess.AccessToken)
	require.NoError(t, err, "the session's access token is valid")
	assert.Equal(t, sess.IDToken.Subject, at.Subject)
}

func TestSessionsCookie(t *testing.T) {
	t.Run("plain http on loopback", func(t *testing.T) {
		f := newSessionFixture(t)
		app := f.replica(t, nil)
		b := f.browser()
		res := b.do(app.handler, http.MethodGet, b.callbackURL(t, app, ""))
		c := findCookie(res, "cognito-session")
		require.NotNil(t, c)
		assert.False(t, c.Secure)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, int((24 * time.Hour).Seconds()), c.MaxAge, "lives until the idle deadline")
		raw, err := base64.RawURLEncoding.DecodeString(c.Value)
		require.NoError(t, err)
		assert.Len(t, raw, 32, "256 random bits")
	})
	t.Run("https", func(t *testing.T) {
		f := newSessionFixture(t, cognitotest.WithRedirectURI("https://app.example.com/callback"))
		app := f.replica(t, nil)
		b := f.browser()
		res := b.do(app.handler, http.MethodGet, b.callbackURL(t, app, ""))
		c := findCookie(res, "__Host-cognito-session")
		require.NotNil(t, c, "Secure, with the __Host- prefix")
		assert.True(t, c.Secure)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, "/", c.Path)
		assert.Empty(t, c.Domain)
	})
	t.Run("InsecureCookie", func(t *testing.T) {
		f := newSessionFixture(t, cognitotest.WithRedirectURI("https://app.example.com/callback"))
		cfg := f.pool.Config()
		client, _ := cognito.NewClient(cfg)
		v, _ := cognito.NewVerifier(cfg)
		s, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: v, InsecureCookie: true}, cognito.NewMemoryStore())
		require.NoError(t, err)
		w := httptest.NewRecorder()
		s.Login(w, httptest.NewRequest(http.MethodGet, "/login?return_to=/x", nil))
		for _, c := range w.Result().Cookies() {
			assert.False(t, c.Secure, c.Name)
			assert.False(t, strings.HasPrefix(c.Name, "__Host-"), c.Name)
		}
	})
}

func TestSessionsCookieFollowsTheIdleDeadline(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(16*time.Minute, 0)})
	b := f.browser()
	b.signIn(t, app, "")
	id := b.cookie("cognito-session")

	res := b.get(app)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Nil(t, findCookie(res, "cognito-session"), "nothing moved: no Set-Cookie")

	f.clock.Advance(2 * time.Minute) // a touch moves the idle deadline
	res = b.get(app)
	require.Equal(t, http.StatusOK, res.StatusCode)
	c := findCookie(res, "cognito-session")
	require.NotNil(t, c, "the browser must keep the cookie as long as the server keeps the session")
	assert.Equal(t, id, c.Value, "the same session")
	assert.Equal(t, int((16 * time.Minute).Seconds()), c.MaxAge)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "a session ID in no shared cache")

	for range 4 { // past the tokens' refresh, used every 14 minutes
		f.clock.Advance(14 * time.Minute)
		res = b.get(app)
		require.Equal(t, http.StatusOK, res.StatusCode)
		c = findCookie(res, "cognito-session")
		require.NotNil(t, c)
		assert.Equal(t, int((16 * time.Minute).Seconds()), c.MaxAge)
	}
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "the code, then one refresh on the way")
}

func findCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionsStoreOnlyAHashOfTheID(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	id := b.cookie("cognito-session")

	calls := app.store.commitCalls()
	require.NotEmpty(t, calls)
	for _, c := range calls {
		assert.NotContains(t, c.id, id)
		assert.NotContains(t, string(c.data), id)
		assert.Equal(t, storeKey(id), c.id)
	}
	_, found, err := f.mem.Find(id)
	require.NoError(t, err)
	assert.False(t, found, "the cookie's value is no key of the store")
}

func TestSessionsReturnTo(t *testing.T) {
	cases := []struct{ name, returnTo, want string }{
		{"a path with a query", "/orders?id=7&x=y", "/orders?id=7&x=y"},
		{"a percent-encoded path", "/a%2Fb", "/a%2Fb"},
		{"none", "", "/"},
		{"another origin", "https://evil.example/steal", "/"},
		{"scheme-relative", "//evil.example/steal", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"backslashes only", "\\\\evil.example", "/"},
		{"a scheme", "javascript:alert(1)", "/"},
		{"a relative path", "orders", "/"},
		{"CR LF", "/ok\r\nSet-Cookie: a=b", "/"},
		{"a tab", "/\t/evil.example", "/"},
		{"NUL", "/a\x00b", "/"},
		{"DEL", "/a\x7fb", "/"},
		{"a C1 control", "/a\u0085b", "/"},
		{"the last C1 control", "/a\u009fb", "/"},
		{"just past the C1 controls", "/a\u00a0b", "/a%c2%a0b"}, // as http.Redirect escapes it
		{"invalid UTF-8", "/a\xffb", "/"},
		{"too long", "/" + strings.Repeat("a", 3000), "/"},
		{"as long as allowed", "/" + strings.Repeat("a", 2047), "/" + strings.Repeat("a", 2047)},
		{"a byte too long", "/" + strings.Repeat("a", 2048), "/"},
		{"user info", "/@evil.example", "/@evil.example"},
	}
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser()
			got := b.signIn(t, app, tc.returnTo)
			assert.Equal(t, tc.want, got)
			u, err := url.Parse(got)
			require.NoError(t, err)
			assert.Empty(t, u.Host)
			assert.Empty(t, u.Scheme)
		})
	}
}

func TestSessionsReturnToTamperedCookie(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	cb := b.callbackURL(t, app, "/fine")
	var name string
	for n := range b.cookies {
		if strings.HasPrefix(n, "cognito-session-return-") {
			name = n
		}
	}
	require.NotEmpty(t, name, "the return path travels in a cookie of its own")
	assert.Equal(t, "/fine", mustDecode(t, b.cookie(name)))
	b.setCookie(name, base64.RawURLEncoding.EncodeToString([]byte("//evil.example")))

	res := b.do(app.handler, http.MethodGet, cb)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"), "checked again on the way back")
	c := findCookie(res, name)
	require.NotNil(t, c, "the callback deletes the return cookie")
	assert.Negative(t, c.MaxAge, "the callback deletes the return cookie")
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return string(b)
}

func TestSessionsNewIDAtEverySignIn(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	first := b.cookie("cognito-session")
	stolen := f.browser()
	stolen.setCookie("cognito-session", first)
	require.Equal(t, http.StatusOK, stolen.get(app).StatusCode)

	b.signIn(t, app, "")
	second := b.cookie("cognito-session")

	assert.NotEqual(t, first, second)
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, stolen.get(app).StatusCode, "the old ID is worth nothing")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke), "and its refresh token was revoked")
}

func TestSessionsPlantedIDIsReplaced(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	planted := cognito.GenerateVerifier() // well-formed, unknown: an attacker's
	b.setCookie("cognito-session", planted)

	b.signIn(t, app, "")

	assert.NotEqual(t, planted, b.cookie("cognito-session"))
	victim := f.browser()
	victim.setCookie("cognito-session", planted)
	assert.Equal(t, http.StatusUnauthorized, victim.get(app).StatusCode)
}

func TestSessionsBadSessionIDsAreSignedOut(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	good := f.browser()
	good.signIn(t, app, "")
	id := good.cookie("cognito-session")
	tampered := []byte(id)
	tampered[5] ^= 1

	for name, value := range map[string]string{
		"unknown":       cognito.GenerateVerifier(),
		"tampered":      string(tampered),
		"too short":     id[:20],
		"too long":      id + "A",
		"not base64url": strings.Repeat("*", 43),
		"empty":         "",
		"padded":        id[:42] + "=",
	} {
		t.Run(name, func(t *testing.T) {
			b := f.browser()
			b.setCookie("cognito-session", value)
			res := b.get(app)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
			assert.True(t, cookieCleared(res), "the cookie is deleted")
			res = b.do(app.handler, http.MethodGet, "/page", "Sec-Fetch-Mode", "navigate")
			assert.Equal(t, http.StatusSeeOther, res.StatusCode)
			assert.Equal(t, "/login?return_to=%2Fpage", res.Header.Get("Location"))
		})
	}
	assert.Equal(t, http.StatusOK, good.get(app).StatusCode)
}

func TestSessionsSignedOutAnswers(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithLoginPath("/auth/login")})
	cases := []struct {
		name, method, target string
		header               []string
		status               int
		location             string
	}{
		{"navigation", "GET", "/orders?id=7", []string{"Sec-Fetch-Mode", "navigate"}, 303, "/auth/login?return_to=%2Forders%3Fid%3D7"},
		{"HTML GET without Fetch Metadata", "GET", "/orders", []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}, 303, "/auth/login?return_to=%2Forders"},
		{"a navigation's POST", "POST", "/orders", []string{"Sec-Fetch-Mode", "navigate"}, 303, "/auth/login"},
		{"the site's root", "GET", "/", []string{"Sec-Fetch-Mode", "navigate"}, 303, "/auth/login"},
		{"fetch from a script", "GET", "/api/me", []string{"Sec-Fetch-Mode", "cors", "Accept", "text/html"}, 401, ""},
		{"JSON without Fetch Metadata", "GET", "/api/me", []string{"Accept", "application/json"}, 401, ""},
		{"no Accept", "GET", "/api/me", nil, 401, ""},
		{"HTML POST without Fetch Metadata", "POST", "/orders", []string{"Accept", "text/html"}, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.browser().do(app.handler, tc.method, tc.target, tc.header...)
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Equal(t, tc.location, res.Header.Get("Location"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		})
	}
}

func TestSessionsRefreshInsideTheMargin(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshMargin(10 * time.Minute)})
	b := f.browser()
	b.signIn(t, app, "")
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	first := *app.last.Load()
	f.pool.ResetCounts()

	f.clock.Advance(50*time.Minute - time.Second)
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, 0, f.pool.Requests(cognitotest.EndpointToken), "outside the margin: no refresh")
	assert.Equal(t, first.AccessToken, app.last.Load().AccessToken)

	f.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "inside the margin: one refresh")
	now := app.last.Load()
	assert.NotEqual(t, first.AccessToken, now.AccessToken)
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), now.Expiry, 0)
	assert.Equal(t, first.IDToken.Subject, now.IDToken.Subject)

	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the refreshed tokens are stored")
}

func TestSessionsRefreshMarginIsCutToHalfTheLifetime(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithTokenLifetimes(10*time.Minute, 0))
	app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshMargin(8 * time.Minute)})
	b := f.browser()
	b.signIn(t, app, "")
	f.pool.ResetCounts()

	f.clock.Advance(5*time.Minute - time.Second)
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, 0, f.pool.Requests(cognitotest.EndpointToken))
	f.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
}

func TestSessionsOneRefreshForFiftyConcurrentRequests(t *testing.T) {
	for _, rotation := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotation %v", rotation), func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(rotation))
			app := f.replica(t, nil)
			b := f.browser()
			b.signIn(t, app, "")
			f.clock.Advance(time.Hour + time.Minute) // the tokens expired
			f.pool.ResetCounts()

			statuses := make(chan int, 50)
			var wg sync.WaitGroup
			for range 50 {
				r := b.request(http.MethodGet, "/api/me")
				wg.Go(func() { statuses <- send(app.handler, r).StatusCode })
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				assert.Equal(t, http.StatusOK, s)
			}
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
			assert.Equal(t, http.StatusOK, b.get(app).StatusCode)
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
		})
	}
}

func TestSessionsReplicasWithRotation(t *testing.T) {
	for _, grace := range []time.Duration{0, 30 * time.Second} {
		t.Run(fmt.Sprintf("grace %s", grace), func(t *testing.T) { testReplicasWithRotation(t, grace) })
	}
}

func testReplicasWithRotation(t *testing.T, grace time.Duration) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true), cognitotest.WithRetryGracePeriod(grace))
	a, bRep := f.replica(t, nil), f.replica(t, nil)
	user := f.browser()
	user.signIn(t, a, "")
	require.Equal(t, http.StatusOK, user.get(bRep).StatusCode, "signed in on A, signed in on B")

	key := storeKey(user.cookie("cognito-session"))
	for round := range 3 {
		f.clock.Advance(time.Hour) // the tokens expire: every request needs a refresh
		f.pool.ResetCounts()
		// The replica whose refresh Cognito refuses (the other spent the
		// token first) waits out the race until the other's tokens are in.
		landed := make(chan struct{})
		var once sync.Once
		for _, rep := range []*replica{a, bRep} {
			rep.store.onCommitOf(key, func() { once.Do(func() { close(landed) }) })
			rep.waits.onRace(until(landed))
		}
		statuses := make(chan int, 40)
		var wg sync.WaitGroup
		for i := range 40 {
			rep := a
			if i%2 == 1 {
				rep = bRep
			}
			r := user.request(http.MethodGet, "/api/me")
			wg.Go(func() { statuses <- send(rep.handler, r).StatusCode })
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			assert.Equal(t, http.StatusOK, s, "round %d", round)
		}
		assert.LessOrEqual(t, f.pool.Requests(cognitotest.EndpointToken), 2, "at most one refresh per replica")
		assert.GreaterOrEqual(t, f.pool.Requests(cognitotest.EndpointToken), 1)
	}
	assert.Equal(t, http.StatusOK, user.get(a).StatusCode)
	assert.Equal(t, http.StatusOK, user.get(bRep).StatusCode)
}

// TestSessionsReplicaThatLostTheRace forces the race of two replicas: B reads
// the session before A stores its refresh, spends the same refresh token and
// is refused; it must find A's tokens instead of signing the user out.
func TestSessionsReplicaThatLostTheRace(t *testing.T) {
	for _, staleRereads := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("A's tokens seen after %d re-reads", staleRereads), func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
			a, bRep := f.replica(t, nil), f.replica(t, nil)
			user := f.browser()
			user.signIn(t, a, "")
			key := storeKey(user.cookie("cognito-session"))
			f.clock.Advance(time.Hour)
			// B's Require and its refresh read the session from before A's
			// refresh, and so do staleRereads of the re-reads after the refusal.
			bRep.store.serveStale(t, key, 2+staleRereads)
			f.pool.ResetCounts()

			require.Equal(t, http.StatusOK, user.get(a).StatusCode)
			aToken := a.last.Load().AccessToken
			res := user.get(bRep)

			require.Equal(t, http.StatusOK, res.StatusCode, body(res))
			assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "B tried, and was refused")
			assert.Equal(t, aToken, bRep.last.Load().AccessToken, "B serves A's tokens")
			assert.Equal(t, http.StatusOK, user.get(a).StatusCode)
			assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "and the session lives on")
		})
	}
}

func TestSessionsDeadRefreshToken(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithTokenLifetimes(time.Hour, 2*time.Hour))
	app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshRaceWait(0)})
	nav, api := f.browser(), f.browser()
	nav.signIn(t, app, "")
	api.signIn(t, app, "")
	f.clock.Advance(2 * time.Hour) // both refresh tokens expired

	res := nav.do(app.handler, http.MethodGet, "/orders?id=7", "Sec-Fetch-Mode", "navigate")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/login?return_to=%2Forders%3Fid%3D7", res.Header.Get("Location"))
	assert.Empty(t, nav.cookie("cognito-session"), "the cookie is cleared")

	old := api.cookie("cognito-session")
	res = api.get(app)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Empty(t, api.cookie("cognito-session"))

	assert.Contains(t, f.logs.String(), "the refresh token was refused")
	f.pool.ResetCounts()
	api2 := f.browser()
	api2.setCookie("cognito-session", old)
	assert.Equal(t, http.StatusUnauthorized, api2.get(app).StatusCode)
	assert.Equal(t, 0, f.pool.Requests(cognitotest.EndpointToken), "the ended session was deleted")
}

func TestSessionsTokenEndpointDown(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	first := app.last.Load().AccessToken

	t.Run("tokens still valid: served", func(t *testing.T) {
		f.clock.Advance(58 * time.Minute)
		f.pool.ResetCounts()
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
		res := b.get(app)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, first, app.last.Load().AccessToken)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))

		f.clock.Advance(10*time.Second - time.Millisecond)
		assert.Equal(t, http.StatusOK, b.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "no new attempt for 10 s")
		assert.Equal(t, first, app.last.Load().AccessToken)
		f.clock.Advance(time.Millisecond)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
		assert.Equal(t, http.StatusOK, b.get(app).StatusCode)
		assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "then one")
	})
	t.Run("tokens expired: 503, session kept", func(t *testing.T) {
		f.clock.Advance(5 * time.Minute)
		f.pool.FailNext(cognitotest.EndpointToken, 2, cognitotest.Failure{Status: http.StatusServiceUnavailable})
		assert.Equal(t, http.StatusServiceUnavailable, b.get(app).StatusCode)
		res := b.do(app.handler, http.MethodGet, "/page", "Sec-Fetch-Mode", "navigate")
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "no redirect to sign in")
		assert.NotEmpty(t, b.cookie("cognito-session"))
	})
	t.Run("back: the same session works", func(t *testing.T) {
		res := b.get(app)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.NotEqual(t, first, app.last.Load().AccessToken)
	})
}

func TestSessionsJWKSDown(t *testing.T) {
	f := newSessionFixture(t)
	a := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, a, "")
	fresh := f.replica(t, nil) // a replica that has not fetched the keys yet

	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	assert.Equal(t, http.StatusServiceUnavailable, b.get(fresh).StatusCode)
	assert.Equal(t, http.StatusOK, b.get(fresh).StatusCode, "keys back: the same session works")
}

func TestSessionsRefusedByACheck(t *testing.T) {
	f := newSessionFixture(t)
	var refuse, undecided atomic.Bool
	errSuspended := errors.New("tenant suspended")
	a := f.replica(t, nil, cognito.WithCheck(func(context.Context, cognito.VerifiedToken) error {
		switch {
		case undecided.Load():
			return fmt.Errorf("tenant service: %w", cognito.ErrEndpointUnavailable)
		case refuse.Load():
			return errSuspended
		}
		return nil
	}))
	b := f.browser()
	b.signIn(t, a, "")
	require.Equal(t, http.StatusOK, b.get(a).StatusCode)

	undecided.Store(true)
	assert.Equal(t, http.StatusServiceUnavailable, b.get(a).StatusCode, "a rule that could not decide keeps the session")
	undecided.Store(false)
	require.Equal(t, http.StatusOK, b.get(a).StatusCode)

	refuse.Store(true)
	sid := b.cookie("cognito-session")
	assert.Equal(t, http.StatusUnauthorized, b.get(a).StatusCode, "a refusal is a signed-out user, not a 503 until the session expires")
	_, found, err := f.mem.Find(storeKey(sid))
	require.NoError(t, err)
	assert.False(t, found, "the refused session is deleted")
}

func TestSessionsStoreFailures(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")

	t.Run("Find fails", func(t *testing.T) {
		app.store.failFind.Store(true)
		defer app.store.failFind.Store(false)
		assert.Equal(t, http.StatusServiceUnavailable, b.get(app).StatusCode)
		res := b.do(app.handler, http.MethodGet, "/page", "Sec-Fetch-Mode", "navigate")
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.NotEmpty(t, b.cookie("cognito-session"))
	})
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode, "the store is back: the same session works")

	t.Run("Commit fails after a refresh spent the refresh token", func(t *testing.T) {
		f.clock.Advance(time.Hour)
		f.pool.ResetCounts()
		app.store.failCommit.Store(true)
		assert.Equal(t, http.StatusServiceUnavailable, b.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
		assert.Equal(t, http.StatusServiceUnavailable, b.get(app).StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the successor is kept, not refreshed again")
		app.store.failCommit.Store(false)
	})
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode, "the store is back: the same session works")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	f.clock.Advance(time.Hour)
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode, "with the rotated refresh token stored")

	t.Run("a failing store at sign-in", func(t *testing.T) {
		other := f.browser()
		cb := other.callbackURL(t, app, "")
		app.store.failCommit.Store(true)
		defer app.store.failCommit.Store(false)
		res := other.do(app.handler, http.MethodGet, cb)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.Contains(t, body(res), `<a href="/login">Sign in again</a>`)
		assert.Empty(t, other.cookie("cognito-session"))
	})

	t.Run("a failing store at a second sign-in keeps the first session", func(t *testing.T) {
		user := f.browser()
		user.signIn(t, app, "")
		first := user.cookie("cognito-session")
		cb := user.callbackURL(t, app, "")
		app.store.failCommit.Store(true)
		res := user.do(app.handler, http.MethodGet, cb)
		app.store.failCommit.Store(false)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.Equal(t, first, user.cookie("cognito-session"))
		assert.Equal(t, http.StatusOK, user.get(app).StatusCode, "a store that failed lost no session")
	})

	t.Run("sign-out while a successor waits for the store", func(t *testing.T) {
		other := f.browser()
		other.signIn(t, app, "")
		f.clock.Advance(time.Hour)
		app.store.failCommit.Store(true)
		require.Equal(t, http.StatusServiceUnavailable, other.get(app).StatusCode)
		app.store.failCommit.Store(false)
		f.pool.ResetCounts()
		require.Equal(t, http.StatusSeeOther, other.do(app.handler, http.MethodPost, "/logout").StatusCode)
		assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointRevoke), "the stored refresh token and its successor")
	})
}

func TestSessionsTouchFailureServes(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(16*time.Minute, 0)})
	b := f.browser()
	b.signIn(t, app, "")
	f.clock.Advance(time.Minute)
	app.store.failCommit.Store(true)
	before := app.store.commits.Load()
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode, "only the idle deadline was to move")
	assert.Equal(t, before+1, app.store.commits.Load(), "it tried")
	assert.Contains(t, f.logs.String(), "cannot record a session's use")
}

func TestSessionsTouchYieldsToAnotherReplicasRefresh(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	opts := []cognito.SessionOption{cognito.WithSessionLifetime(64*time.Minute, 0)}
	a, bRep := f.replica(t, opts), f.replica(t, opts)
	user := f.browser()
	user.signIn(t, a, "")
	key := storeKey(user.cookie("cognito-session"))
	f.clock.Advance(40 * time.Minute)
	// B reads the session as it was, A refreshes it meanwhile (its clock
	// says it is due: as if the two clocks differed), then B touches.
	bRep.store.serveStale(t, key, 1)
	aEarly := f.replica(t, append(opts, cognito.WithRefreshMargin(time.Hour)))
	require.Equal(t, http.StatusOK, user.get(aEarly).StatusCode)
	require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken)-1, "A refreshed")
	require.Equal(t, http.StatusOK, user.get(bRep).StatusCode)

	f.clock.Advance(time.Hour)
	assert.Equal(t, http.StatusOK, user.get(bRep).StatusCode, "B's touch did not put back the spent refresh token")
}

// TestSessionsNoTouchJustBeforeARefresh: B reads the session twice (the
// request, then the touch) before A's refresh lands, and would write it back
// after: a touch in the minute before a refresh is due does not happen.
func TestSessionsNoTouchJustBeforeARefresh(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRefreshTokenRotation(true))
	opts := []cognito.SessionOption{cognito.WithSessionLifetime(64*time.Minute, 0), cognito.WithRefreshRaceWait(0)}
	a := f.replica(t, append(opts, cognito.WithRefreshMargin(6*time.Minute)))
	bRep := f.replica(t, opts) // the default margin: its refresh is due a minute after A's
	user := f.browser()
	user.signIn(t, a, "")
	key := storeKey(user.cookie("cognito-session"))
	f.clock.Advance(54*time.Minute + 30*time.Second)
	bRep.store.serveStale(t, key, 2)
	require.Equal(t, http.StatusOK, user.get(a).StatusCode)
	require.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "A refreshed")

	require.Equal(t, http.StatusOK, user.get(bRep).StatusCode)
	bRep.store.serveStale(t, key, 0)

	f.clock.Advance(time.Hour)
	assert.Equal(t, http.StatusOK, user.get(bRep).StatusCode, "the refresh token A stored is still there")
}

// TestSessionsLifetimesWithAStoreThatKeepsEverything: Sessions enforces the
// idle and absolute lifetimes itself, whatever the store does with expiry.
func TestSessionsLifetimesWithAStoreThatKeepsEverything(t *testing.T) {
	f := newSessionFixture(t)
	f.mem.Now = func() time.Time { return time.Unix(0, 0) } // a store that never expires anything
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(30*time.Minute, 2*time.Hour)})
	idle, busy := f.browser(), f.browser()
	idle.signIn(t, app, "")
	busy.signIn(t, app, "")
	for range 4 {
		f.clock.Advance(29 * time.Minute)
		require.Equal(t, http.StatusOK, busy.get(app).StatusCode)
	}
	assert.Equal(t, http.StatusUnauthorized, idle.get(app).StatusCode, "idle for 116 minutes")
	f.clock.Advance(4 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, busy.get(app).StatusCode, "signed in 2 hours ago")
	assert.Zero(t, f.mem.Len(), "both ended sessions were deleted")
	assert.NotContains(t, f.logs.String(), "cannot delete an ended session")
}

// TestSessionsEndedSessionWhoseDeleteFails: a session past its lifetime is
// over whatever the store says: the user is signed out and the cookie
// deleted even when the store fails to delete the entry, which it expires
// on its own; the failure is logged.
func TestSessionsEndedSessionWhoseDeleteFails(t *testing.T) {
	f := newSessionFixture(t)
	f.mem.Now = func() time.Time { return time.Unix(0, 0) } // a store that never expires anything
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(30*time.Minute, 0)})
	b := f.browser()
	b.signIn(t, app, "")
	sid := b.cookie("cognito-session")
	f.clock.Advance(30 * time.Minute)
	app.store.failDelete.Store(true)

	res := b.get(app)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.True(t, cookieCleared(res))
	assert.Contains(t, f.logs.String(), "cannot delete an ended session")
	_, found, err := f.mem.Find(storeKey(sid))
	require.NoError(t, err)
	assert.True(t, found, "the entry the store would not delete")
}

func TestSessionsGarbageInTheStore(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	app.store.garbage.Store(true)

	assert.Equal(t, http.StatusUnauthorized, b.get(app).StatusCode)
	assert.Contains(t, f.logs.String(), "level=ERROR")
	assert.Contains(t, f.logs.String(), "garbage")
}

func TestSessionsWriteBackOnlyWhenChanged(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(16*time.Minute, 0)})
	b := f.browser()
	b.signIn(t, app, "")
	before := app.store.commits.Load()

	for range 3 {
		require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	}
	assert.Equal(t, before, app.store.commits.Load(), "nothing changed: nothing written")

	f.clock.Advance(time.Minute) // a sixteenth of the idle timeout
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	assert.Equal(t, before+1, app.store.commits.Load(), "the idle deadline moved")
	calls := app.store.commitCalls()
	assert.WithinDuration(t, f.clock.Now().Add(16*time.Minute), calls[len(calls)-1].expiry, 0, "the store gets the expiry")
}

func TestSessionsIdleTimeout(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(30*time.Minute, 0)})
	b := f.browser()
	b.signIn(t, app, "")

	for range 5 { // used every 29 minutes: alive, refreshed on the way
		f.clock.Advance(29 * time.Minute)
		require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	}
	f.clock.Advance(30 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, b.get(app).StatusCode)
}

func TestSessionsAbsoluteLifetime(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{cognito.WithSessionLifetime(0, 3*time.Hour)})
	b := f.browser()
	b.signIn(t, app, "")
	f.clock.Advance(3*time.Hour - time.Minute)
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	calls := app.store.commitCalls()
	signIn := f.clock.Now().Add(-3*time.Hour + time.Minute)
	assert.WithinDuration(t, signIn.Add(3*time.Hour), calls[len(calls)-1].expiry, 0, "the store expires it at the absolute deadline")

	f.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, b.get(app).StatusCode)
}

func TestSessionsLifetimeBoundedByTheRefreshToken(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{
		cognito.WithSessionLifetime(0, 90*24*time.Hour), cognito.WithRefreshTokenLifetime(2 * time.Hour),
	})
	b := f.browser()
	b.signIn(t, app, "")
	calls := app.store.commitCalls()
	assert.WithinDuration(t, f.clock.Now().Add(2*time.Hour), calls[len(calls)-1].expiry, 0)
}

func TestSessionsLogout(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	copyOfCookie := f.browser()
	copyOfCookie.setCookie("cognito-session", b.cookie("cognito-session"))

	res := b.do(app.handler, http.MethodGet, "/logout")
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "POST", res.Header.Get("Allow"))
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
	} {
		res = b.do(app.handler, http.MethodPost, "/logout", h...)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, h)
	}
	require.Equal(t, http.StatusOK, b.get(app).StatusCode, "refused sign-outs change nothing")
	assert.Equal(t, 0, f.pool.Requests(cognitotest.EndpointRevoke))

	res = b.do(app.handler, http.MethodPost, "/logout", "Sec-Fetch-Site", "same-origin", "Origin", "http://localhost")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, f.pool.Config().LogoutURL(), res.Header.Get("Location"))
	assert.True(t, cookieCleared(res), "the session cookie is deleted")
	assert.Empty(t, b.cookie("cognito-session"))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke))
	assert.Equal(t, http.StatusUnauthorized, copyOfCookie.get(app).StatusCode, "the session is gone from the store")

	res = b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signing out again, signed out, is fine")
}

func TestSessionsLogoutRevokeFailureDoesNotBlock(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	f.pool.FailNext(cognitotest.EndpointRevoke, 1, cognitotest.Failure{Status: http.StatusInternalServerError})

	res := b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Empty(t, b.cookie("cognito-session"))
	assert.Contains(t, f.logs.String(), "cannot revoke")
}

func TestSessionsLogoutStoreFailure(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	for _, fail := range []*atomic.Bool{&app.store.failFind, &app.store.failDelete} {
		fail.Store(true)
		res := b.do(app.handler, http.MethodPost, "/logout")
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.NotEmpty(t, b.cookie("cognito-session"), "kept, so that the user can try again")
		fail.Store(false)
	}
	res := b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestSessionsLogoutWithAnEmulator(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	app.flow.InsecureEmulator = true
	b := f.browser()
	b.signIn(t, app, "")
	res := b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, cognitotest.DefaultLogoutURI, res.Header.Get("Location"))

	app.flow.Config.LogoutURI = ""
	res = b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, "/", res.Header.Get("Location"))

	// Turned on after NewSessions for a real pool's domain: the hosted UI's
	// /logout all the same, or its session would sign the user in again.
	app.flow.Config.Domain = "https://myapp.auth.us-east-1.amazoncognito.com"
	res = b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, app.flow.Config.LogoutURL(), res.Header.Get("Location"))
}

func TestSessionsRevocationList(t *testing.T) {
	f := newSessionFixture(t)
	list := &testStore{mem: &cognito.MemoryStore{Now: f.clock.Now}}
	app := f.replica(t, nil, cognito.WithRevocationList(list))
	other, err := cognito.NewVerifier(f.pool.Config(), cognito.WithClock(f.clock.Now), cognito.WithRevocationList(list))
	require.NoError(t, err)
	api := cognito.RequireAccessToken(other)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	b := f.browser()
	b.signIn(t, app, "")
	copyOfCookie := f.browser()
	copyOfCookie.setCookie("cognito-session", b.cookie("cognito-session"))
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	access := app.last.Load().AccessToken
	ctx := context.Background()
	_, err = other.VerifyAccessToken(ctx, access) // now in the other verifier's cache
	require.NoError(t, err)
	bearer := func() int {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authorization", "Bearer "+access)
		return send(api, r).StatusCode
	}
	require.Equal(t, http.StatusOK, bearer())

	res := b.do(app.handler, http.MethodPost, "/logout")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	_, err = other.VerifyAccessToken(ctx, access)
	assert.ErrorIs(t, err, cognito.ErrTokenRevoked, "refused at once, cache hit or not")
	assert.Equal(t, http.StatusUnauthorized, bearer())
	calls := list.commitCalls()
	require.Len(t, calls, 1, "one entry: the sign-in's origin_jti")
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), calls[0].expiry, 0, "kept until the tokens' exp")

	list.failFind.Store(true)
	_, err = other.VerifyAccessToken(ctx, access)
	assert.ErrorIs(t, err, cognito.ErrRevocationListUnavailable)
	assert.Equal(t, http.StatusServiceUnavailable, bearer(), "a failing list lets nothing through")
	list.failFind.Store(false)

	f.clock.Advance(time.Hour)
	_, found, err := list.mem.Find(calls[0].id)
	require.NoError(t, err)
	assert.False(t, found, "the entry expires with the tokens")
}

func TestSessionsLogoutRevocationListFailure(t *testing.T) {
	f := newSessionFixture(t)
	list := &testStore{mem: &cognito.MemoryStore{Now: f.clock.Now}}
	app := f.replica(t, nil, cognito.WithRevocationList(list))
	b := f.browser()
	b.signIn(t, app, "")
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	access := app.last.Load().AccessToken

	list.failCommit.Store(true)
	res := b.do(app.handler, http.MethodPost, "/logout")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "a sign-out other replicas would not see is no sign-out")
	assert.NotEmpty(t, b.cookie("cognito-session"), "kept, so that the user can try again")
	_, found, err := f.mem.Find(storeKey(b.cookie("cognito-session")))
	require.NoError(t, err)
	assert.True(t, found, "the session is kept for the retry")

	list.failCommit.Store(false)
	res = b.do(app.handler, http.MethodPost, "/logout")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, err = app.flow.Verifier.VerifyAccessToken(context.Background(), access)
	assert.ErrorIs(t, err, cognito.ErrTokenRevoked, "the retry listed the sign-in")
}

func TestSessionsRevokedSessionEndsOnEveryReplica(t *testing.T) {
	f := newSessionFixture(t)
	list := &testStore{mem: &cognito.MemoryStore{Now: f.clock.Now}}
	a := f.replica(t, nil, cognito.WithRevocationList(list))
	bRep := f.replica(t, nil, cognito.WithRevocationList(list))
	user := f.browser()
	user.signIn(t, a, "")
	require.Equal(t, http.StatusOK, user.get(bRep).StatusCode)

	// The session entry survives (a store write lost, say), but the
	// sign-out is on the list: B refuses the ID token.
	stolen := f.browser()
	stolen.setCookie("cognito-session", user.cookie("cognito-session"))
	data, found, err := f.mem.Find(storeKey(user.cookie("cognito-session")))
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, http.StatusSeeOther, user.do(a.handler, http.MethodPost, "/logout").StatusCode)
	require.NoError(t, f.mem.Commit(storeKey(stolen.cookie("cognito-session")), data, f.clock.Now().Add(time.Hour)))

	assert.Equal(t, http.StatusUnauthorized, stolen.get(bRep).StatusCode)
	assert.Contains(t, f.logs.String(), "token revoked")
}

func TestSessionsCallbackFailures(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)

	t.Run("no login cookie", func(t *testing.T) {
		b := f.browser()
		cb := b.callbackURL(t, app, "")
		res := f.browser().do(app.handler, http.MethodGet, cb)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		page := body(res)
		assert.Contains(t, page, `href="/login"`)
		assert.Contains(t, page, "Sign-in failed.")
	})
	t.Run("replayed", func(t *testing.T) {
		b := f.browser()
		cb := b.callbackURL(t, app, "")
		login := b.request(http.MethodGet, cb)
		require.Equal(t, http.StatusSeeOther, b.do(app.handler, http.MethodGet, cb).StatusCode)
		res := send(app.handler, login)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	})
	t.Run("token endpoint down", func(t *testing.T) {
		b := f.browser()
		cb := b.callbackURL(t, app, "")
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusBadGateway})
		res := b.do(app.handler, http.MethodGet, cb)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.Contains(t, body(res), "Sign-in is unavailable right now.")
		assert.Empty(t, b.cookie("cognito-session"))
	})
}

// TestSessionsReplacedSessionFailures: a new sign-in on a browser that had
// a session ends the old one (its refresh token revoked, its entry
// deleted); when either fails, the sign-in still goes through and the
// failure is logged, and nothing is logged when both work.
func TestSessionsReplacedSessionFailures(t *testing.T) {
	const (
		revokeWarning = "cannot revoke the refresh token of a replaced session"
		deleteError   = "cannot delete a replaced session"
	)
	for _, tc := range []struct {
		name          string
		revokeFails   bool
		deleteFails   bool
		oldStillThere bool
	}{
		{"both work", false, false, false},
		{"the revocation fails", true, false, false},
		{"the delete fails", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t)
			app := f.replica(t, nil)
			b := f.browser()
			b.signIn(t, app, "")
			old := b.cookie("cognito-session")
			cb := b.callbackURL(t, app, "")
			if tc.revokeFails {
				f.pool.FailNext(cognitotest.EndpointRevoke, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
			}
			app.store.failDelete.Store(tc.deleteFails)
			f.pool.ResetCounts()

			res := b.do(app.handler, http.MethodGet, cb)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
			assert.NotEqual(t, old, b.cookie("cognito-session"), "signed in anew")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke), "the old refresh token's revocation was tried")
			_, found, err := f.mem.Find(storeKey(old))
			require.NoError(t, err)
			assert.Equal(t, tc.oldStillThere, found, "the old session's entry")
			logs := f.logs.String()
			for msg, logged := range map[string]bool{revokeWarning: tc.revokeFails, deleteError: tc.deleteFails} {
				if logged {
					assert.Contains(t, logs, msg)
				} else {
					assert.NotContains(t, logs, msg)
				}
			}
		})
	}
}

func TestSessionsContextStore(t *testing.T) {
	f := newSessionFixture(t)
	cs := &ctxStore{mem: f.mem}
	cfg := f.pool.Config()
	client, _ := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
	v, _ := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
	s, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}, cs)
	require.NoError(t, err)
	rep := &replica{sessions: s, store: &testStore{mem: f.mem}}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", s.Login)
	mux.HandleFunc("/callback", s.Callback)
	mux.HandleFunc("/logout", s.Logout)
	mux.Handle("/", s.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	rep.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestMark{}, true)))
	})
	b := f.browser()
	b.signIn(t, rep, "")
	assert.Equal(t, http.StatusOK, b.get(rep).StatusCode)
	f.clock.Advance(time.Hour)
	assert.Equal(t, http.StatusOK, b.get(rep).StatusCode)
	assert.Equal(t, http.StatusSeeOther, b.do(rep.handler, http.MethodPost, "/logout").StatusCode)
	assert.Positive(t, cs.finds.Load())
	assert.Positive(t, cs.commits.Load())
	assert.Positive(t, cs.deletes.Load())
}

type requestMark struct{}

// ctxStore has scs's ctx methods; its plain ones must not be called.
type ctxStore struct {
	mem                     *cognito.MemoryStore
	finds, commits, deletes atomic.Int64
}

func (s *ctxStore) Find(string) ([]byte, bool, error) { panic("Find called instead of FindCtx") }
func (s *ctxStore) Commit(string, []byte, time.Time) error {
	panic("Commit called instead of CommitCtx")
}
func (s *ctxStore) Delete(string) error { panic("Delete called instead of DeleteCtx") }

// mark counts a call that got a request's context; a refresh's runs apart
// from its request but keeps the request's values.
func mark(ctx context.Context, n *atomic.Int64) {
	if ctx.Value(requestMark{}) == true {
		n.Add(1)
	}
}

func (s *ctxStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	mark(ctx, &s.finds)
	return s.mem.Find(id)
}

func (s *ctxStore) CommitCtx(ctx context.Context, id string, data []byte, expiry time.Time) error {
	mark(ctx, &s.commits)
	return s.mem.Commit(id, data, expiry)
}

func (s *ctxStore) DeleteCtx(ctx context.Context, id string) error {
	mark(ctx, &s.deletes)
	return s.mem.Delete(id)
}

func TestNewSessionsRefusesBadSetups(t *testing.T) {
	pool := cognitotest.NewServer(t)
	cfg := pool.Config()
	client, _ := cognito.NewClient(cfg)
	v, _ := cognito.NewVerifier(cfg)
	flow := &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}
	store := cognito.NewMemoryStore()

	noRedirect := cfg
	noRedirect.RedirectURI = ""
	realDomain := cfg
	realDomain.Domain = "https://myapp.auth.us-east-1.amazoncognito.com"
	for name, tc := range map[string]struct {
		flow  *cognito.LoginFlow
		store cognito.SessionStore
		opts  []cognito.SessionOption
	}{
		"nil flow":                 {nil, store, nil},
		"no client":                {&cognito.LoginFlow{Config: cfg, Verifier: v}, store, nil},
		"no verifier":              {&cognito.LoginFlow{Config: cfg, Client: client}, store, nil},
		"nil store":                {flow, nil, nil},
		"no redirect URI":          {&cognito.LoginFlow{Config: noRedirect, Client: client, Verifier: v}, store, nil},
		"login path off-site":      {flow, store, []cognito.SessionOption{cognito.WithLoginPath("//evil.example/login")}},
		"login path relative":      {flow, store, []cognito.SessionOption{cognito.WithLoginPath("login")}},
		"login path with a query":  {flow, store, []cognito.SessionOption{cognito.WithLoginPath("/login?next=1")}},
		"__Host- cookie over http": {flow, store, []cognito.SessionOption{cognito.WithSessionCookieName("__Host-s")}},
		"invalid cookie name":      {flow, store, []cognito.SessionOption{cognito.WithSessionCookieName("a b")}},
		"emulator on a real pool":  {&cognito.LoginFlow{Config: realDomain, Client: client, Verifier: v, InsecureEmulator: true}, store, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cognito.NewSessions(tc.flow, tc.store, tc.opts...)
			assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
		})
	}
}

func TestSessionPrintsNoToken(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	require.Equal(t, http.StatusOK, b.get(app).StatusCode)
	sess := app.last.Load()

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("session", "s", sess, "v", *sess)
	for _, out := range []string{
		fmt.Sprint(sess), fmt.Sprintf("%v %+v %#v %s", sess, *sess, sess, sess), logs.String(),
	} {
		assert.NotContains(t, out, sess.AccessToken)
		assert.NotContains(t, out, "eyJ")
		assert.Contains(t, out, sess.IDToken.Subject)
	}
}

func TestSessionsWaitersGiveUpAlone(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, app, "")
	f.clock.Advance(time.Hour)
	held := make(chan struct{})
	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})
	go func() {
		// Hang holds the refresh until its client gives up; this request
		// stops waiting as soon as its own context ends.
		ctx, cancel := context.WithCancel(context.Background())
		r := b.request(http.MethodGet, "/api/me").WithContext(ctx)
		cancel()
		res := send(app.handler, r)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		close(held)
	}()
	<-held
}

// hangingStore is a ctx store whose Find stalls, when told, until its
// context ends: a Redis that stopped answering.
type hangingStore struct {
	ctxStore
	hang atomic.Bool
}

func (s *hangingStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	if s.hang.Load() {
		<-ctx.Done()
		return nil, false, ctx.Err()
	}
	return s.ctxStore.FindCtx(ctx, id)
}

func TestSessionsStalledStoreIsAnswered(t *testing.T) {
	f := newSessionFixture(t)
	hs := &hangingStore{ctxStore: ctxStore{mem: f.mem}}
	cfg := f.pool.Config()
	client, _ := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
	v, _ := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
	s, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}, hs,
		cognito.WithStoreTimeout(time.Millisecond))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/login", s.Login)
	mux.HandleFunc("/callback", s.Callback)
	mux.Handle("/", s.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	rep := &replica{sessions: s, handler: mux}
	b := f.browser()
	b.signIn(t, rep, "")

	hs.hang.Store(true)
	assert.Equal(t, http.StatusServiceUnavailable, b.get(rep).StatusCode, "the stall ends at the store timeout")
	hs.hang.Store(false)
	assert.Equal(t, http.StatusOK, b.get(rep).StatusCode)
}

func TestSessionsOptions(t *testing.T) {
	f := newSessionFixture(t)
	app := f.replica(t, []cognito.SessionOption{
		cognito.WithLoginOptions(cognito.WithIdentityProvider("Google")),
		cognito.WithSessionCookieName("myapp-session"),
	})
	b := f.browser()
	res := b.do(app.handler, http.MethodGet, "/login")
	require.Equal(t, http.StatusFound, res.StatusCode)
	u, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "Google", u.Query().Get("identity_provider"))
	assert.NotEmpty(t, u.Query().Get("code_challenge"), "the flow's own parameters stay")

	cb := b.callbackURL(t, app, "")
	res = b.do(app.handler, http.MethodGet, cb)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.NotNil(t, findCookie(res, "myapp-session"))
	assert.Equal(t, http.StatusOK, b.get(app).StatusCode)
}

// signOutDuringRefresh signs b out through app once the token endpoint has
// answered app's refresh and before app reads the answer: a sign-out on
// another tab or replica racing the refresh.
type signOutDuringRefresh struct {
	t    *testing.T
	app  *replica
	b    *browser
	done atomic.Bool
	then func() // after the sign-out, if set
}

func (s *signOutDuringRefresh) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.URL.Path == "/oauth2/token" && s.done.CompareAndSwap(false, true) {
		out := s.b.do(s.app.handler, http.MethodPost, "/logout", "Sec-Fetch-Site", "same-origin")
		assert.Equal(s.t, http.StatusSeeOther, out.StatusCode, "the sign-out went through")
		if s.then != nil {
			s.then()
		}
	}
	return res, err
}

// TestSessionsSignOutDuringARefreshStaysSignedOut: a sign-out that lands
// while a refresh is on its way wins: the refresh revokes the refresh token
// it got and stores nothing. A revocation that fails is logged as a
// warning; one that works is not.
func TestSessionsSignOutDuringARefreshStaysSignedOut(t *testing.T) {
	for _, revokeFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("revocation fails %v", revokeFails), func(t *testing.T) {
			f := newSessionFixture(t)
			app := f.replica(t, nil)
			b := f.browser()
			b.signIn(t, app, "")
			copyOfCookie := f.browser()
			copyOfCookie.setCookie("cognito-session", b.cookie("cognito-session"))
			hook := &signOutDuringRefresh{t: t, app: app, b: b}
			if revokeFails {
				hook.then = func() {
					f.pool.FailNext(cognitotest.EndpointRevoke, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
				}
			}
			client, err := cognito.NewClient(f.pool.Config(), cognito.WithClock(f.clock.Now),
				cognito.WithHTTPClient(&http.Client{Transport: hook}))
			require.NoError(t, err)
			app.flow.Client = client
			f.clock.Advance(time.Hour)
			f.pool.ResetCounts()

			res := copyOfCookie.get(app) // the refresh, with the sign-out inside it

			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the refresh does not sign the copied cookie back in")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
			assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointRevoke), "the sign-out's, then the refreshed token's")
			assert.Equal(t, http.StatusUnauthorized, copyOfCookie.get(app).StatusCode, "and it stays signed out")
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "with no second refresh")
			const warning = "cannot revoke the refresh token of a session signed out during its refresh"
			if revokeFails {
				assert.Contains(t, f.logs.String(), warning)
			} else {
				assert.NotContains(t, f.logs.String(), warning)
			}
		})
	}
}

// TestSessionsRefreshMarginOption: WithRefreshMargin(0) refreshes at the
// tokens' expiry and not a moment before; a negative margin keeps the
// default, five minutes before.
func TestSessionsRefreshMarginOption(t *testing.T) {
	for _, tc := range []struct {
		name      string
		margin    time.Duration
		refreshAt time.Duration // after the sign-in; the tokens live an hour
	}{
		{"zero refreshes at expiry", 0, time.Hour},
		{"negative keeps the default", -time.Minute, time.Hour - cognito.DefaultRefreshMargin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t)
			app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshMargin(tc.margin)})
			b := f.browser()
			b.signIn(t, app, "")
			f.pool.ResetCounts()

			f.clock.Advance(tc.refreshAt - time.Second)
			require.Equal(t, http.StatusOK, b.get(app).StatusCode)
			assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "a second before: no refresh")
			f.clock.Advance(time.Second)
			require.Equal(t, http.StatusOK, b.get(app).StatusCode)
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "refreshed")
		})
	}
}

// TestSessionsRefreshTokenLifetimeOption: a refresh token lifetime that is
// not positive is ignored: the session keeps the default lifetimes, and the
// store gets the idle deadline as its expiry.
func TestSessionsRefreshTokenLifetimeOption(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			f := newSessionFixture(t)
			app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshTokenLifetime(d)})
			b := f.browser()
			b.signIn(t, app, "")
			require.Equal(t, http.StatusOK, b.get(app).StatusCode, "the session lives")
			calls := app.store.commitCalls()
			require.NotEmpty(t, calls)
			assert.WithinDuration(t, f.clock.Now().Add(cognito.DefaultSessionIdleTimeout), calls[len(calls)-1].expiry, 0)
		})
	}
}

// TestSessionsRefreshRaceWaitOption: a refresh token that died is re-read
// for the race wait before the session ends: once with a wait of zero, and
// at 10 ms, then 20 ms on with one of 30 ms. The reads are counted, not
// timed.
func TestSessionsRefreshRaceWaitOption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wait    time.Duration
		rereads int64
	}{
		{"zero re-reads once", 0, 1},
		{"30 ms re-reads at 0, 10 and 30 ms", 30 * time.Millisecond, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithTokenLifetimes(time.Hour, 2*time.Hour))
			app := f.replica(t, []cognito.SessionOption{cognito.WithRefreshRaceWait(tc.wait)})
			b := f.browser()
			b.signIn(t, app, "")
			f.clock.Advance(2 * time.Hour) // the refresh token expired
			finds := app.store.finds.Load()

			res := b.get(app)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
			// The request's read, its refresh's, then the re-reads.
			assert.Equal(t, 2+tc.rereads, app.store.finds.Load()-finds, "reads of the store")
		})
	}
}

// timedStore is a ctxStore that records how long each FindCtx had left.
type timedStore struct {
	ctxStore
	mu   sync.Mutex
	left []time.Duration
}

func (s *timedStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	left := time.Duration(-1) // no deadline
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	s.mu.Lock()
	s.left = append(s.left, left)
	s.mu.Unlock()
	return s.ctxStore.FindCtx(ctx, id)
}

// TestSessionsStoreTimeoutOption: each call to a ctx store is bounded by
// the store timeout; one that is not positive keeps DefaultStoreTimeout.
func TestSessionsStoreTimeoutOption(t *testing.T) {
	for _, tc := range []struct {
		name     string
		d        time.Duration
		min, max time.Duration // of the time a Find has left
	}{
		{"an hour", time.Hour, cognito.DefaultStoreTimeout, time.Hour},
		{"zero keeps the default", 0, 0, cognito.DefaultStoreTimeout},
		{"negative keeps the default", -time.Second, 0, cognito.DefaultStoreTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t)
			ds := &timedStore{ctxStore: ctxStore{mem: f.mem}}
			cfg := f.pool.Config()
			client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)
			v, err := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)
			s, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}, ds, cognito.WithStoreTimeout(tc.d))
			require.NoError(t, err)
			mux := http.NewServeMux()
			mux.HandleFunc("/login", s.Login)
			mux.HandleFunc("/callback", s.Callback)
			mux.Handle("/", s.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
			rep := &replica{sessions: s, handler: mux}
			b := f.browser()
			b.signIn(t, rep, "")
			require.Equal(t, http.StatusOK, b.get(rep).StatusCode)

			ds.mu.Lock()
			defer ds.mu.Unlock()
			require.NotEmpty(t, ds.left)
			left := ds.left[len(ds.left)-1]
			assert.Greater(t, left, tc.min, "the time a Find had left")
			assert.LessOrEqual(t, left, tc.max, "the time a Find had left")
		})
	}
}

// TestSessionsClockOption: Sessions judges the tokens' refresh by its own
// clock (WithSessionClock), here 30 minutes behind the pool's and the
// Verifier's, so that tokens an hour long are not due 56 minutes after the
// sign-in; a nil clock keeps the Verifier's, by which they are.
func TestSessionsClockOption(t *testing.T) {
	for _, tc := range []struct {
		name      string
		behind    bool
		refreshes int
	}{
		{"a clock of its own", true, 0},
		{"nil keeps the Verifier's", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSessionFixture(t)
			var now func() time.Time
			if tc.behind {
				now = func() time.Time { return f.clock.Now().Add(-30 * time.Minute) }
			}
			app := f.replica(t, []cognito.SessionOption{cognito.WithSessionClock(now)})
			b := f.browser()
			b.signIn(t, app, "")
			f.clock.Advance(56 * time.Minute)
			f.pool.ResetCounts()
			require.Equal(t, http.StatusOK, b.get(app).StatusCode)
			assert.Equal(t, tc.refreshes, f.pool.Requests(cognitotest.EndpointToken))
		})
	}
}
