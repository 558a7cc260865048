package cognito_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// quickStart is docs/manual-flow.md's app (newApp in example_test.go) in front
// of a fake pool, and a hosted UI that signs in whoever SignInAs names.
type quickStart struct {
	pool *cognitotest.Server
	cfg  cognito.Config
	app  http.Handler
}

func newQuickStart(t *testing.T) *quickStart {
	t.Helper()
	pool := cognitotest.NewServer(t)
	for _, name := range []string{"alice", "mallory"} {
		pool.AddUser(cognitotest.User{Username: name, Email: name + "@example.com", EmailVerified: true})
	}
	app, err := newApp(pool.Config())
	require.NoError(t, err)
	return &quickStart{pool: pool, cfg: pool.Config(), app: app}
}

// get sends GET target to the app with cookies, as a browser would.
func (q *quickStart) get(target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	q.app.ServeHTTP(rec, req)
	return rec
}

// hostedUI follows loginURL at the pool, signed in as username, and returns
// the query of the redirect to the app's callback.
func (q *quickStart) hostedUI(t *testing.T, username, loginURL string) url.Values {
	t.Helper()
	q.pool.SignInAs(username)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(loginURL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("code"), "redirect: %s", loc)
	return loc.Query()
}

func TestQuickStartSignsIn(t *testing.T) {
	q := newQuickStart(t)
	login := q.get("/login")
	require.Equal(t, http.StatusFound, login.Code)
	callback := q.hostedUI(t, "alice", login.Header().Get("Location"))

	res := q.get("/callback?"+callback.Encode(), login.Result().Cookies()...)

	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Contains(t, res.Body.String(), "<alice@example.com>")
	cookies := res.Result().Cookies()
	require.Len(t, cookies, 1, "a session cookie")
	profile := q.get("/profile", cookies...)
	assert.Equal(t, http.StatusOK, profile.Code)
	assert.Contains(t, profile.Body.String(), "alice@example.com, signed in until")
}

// TestQuickStartRefusesLoginCSRF replays the attack on the quick start's
// callback: an attacker signs in to their own account without state, PKCE or
// nonce, and sends a victim's browser, which started no login, to the
// callback with the attacker's code. The browser must be refused before any
// exchange, or it would be signed in as the attacker.
func TestQuickStartRefusesLoginCSRF(t *testing.T) {
	for _, tt := range []struct {
		name  string
		query func(code string) string
	}{
		{"no state", func(code string) string { return url.Values{"code": {code}}.Encode() }},
		{"an empty state", func(code string) string { return url.Values{"code": {code}, "state": {""}}.Encode() }},
		{"a state of the attacker's", func(code string) string {
			return url.Values{"code": {code}, "state": {cognito.GenerateVerifier()}}.Encode()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := newQuickStart(t)
			attackers := q.hostedUI(t, "mallory", q.cfg.LoginURL("")) // no PKCE, no nonce
			code := attackers.Get("code")

			victim := q.get("/callback?" + tt.query(code)) // no login cookie

			assert.Equal(t, http.StatusBadRequest, victim.Code, victim.Body.String())
			assert.NotContains(t, victim.Body.String(), "mallory")
			assert.Empty(t, victim.Result().Cookies(), "no session is started")
			assert.Zero(t, q.pool.Requests(cognitotest.EndpointToken), "the code is never exchanged")
			profile := q.get("/profile", victim.Result().Cookies()...)
			assert.Equal(t, http.StatusFound, profile.Code, "the victim is not signed in")
		})
	}
}

// TestQuickStartRefusesAForeignLoginCookie: a login cookie of another login
// does not accept this callback's state either.
func TestQuickStartRefusesAForeignLoginCookie(t *testing.T) {
	q := newQuickStart(t)
	mine := q.get("/login")
	theirs := q.get("/login")
	callback := q.hostedUI(t, "alice", theirs.Header().Get("Location"))

	res := q.get("/callback?"+callback.Encode(), mine.Result().Cookies()...)

	assert.Equal(t, http.StatusBadRequest, res.Code)
	assert.True(t, strings.HasPrefix(res.Body.String(), "bad state"))
	assert.Zero(t, q.pool.Requests(cognitotest.EndpointToken))
}
