package cognito_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

const (
	loa1 = "urn:cognito:loa:1"
	loa2 = "urn:cognito:loa:2"
)

// stepUpApp is a replica with two step-up pages besides Require's: /transfer
// needs level 2, /password a sign-in at most five minutes old.
type stepUpApp struct {
	*replica
	pages   http.Handler
	seen    *cognito.Session
	reached int
}

func newStepUpApp(t *testing.T, f *sessionFixture, opts ...cognito.SessionOption) *stepUpApp {
	t.Helper()
	app := &stepUpApp{replica: f.replica(t, opts)}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.reached++
		sess, ok := cognito.SessionFromContext(r.Context())
		if !assert.True(t, ok) {
			return
		}
		app.seen = sess
		f.secrets.add(sess.AccessToken)
		fmt.Fprintf(w, "%s at %s", sess.IDToken.Username, sess.IDToken.ACR)
	})
	mux := http.NewServeMux()
	mux.Handle("/", app.handler)
	mux.Handle("/transfer", app.sessions.RequireStepUp(cognito.StepUp{ACR: []string{loa2}})(page))
	mux.Handle("/password", app.sessions.RequireStepUp(cognito.StepUp{MaxAge: 5 * time.Minute})(page))
	app.pages = mux
	return app
}

func stepUpFixture(t *testing.T, poolOpts ...cognitotest.Option) *sessionFixture {
	t.Helper()
	f := newSessionFixture(t, poolOpts...)
	// alice has MFA: a sign-in that asks for a level reaches level 2.
	f.pool.AddUser(cognitotest.User{Username: "alice", Password: "pw", Email: "alice@example.com", EmailVerified: true,
		ACR: loa2, AMR: []string{"pwd", "otp", "mfa"}})
	f.pool.AddUser(cognitotest.User{Username: "bob", Email: "bob@example.com", ACR: loa2, AMR: []string{"pwd", "otp", "mfa"}})
	f.pool.AddUser(cognitotest.User{Username: "nomfa", Email: "nomfa@example.com"})
	return f
}

// navigate asks for a page as a browser loading it.
func (b *browser) navigate(h http.Handler, target string) *http.Response {
	return b.do(h, http.MethodGet, target, "Sec-Fetch-Mode", "navigate")
}

// throughHostedUI follows a redirect to the fake pool's hosted UI and returns the
// authorize request's parameters and the callback it sends the browser to.
func throughHostedUI(t *testing.T, f *sessionFixture, res *http.Response) (url.Values, string) {
	t.Helper()
	require.Equal(t, http.StatusFound, res.StatusCode, body(res))
	authorize, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(authorize.String(), f.pool.URL()+"/oauth2/authorize?"), authorize.String())
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hosted, err := noFollow.Get(authorize.String())
	require.NoError(t, err)
	hosted.Body.Close()
	require.Equal(t, http.StatusFound, hosted.StatusCode)
	cb, err := url.Parse(hosted.Header.Get("Location"))
	require.NoError(t, err)
	f.secrets.add(cb.Query().Get("code"))
	return authorize.Query(), cb.RequestURI()
}

func TestSessionsStepUpToALevel(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	b.signIn(t, app.replica, "") // an ordinary sign-in: no level asked, none in the tokens
	first := b.cookie("cognito-session")
	require.Equal(t, http.StatusOK, b.get(app.replica).StatusCode)
	assert.Empty(t, app.last.Load().IDToken.ACR)
	f.pool.ResetCounts()

	res := b.navigate(app.pages, "/transfer?to=savings")
	asked, callback := throughHostedUI(t, f, res)
	assert.Equal(t, loa2, asked.Get("acr_values"))
	assert.False(t, asked.Has("max_age"))
	assert.Equal(t, "alice", asked.Get("login_hint"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	res = b.do(app.pages, http.MethodGet, callback)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
	assert.Equal(t, "/transfer?to=savings", res.Header.Get("Location"), "back to the same page")
	assert.True(t, stepUpCookieDeleted(res), "the callback deletes the step-up's cookie")
	assert.NotEqual(t, first, b.cookie("cognito-session"), "a new session ID for the new sign-in")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointAuthorize), "one round trip through the hosted UI")

	res = b.navigate(app.pages, "/transfer?to=savings")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "alice at "+loa2, body(res))
	assert.Equal(t, []string{"pwd", "otp", "mfa"}, app.seen.IDToken.AMR)

	// Other pages work with the upgraded session, with no other sign-in.
	assert.Equal(t, http.StatusOK, b.get(app.replica).StatusCode)
	assert.Equal(t, http.StatusOK, b.navigate(app.pages, "/password").StatusCode, "the step-up sign-in is recent too")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointAuthorize))
	old := f.browser()
	old.setCookie("cognito-session", first)
	assert.Equal(t, http.StatusUnauthorized, old.get(app.replica).StatusCode, "the level-1 session has ended")

	t.Run("a refresh keeps the level", func(t *testing.T) {
		f.clock.Advance(56 * time.Minute)
		f.pool.ResetCounts()
		res := b.navigate(app.pages, "/transfer")
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "refreshed")
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize), "no step-up again")
		assert.Equal(t, loa2, app.seen.IDToken.ACR, "kept by the session: the refreshed ID token has none")
		assert.Equal(t, []string{"pwd", "otp", "mfa"}, app.seen.IDToken.AMR)
		// And on another replica, from the store alone.
		other := newStepUpApp(t, f)
		require.Equal(t, http.StatusOK, b.navigate(other.pages, "/transfer").StatusCode)
		assert.Equal(t, loa2, other.seen.IDToken.ACR)
	})
}

func TestSessionsStepUpToARecentSignIn(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	b.signIn(t, app.replica, "")
	require.Equal(t, http.StatusOK, b.navigate(app.pages, "/password").StatusCode, "signed in just now")

	f.clock.Advance(5*time.Minute + time.Second)
	f.pool.ResetCounts()
	asked, callback := throughHostedUI(t, f, b.navigate(app.pages, "/password"))
	assert.Equal(t, "300", asked.Get("max_age"))
	assert.False(t, asked.Has("acr_values"))
	res := b.do(app.pages, http.MethodGet, callback)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
	assert.Equal(t, "/password", res.Header.Get("Location"))

	res = b.navigate(app.pages, "/password")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, app.seen.IDToken.AuthTime.Equal(f.clock.Now().Truncate(time.Second)), "signed in again just now")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointAuthorize))

	t.Run("within the Verifier's leeway", func(t *testing.T) {
		f := stepUpFixture(t)
		app := &stepUpApp{replica: f.replica(t, nil, cognito.WithLeeway(time.Minute))}
		h := app.sessions.RequireStepUp(cognito.StepUp{MaxAge: 5 * time.Minute})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		b := f.browser()
		b.signIn(t, app.replica, "")
		f.clock.Advance(6 * time.Minute)
		assert.Equal(t, http.StatusOK, b.navigate(h, "/p").StatusCode)
		f.clock.Advance(time.Second)
		assert.Equal(t, http.StatusFound, b.navigate(h, "/p").StatusCode)
	})
}

func TestSessionsStepUpScriptCallGets401(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	b.signIn(t, app.replica, "")
	f.clock.Advance(time.Hour + time.Minute) // refreshed: auth_time an hour old
	f.pool.ResetCounts()
	for _, tc := range []struct{ target, challenge string }{
		{"/transfer", `Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:cognito:loa:2"`},
		{"/password", `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age="300"`},
	} {
		res := b.do(app.pages, http.MethodPost, tc.target, "Sec-Fetch-Mode", "cors")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Equal(t, tc.challenge, res.Header.Get("WWW-Authenticate"))
		assert.Empty(t, res.Header.Get("Location"))
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	}
	assert.Zero(t, app.reached)
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointAuthorize))
	assert.Equal(t, http.StatusOK, b.get(app.replica).StatusCode, "the session is kept")
}

func TestSessionsStepUpAsAnotherUser(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	b.signIn(t, app.replica, "")
	aliceSID := b.cookie("cognito-session")
	f.pool.ResetCounts()

	f.pool.SignInAs("bob") // someone else signs in at the hosted UI
	_, callback := throughHostedUI(t, f, b.navigate(app.pages, "/transfer"))
	res := b.do(app.pages, http.MethodGet, callback)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke), "alice's refresh token is revoked")
	_, found, err := f.mem.Find(storeKey(aliceSID))
	require.NoError(t, err)
	assert.False(t, found, "alice's session has ended")

	res = b.navigate(app.pages, "/transfer")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "bob at "+loa2, body(res), "the new session is bob's alone")
	assert.Equal(t, "bob@example.com", app.seen.IDToken.Email)
	require.Equal(t, http.StatusOK, b.get(app.replica).StatusCode)
	assert.Equal(t, app.seen.IDToken.Subject, app.last.Load().IDToken.Subject)
	assert.Equal(t, app.seen.AccessToken, app.last.Load().AccessToken, "tokens of one sign-in, not a mix")

	replay := f.browser()
	replay.setCookie("cognito-session", aliceSID)
	assert.Equal(t, http.StatusUnauthorized, replay.get(app.replica).StatusCode)
}

func TestSessionsStepUpThatFailsDoesNotLoop(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	f.pool.SignInAs("nomfa") // no MFA: a step-up reaches level 1 only
	b.signIn(t, app.replica, "")
	f.pool.ResetCounts()

	_, callback := throughHostedUI(t, f, b.navigate(app.pages, "/transfer"))
	res := b.do(app.pages, http.MethodGet, callback)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no redirect back to the page")
	assert.Empty(t, res.Header.Get("Location"))
	page := body(res)
	assert.Contains(t, page, "A stronger sign-in is required")
	assert.Contains(t, page, `<a href="/transfer">Try again</a>`)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointAuthorize), "one round trip")
	assert.Zero(t, app.reached)
	assert.Contains(t, f.logs.String(), "short of the level asked")

	require.Equal(t, http.StatusOK, b.get(app.replica).StatusCode, "signed in, at level 1")
	assert.Equal(t, loa1, app.last.Load().IDToken.ACR)

	t.Run("a handler of the app's", func(t *testing.T) {
		var failure *cognito.StepUpFailure
		var sub string
		app := newStepUpApp(t, f, cognito.WithStepUpFailedHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ok bool
			failure, ok = cognito.StepUpFailureFromContext(r.Context())
			assert.True(t, ok, "the handler has its StepUpFailure")
			if s, ok := cognito.SessionFromContext(r.Context()); ok {
				sub = s.IDToken.Subject
			}
			http.Error(w, "MFA needed", http.StatusForbidden)
		})))
		_, callback := throughHostedUI(t, f, b.navigate(app.pages, "/transfer?x=1"))
		res := b.do(app.pages, http.MethodGet, callback)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "MFA needed\n", body(res))
		require.NotNil(t, failure)
		assert.Equal(t, cognito.StepUp{ACR: []string{loa2}}, failure.Step)
		assert.Equal(t, "/transfer?x=1", failure.ReturnTo)
		assert.Equal(t, "A stronger sign-in is required", failure.Reason)
		require.Equal(t, http.StatusOK, b.get(app.replica).StatusCode, "the new session is set")
		assert.Equal(t, app.last.Load().IDToken.Subject, sub)
	})
}

// stepUpCookieDeleted reports whether res deletes a step-up's cookie.
func stepUpCookieDeleted(res *http.Response) bool {
	for _, c := range res.Cookies() {
		if strings.HasPrefix(c.Name, "cognito-session-stepup-") {
			return c.MaxAge < 0 && c.Value == ""
		}
	}
	return false
}

// TestSessionsStepUpFailureCarriesTheStep: the step-up failure handler gets
// the StepUp the page asked for, exactly: its levels and its MaxAge, which
// travel through the login in a cookie. A sign-in that cannot reach a
// MaxAge (the app's clock runs ten minutes ahead of the pool's, beyond the
// leeway) fails as one short of a level does: once, not in a loop.
func TestSessionsStepUpFailureCarriesTheStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		ahead  time.Duration // of the app's clock
		step   cognito.StepUp
		reason string
	}{
		{"a level and a MaxAge", "nomfa", 0, cognito.StepUp{ACR: []string{loa2}, MaxAge: 10 * time.Minute}, "A stronger sign-in is required"},
		{"a MaxAge alone", "alice", 10 * time.Minute, cognito.StepUp{MaxAge: 5 * time.Minute}, "A more recent sign-in is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := stepUpFixture(t)
			f.pool.SignInAs(tc.user)
			var failure *cognito.StepUpFailure
			rep := f.replica(t, []cognito.SessionOption{
				cognito.WithSessionClock(func() time.Time { return f.clock.Now().Add(tc.ahead) }),
				cognito.WithStepUpFailedHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					failure, _ = cognito.StepUpFailureFromContext(r.Context())
					http.Error(w, "no", http.StatusForbidden)
				})),
			})
			reached := 0
			mux := http.NewServeMux()
			mux.Handle("/", rep.handler)
			mux.Handle("/page", rep.sessions.RequireStepUp(tc.step)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ })))
			b := f.browser()
			b.signIn(t, rep, "")
			f.pool.ResetCounts()

			_, callback := throughHostedUI(t, f, b.navigate(mux, "/page"))
			res := b.do(mux, http.MethodGet, callback)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, body(res))
			require.NotNil(t, failure)
			assert.Equal(t, tc.step, failure.Step)
			assert.Equal(t, tc.reason, failure.Reason)
			assert.Equal(t, "/page", failure.ReturnTo)
			assert.Zero(t, reached)
			assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointAuthorize), "one round trip")
		})
	}
}

// TestSessionsStepUpReturnTo: a step-up started by a GET or HEAD navigation
// comes back to that page; one started by another method (a form posted to
// the page) comes back to "/", as a redirect cannot repeat the post.
func TestSessionsStepUpReturnTo(t *testing.T) {
	for _, tc := range []struct {
		method, back string
	}{
		{http.MethodGet, "/transfer?to=savings"},
		{http.MethodHead, "/transfer?to=savings"},
		{http.MethodPost, "/"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			f := stepUpFixture(t)
			app := newStepUpApp(t, f)
			b := f.browser()
			b.signIn(t, app.replica, "")

			res := b.do(app.pages, tc.method, "/transfer?to=savings", "Sec-Fetch-Mode", "navigate")
			_, callback := throughHostedUI(t, f, res)
			res = b.do(app.pages, http.MethodGet, callback)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, body(res))
			assert.Equal(t, tc.back, res.Header.Get("Location"))
		})
	}
}

func TestSessionsStepUpCallbackOfAnotherLogin(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	b := f.browser()
	b.signIn(t, app.replica, "")
	sid := b.cookie("cognito-session")

	t.Run("a state of another browser's login is refused", func(t *testing.T) {
		res := b.navigate(app.pages, "/transfer")
		require.Equal(t, http.StatusFound, res.StatusCode) // the step-up is under way: its cookies are set
		attacker := f.browser()
		_, foreign := throughHostedUI(t, f, attacker.navigate(app.pages, "/login"))
		res = b.do(app.pages, http.MethodGet, foreign)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Equal(t, sid, b.cookie("cognito-session"), "the session is as it was")
		require.Equal(t, http.StatusOK, b.get(app.replica).StatusCode)
		assert.Empty(t, app.last.Load().IDToken.ACR, "not upgraded")
	})
	t.Run("an ordinary login of this browser is not judged as the step-up", func(t *testing.T) {
		f.pool.SignInAs("nomfa")
		defer f.pool.SignInAs("alice")
		step := b.navigate(app.pages, "/transfer")
		require.Equal(t, http.StatusFound, step.StatusCode)
		_, ordinary := throughHostedUI(t, f, b.navigate(app.pages, "/login?return_to=/transfer"))
		res := b.do(app.pages, http.MethodGet, ordinary)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode, "a sign-in, not a failed step-up")
		assert.Equal(t, "/transfer", res.Header.Get("Location"))
	})
}

func TestSessionsStepUpRefusesBadSteps(t *testing.T) {
	f := stepUpFixture(t)
	rep := f.replica(t, nil)
	b := f.browser()
	b.signIn(t, rep, "")
	for name, step := range map[string]cognito.StepUp{
		"empty":                   {},
		"MaxAge negative":         {MaxAge: -time.Minute},
		"a space inside a level":  {ACR: []string{"urn:cognito:loa:2 x"}},
		"a control char in level": {ACR: []string{"urn:cognito:loa:2\x00"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := rep.sessions.RequireStepUp(step)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("a broken rule let a request through")
			}))
			assert.Equal(t, http.StatusInternalServerError, b.navigate(h, "/p").StatusCode)
			assert.Equal(t, http.StatusInternalServerError, f.browser().navigate(h, "/p").StatusCode)
		})
	}
	assert.Contains(t, f.logs.String(), "RequireStepUp refuses every request")
}

func TestSessionsStepUpSignedOut(t *testing.T) {
	f := stepUpFixture(t)
	app := newStepUpApp(t, f)
	res := f.browser().navigate(app.pages, "/transfer")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "to sign in, as Require does")
	assert.Equal(t, "/login?return_to=%2Ftransfer", res.Header.Get("Location"))
	res = f.browser().get(app.replica)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
}
