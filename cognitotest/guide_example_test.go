package cognitotest_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// TestSessionRefreshOnOneClock is docs/testing.md's test of an app's
// sessions across the tokens' expiry: the pool starts before the app, which
// learns its port only once it listens (SetRedirectURIs), and one Clock
// moves the pool, the library and the test together, with no sleep. The
// guide shows its body as it stands.
func TestSessionRefreshOnOneClock(t *testing.T) {
	clk := cognitotest.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC))
	pool := cognitotest.NewServer(t,
		cognitotest.WithClock(clk.Now),
		cognitotest.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))) // each token request, in the test's log
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice") // the hosted UI signs alice in at once

	mux := http.NewServeMux()
	app := httptest.NewServer(mux) // its URL is known only now
	t.Cleanup(app.Close)
	require.NoError(t, pool.SetRedirectURIs(pool.Config().ClientID, app.URL+"/callback"))
	cfg := pool.Config() // RedirectURI is app.URL+"/callback"

	client, err := cognito.NewClient(cfg, cognito.WithClock(clk.Now))
	require.NoError(t, err)
	verifier, err := cognito.NewVerifier(cfg, cognito.WithClock(clk.Now))
	require.NoError(t, err)
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier},
		cognito.NewMemoryStore(), cognito.WithSessionClock(clk.Now))
	require.NoError(t, err)
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context())
		fmt.Fprintf(w, "%s until %s", s.IDToken.Username, s.Expiry.Format(time.Kitchen))
	})))

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	page := func() string {
		req, err := http.NewRequest(http.MethodGet, app.URL+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load, as a browser sends it
		res, err := browser.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return string(body)
	}
	assert.Equal(t, "alice until 10:00AM", page()) // signed in through the pool; tokens for an hour
	clk.Advance(time.Hour + time.Minute)           // the tokens have expired
	assert.Equal(t, "alice until 11:01AM", page()) // refreshed on this request
	assert.Equal(t, 2, pool.Requests(cognitotest.EndpointToken), "the sign-in's and one refresh")
}
