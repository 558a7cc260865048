package cognito_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

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
