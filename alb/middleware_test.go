package alb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
	"github.com/cognitokit/cognito/alb/albtest"
	"github.com/cognitokit/cognito/cognitotest"
)

// whoami answers 200 with the verified user's subject.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tok, ok := alb.TokenFromContext(r.Context())
	if !ok {
		http.Error(w, "no token in context", http.StatusTeapot)
		return
	}
	_, _ = w.Write([]byte(tok.Subject))
})

type verifierFunc func(context.Context, string) (*cognito.AccessToken, error)

func (f verifierFunc) VerifyAccessToken(ctx context.Context, raw string) (*cognito.AccessToken, error) {
	return f(ctx, raw)
}

// fixedVerifier is a verifier held by value, not by pointer: it answers at.
type fixedVerifier struct{ at *cognito.AccessToken }

func (v fixedVerifier) VerifyAccessToken(context.Context, string) (*cognito.AccessToken, error) {
	return v.at, nil
}

func serveWith(h http.Handler, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/things/42", nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRequireUser(t *testing.T) {
	f := newFixture(t)
	h := alb.RequireUser(f.v)(whoami)
	good := f.lb.Mint("sub-1")

	rec := serveWith(h, http.Header{"X-Amzn-Oidc-Data": {good}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "sub-1", rec.Body.String())

	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no header", nil, http.StatusUnauthorized},
		{"an empty header", http.Header{"X-Amzn-Oidc-Data": {""}}, http.StatusUnauthorized},
		{"a forged header", http.Header{"X-Amzn-Oidc-Data": {good[:len(good)-8] + "AAAAAA=="}}, http.StatusUnauthorized},
		{"an expired header", http.Header{"X-Amzn-Oidc-Data": {f.lb.Mint("sub-1", albtest.WithExpiry(f.clock.Now()))}}, http.StatusUnauthorized},
		{"another load balancer's header", http.Header{"X-Amzn-Oidc-Data": {f.lb.Mint("sub-1", albtest.WithSigner("x"))}}, http.StatusUnauthorized},
		{"two headers", http.Header{"X-Amzn-Oidc-Data": {good, good}}, http.StatusBadRequest},
		{"a bearer token instead", http.Header{"Authorization": {"Bearer " + good}}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serveWith(h, tc.header)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, http.StatusText(tc.status)+"\n", rec.Body.String(), "the body says nothing about why")
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
		})
	}

	t.Run("keys unavailable: 503", func(t *testing.T) {
		f := newFixture(t)
		f.lb.SetHandler(status(http.StatusBadGateway))
		rec := serveWith(alb.RequireUser(f.v)(whoami), http.Header{"X-Amzn-Oidc-Data": {f.lb.Mint("sub-1")}})
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
	t.Run("nil verifier: 500", func(t *testing.T) {
		rec := serveWith(alb.RequireUser(nil)(whoami), http.Header{"X-Amzn-Oidc-Data": {good}})
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
	})
	t.Run("no token in a bare context", func(t *testing.T) {
		tok, ok := alb.TokenFromContext(httptest.NewRequest(http.MethodGet, "/", nil).Context())
		assert.False(t, ok)
		assert.Nil(t, tok)
	})
}

func TestRequireAccessToken(t *testing.T) {
	clock := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	alice := pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	bob := pool.AddUser(cognitotest.User{Username: "bob"})
	cfg := pool.Config()
	cv, err := cognito.NewVerifier(cfg, cognito.WithClock(clock.Now))
	require.NoError(t, err)

	lb := albtest.NewServer(t, albtest.WithClock(clock.Now))
	lbCfg := lb.Config()
	lbCfg.ClientIDs, lbCfg.Issuer = []string{cfg.ClientID}, pool.Issuer()
	v := newVerifierFor(t, lbCfg, lb, clock)
	mint := func(sub string) string {
		return lb.Mint(sub, albtest.WithClient(cfg.ClientID), albtest.WithIssuer(pool.Issuer()))
	}

	admins := alb.RequireUser(v)(alb.RequireAccessToken(cv)(cognito.RequireGroup("admins")(whoami)))
	aliceAT := pool.MintAccessToken("alice")

	rec := serveWith(admins, http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}, "X-Amzn-Oidc-Accesstoken": {aliceAT}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, alice.Sub, rec.Body.String())

	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"not in the group", http.Header{"X-Amzn-Oidc-Data": {mint(bob.Sub)}, "X-Amzn-Oidc-Accesstoken": {pool.MintAccessToken("bob")}}, http.StatusForbidden},
		{"no access token", http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}}, http.StatusUnauthorized},
		{"the access token in Authorization only", http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}, "Authorization": {"Bearer " + aliceAT}}, http.StatusUnauthorized},
		{"another user's access token", http.Header{"X-Amzn-Oidc-Data": {mint(bob.Sub)}, "X-Amzn-Oidc-Accesstoken": {aliceAT}}, http.StatusUnauthorized},
		{"an expired access token", http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}, "X-Amzn-Oidc-Accesstoken": {pool.MintAccessToken("alice", cognitotest.Expired())}}, http.StatusUnauthorized},
		{"an ID token as the access token", http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}, "X-Amzn-Oidc-Accesstoken": {pool.MintIDToken("alice")}}, http.StatusUnauthorized},
		{"two access tokens", http.Header{"X-Amzn-Oidc-Data": {mint(alice.Sub)}, "X-Amzn-Oidc-Accesstoken": {aliceAT, aliceAT}}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serveWith(admins, tc.header)
			assert.Equal(t, tc.status, rec.Code)
		})
	}

	t.Run("the Authorization header is left alone", func(t *testing.T) {
		h := alb.RequireAccessToken(cv)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.Header.Get("Authorization")))
		}))
		rec := serveWith(h, http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}, "Authorization": {"Basic dTpw"}})
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "Basic dTpw", rec.Body.String())
	})
	t.Run("nil verifiers: 500", func(t *testing.T) {
		for _, v := range []cognito.AccessTokenVerifier{nil, (*cognito.Verifier)(nil)} {
			rec := serveWith(alb.RequireAccessToken(v)(whoami), http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}})
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		}
	})
	t.Run("a verifier's errors pick the status", func(t *testing.T) {
		for _, tc := range []struct {
			err    error
			status int
		}{
			{fmt.Errorf("wrapped: %w", cognito.ErrEndpointUnavailable), http.StatusServiceUnavailable},
			{fmt.Errorf("wrapped: %w", cognito.ErrJWKSUnavailable), http.StatusServiceUnavailable},
			{fmt.Errorf("wrapped: %w", cognito.ErrRevocationListUnavailable), http.StatusServiceUnavailable},
			{fmt.Errorf("wrapped: %w", cognito.ErrTokenRevoked), http.StatusUnauthorized},
			{fmt.Errorf("wrapped: %w", cognito.ErrInvalidConfig), http.StatusInternalServerError},
			{fmt.Errorf("wrapped: %w", cognito.ErrTokenExpired), http.StatusUnauthorized},
			{nil, http.StatusInternalServerError}, // no token and no error
		} {
			v := verifierFunc(func(context.Context, string) (*cognito.AccessToken, error) { return nil, tc.err })
			rec := serveWith(alb.RequireAccessToken(v)(whoami), http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}})
			assert.Equal(t, tc.status, rec.Code, "%v", tc.err)
		}
	})
	t.Run("a verifier held by value", func(t *testing.T) {
		h := alb.RequireAccessToken(fixedVerifier{at: &cognito.AccessToken{Username: "alice"}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at, ok := cognito.AccessTokenFromContext(r.Context())
			require.True(t, ok)
			_, _ = w.Write([]byte(at.Username))
		}))
		rec := serveWith(h, http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}})
		require.Equal(t, http.StatusOK, rec.Code, "a struct is never nil")
		assert.Equal(t, "alice", rec.Body.String())
	})
	t.Run("alone, without RequireUser", func(t *testing.T) {
		h := alb.RequireAccessToken(cv)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at, ok := cognito.AccessTokenFromContext(r.Context())
			require.True(t, ok)
			_, _ = w.Write([]byte(at.Username))
		}))
		rec := serveWith(h, http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}})
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "alice", rec.Body.String())
	})
	t.Run("the JWKS unavailable: 503", func(t *testing.T) {
		pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
		cv, err := cognito.NewVerifier(cfg, cognito.WithClock(clock.Now))
		require.NoError(t, err)
		rec := serveWith(alb.RequireAccessToken(cv)(whoami), http.Header{"X-Amzn-Oidc-Accesstoken": {aliceAT}})
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	})
}
