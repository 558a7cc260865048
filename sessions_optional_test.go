package cognito_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// optionalPage serves "/" through Sessions.Optional on rep and records what
// the page saw: the session, or none.
type optionalPage struct {
	handler http.Handler
	saw     *cognito.Session
	reached int
}

func newOptionalPage(t *testing.T, f *sessionFixture, rep *replica) *optionalPage {
	p := &optionalPage{}
	mux := http.NewServeMux()
	mux.Handle("/", rep.handler)
	mux.Handle("/home", rep.sessions.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.reached++
		sess, ok := cognito.SessionFromContext(r.Context())
		p.saw = nil
		if ok {
			p.saw = sess
			f.secrets.add(sess.AccessToken)
			fmt.Fprintf(w, "hello %s", sess.IDToken.Email)
			return
		}
		fmt.Fprint(w, "hello, sign in?")
	})))
	p.handler = mux
	return p
}

func (p *optionalPage) visit(b *browser) *http.Response {
	p.saw = nil
	return b.do(p.handler, http.MethodGet, "/home", "Sec-Fetch-Mode", "navigate")
}

func TestSessionsOptional(t *testing.T) {
	t.Run("signed out: served without a session, no cookie set", func(t *testing.T) {
		f := newSessionFixture(t)
		page := newOptionalPage(t, f, f.replica(t, nil))
		res := page.visit(f.browser())
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "hello, sign in?", body(res))
		assert.Nil(t, page.saw)
		assert.Empty(t, res.Cookies())
		assert.Empty(t, res.Header.Get("Location"))
		assert.Empty(t, res.Header.Get("Cache-Control"), "the page of a visitor with no session may be cached")
	})

	t.Run("signed in: the session, as Require gives it", func(t *testing.T) {
		f := newSessionFixture(t)
		rep := f.replica(t, nil)
		page := newOptionalPage(t, f, rep)
		b := f.browser()
		b.signIn(t, rep, "")
		require.Equal(t, http.StatusOK, b.get(rep).StatusCode)
		res := page.visit(b)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "hello alice@example.com", body(res))
		require.NotNil(t, page.saw)
		assert.Equal(t, rep.last.Load().AccessToken, page.saw.AccessToken)
		assert.Empty(t, res.Cookies(), "nothing changed: nothing written")
	})

	t.Run("refreshed: new tokens in the context and the store", func(t *testing.T) {
		f := newSessionFixture(t)
		rep := f.replica(t, nil)
		page := newOptionalPage(t, f, rep)
		b := f.browser()
		b.signIn(t, rep, "")
		require.Equal(t, http.StatusOK, page.visit(b).StatusCode)
		first := page.saw.AccessToken
		f.pool.ResetCounts()

		f.clock.Advance(56 * time.Minute) // inside the 5-minute margin of the hour
		res := page.visit(b)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		require.NotNil(t, page.saw)
		assert.NotEqual(t, first, page.saw.AccessToken)
		assert.WithinDuration(t, f.clock.Now().Add(time.Hour), page.saw.Expiry, 0)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "the renewed cookie is not for shared caches")

		require.Equal(t, http.StatusOK, b.get(rep).StatusCode)
		assert.Equal(t, page.saw.AccessToken, rep.last.Load().AccessToken, "Require sees the stored refresh")
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	})

	t.Run("ended: served without a session, the cookie and the entry deleted", func(t *testing.T) {
		f := newSessionFixture(t, cognitotest.WithTokenLifetimes(time.Hour, 2*time.Hour))
		rep := f.replica(t, []cognito.SessionOption{cognito.WithRefreshRaceWait(0)})
		page := newOptionalPage(t, f, rep)
		b := f.browser()
		b.signIn(t, rep, "")
		sid := b.cookie("cognito-session")
		f.clock.Advance(2 * time.Hour) // the refresh token expired

		res := page.visit(b)
		assert.Equal(t, http.StatusOK, res.StatusCode, "never redirected")
		assert.Equal(t, "hello, sign in?", body(res))
		assert.Nil(t, page.saw)
		assert.Empty(t, b.cookie("cognito-session"), "the cookie is deleted")
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "no shared cache may replay the deletion to others")
		_, found, err := f.mem.Find(storeKey(sid))
		require.NoError(t, err)
		assert.False(t, found, "the entry is deleted")
	})

	t.Run("signed out at Logout: the old cookie gets no session", func(t *testing.T) {
		f := newSessionFixture(t)
		rep := f.replica(t, nil)
		page := newOptionalPage(t, f, rep)
		b := f.browser()
		b.signIn(t, rep, "")
		old := b.cookie("cognito-session")
		require.Equal(t, http.StatusSeeOther, b.do(rep.handler, http.MethodPost, "/logout").StatusCode)
		replay := f.browser()
		replay.setCookie("cognito-session", old)
		res := page.visit(replay)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Nil(t, page.saw)
		assert.Empty(t, replay.cookie("cognito-session"))
	})
}

func TestSessionsOptionalFailures(t *testing.T) {
	f := newSessionFixture(t)
	rep := f.replica(t, nil)
	page := newOptionalPage(t, f, rep)
	b := f.browser()
	b.signIn(t, rep, "")
	require.Equal(t, http.StatusOK, page.visit(b).StatusCode)
	first := page.saw.AccessToken

	t.Run("the store fails: 503, the session kept", func(t *testing.T) {
		rep.store.failFind.Store(true)
		defer rep.store.failFind.Store(false)
		page.reached = 0
		res := page.visit(b)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.Zero(t, page.reached, "a failing store is not a signed-out page")
		assert.NotEmpty(t, b.cookie("cognito-session"))
	})
	t.Run("the token endpoint fails while the tokens work: served with them", func(t *testing.T) {
		f.clock.Advance(58 * time.Minute)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
		res := page.visit(b)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		require.NotNil(t, page.saw)
		assert.Equal(t, first, page.saw.AccessToken)
	})
	t.Run("the token endpoint fails once the tokens expired: 503, the session kept", func(t *testing.T) {
		f.clock.Advance(5 * time.Minute)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
		page.reached = 0
		res := page.visit(b)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		assert.Zero(t, page.reached)
		assert.NotEmpty(t, b.cookie("cognito-session"))
	})
	t.Run("back: the same session", func(t *testing.T) {
		res := page.visit(b)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		require.NotNil(t, page.saw)
		assert.NotEqual(t, first, page.saw.AccessToken)
	})
}
