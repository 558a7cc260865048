package cognito_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// whoami answers 200 with the username of the verified access token.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tok, ok := cognito.AccessTokenFromContext(r.Context())
	if !ok {
		http.Error(w, "no token in context", http.StatusTeapot)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"username": tok.Username, "path_id": r.PathValue("id")})
})

func newVerifier(t *testing.T, pool *cognitotest.Server) *cognito.Verifier {
	t.Helper()
	v, err := cognito.NewVerifier(pool.Config())
	require.NoError(t, err)
	return v
}

func serve(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/things/42", nil)
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRequireAccessToken(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com"})
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	tests := []struct {
		name       string
		headers    func() []string
		status     int
		challenge  string // the whole WWW-Authenticate header; "" for none
		hookErr    error  // what the error hook must see; nil when the request passes
		hookCalled bool
	}{
		{
			name:    "valid token",
			headers: func() []string { return []string{"Bearer " + pool.MintAccessToken("alice")} },
			status:  http.StatusOK,
		},
		{
			name:    "scheme in lower case",
			headers: func() []string { return []string{"bearer " + pool.MintAccessToken("alice")} },
			status:  http.StatusOK,
		},
		{
			name: "no Authorization header", headers: func() []string { return nil },
			status: http.StatusUnauthorized, challenge: `Bearer realm="things"`, hookCalled: true,
		},
		{
			name: "Basic credentials", headers: func() []string { return []string{"Basic YWxpY2U6cHc="} },
			status: http.StatusUnauthorized, challenge: `Bearer realm="things"`, hookCalled: true,
		},
		{
			name: "Bearer without a token", headers: func() []string { return []string{"Bearer"} },
			status: http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrMalformedToken, hookCalled: true,
		},
		{
			name: "garbage token", headers: func() []string { return []string{"Bearer not.a.jwt"} },
			status: http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrMalformedToken, hookCalled: true,
		},
		{
			name:    "expired token",
			headers: func() []string { return []string{"Bearer " + pool.MintAccessToken("alice", cognitotest.Expired())} },
			status:  http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrTokenExpired, hookCalled: true,
		},
		{
			name:    "ID token instead of an access token",
			headers: func() []string { return []string{"Bearer " + pool.MintIDToken("alice")} },
			status:  http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrInvalidTokenUse, hookCalled: true,
		},
		{
			name: "token of another app client",
			headers: func() []string {
				return []string{"Bearer " + pool.MintAccessToken("alice", cognitotest.WithAudience("otherclient"))}
			},
			status: http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrInvalidAudience, hookCalled: true,
		},
		{
			name: "token signed by another key",
			headers: func() []string {
				return []string{"Bearer " + pool.MintAccessToken("alice", cognitotest.WithSigningKey(otherKey))}
			},
			status: http.StatusUnauthorized, challenge: `Bearer realm="things", error="invalid_token"`,
			hookErr: cognito.ErrInvalidSignature, hookCalled: true,
		},
		{
			name: "two Authorization headers",
			headers: func() []string {
				return []string{"Bearer " + pool.MintAccessToken("alice"), "Bearer " + pool.MintAccessToken("alice")}
			},
			status: http.StatusBadRequest, challenge: `Bearer realm="things", error="invalid_request"`, hookCalled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				hookErr error
				called  bool
			)
			hook := cognito.WithErrorHook(func(r *http.Request, err error) {
				mu.Lock()
				defer mu.Unlock()
				called, hookErr = true, err
			})
			h := cognito.RequireAccessToken(newVerifier(t, pool), cognito.WithRealm("things"), hook)(whoami)

			rec := serve(h, tt.headers()...)

			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tt.hookCalled, called, "error hook called")
			if tt.hookErr != nil {
				assert.ErrorIs(t, hookErr, tt.hookErr)
			}
			if tt.status == http.StatusOK {
				assert.JSONEq(t, `{"username":"alice","path_id":""}`, rec.Body.String())
				return
			}
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, http.StatusText(tt.status)+"\n", rec.Body.String(), "the body must not say why")
		})
	}
}

func TestRequireAccessTokenWithoutRealm(t *testing.T) {
	pool := cognitotest.NewServer(t)
	h := cognito.RequireAccessToken(newVerifier(t, pool))(whoami)

	assert.Equal(t, "Bearer", serve(h).Header().Get("WWW-Authenticate"))
	assert.Equal(t, `Bearer error="invalid_token"`, serve(h, "Bearer x.y.z").Header().Get("WWW-Authenticate"))
}

func TestRequireAccessTokenJWKSUnavailable(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	var hookErr error
	h := cognito.RequireAccessToken(newVerifier(t, pool), cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err }))(whoami)
	token := pool.MintAccessToken("alice")

	rec := serve(h, "Bearer "+token)

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "the pool's outage is not the client's fault")
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "no challenge: the token may be fine")
	assert.ErrorIs(t, hookErr, cognito.ErrJWKSUnavailable)
	assert.Equal(t, http.StatusText(http.StatusServiceUnavailable)+"\n", rec.Body.String())

	rec = serve(h, "Bearer "+token)
	assert.Equal(t, http.StatusOK, rec.Code, "the same token passes once the keys can be fetched")
}

func TestRequireAccessTokenNilVerifier(t *testing.T) {
	pool := cognitotest.NewServer(t)
	var hookErr error
	h := cognito.RequireAccessToken(nil, cognito.WithRealm("things"), cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err }))(whoami)

	rec := serve(h, "Bearer "+pool.MintAccessToken("alice"))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	// The server is misconfigured, not the client's token: no challenge, which
	// would tell the client to get another token.
	_, challenged := rec.Header()["Www-Authenticate"]
	assert.False(t, challenged, "a 500 carries no WWW-Authenticate")
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, http.StatusText(http.StatusInternalServerError)+"\n", rec.Body.String())
	assert.ErrorIs(t, hookErr, cognito.ErrInvalidConfig)

	rec = serve(h)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="things"`, rec.Header().Get("WWW-Authenticate"))
}

func TestAccessTokenFromContextWithoutMiddleware(t *testing.T) {
	tok, ok := cognito.AccessTokenFromContext(httptest.NewRequest(http.MethodGet, "/", nil).Context())
	assert.False(t, ok)
	assert.Nil(t, tok)
}

func TestRequireGroupAndScopes(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins", "staff"}})
	pool.AddUser(cognitotest.User{Username: "bob", Groups: []string{"staff"}})
	pool.AddUser(cognitotest.User{Username: "carol"})
	scoped := func(user, scope string) string {
		return pool.MintAccessToken(user, cognitotest.WithClaim("scope", scope))
	}

	tests := []struct {
		name      string
		guard     func(http.Handler) http.Handler
		token     string
		status    int
		challenge string
	}{
		{"group held", cognito.RequireGroup("admins"), scoped("alice", "openid"), http.StatusOK, ""},
		{"one of the groups held", cognito.RequireGroup("auditors", "staff"), scoped("bob", "openid"), http.StatusOK, ""},
		{"group not held", cognito.RequireGroup("admins"), scoped("bob", "openid"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope"`},
		{"user in no group", cognito.RequireGroup("admins"), scoped("carol", "openid"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope"`},
		{"no group named", cognito.RequireGroup(), scoped("alice", "openid"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope"`},
		{"any scope: one held", cognito.RequireAnyScope("api/read", "api/write"), scoped("carol", "openid api/write"), http.StatusOK, ""},
		{"any scope: none held", cognito.RequireAnyScope("api/read", "api/write"), scoped("carol", "openid email"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope", scope="api/read api/write"`},
		{"any scope: none named", cognito.RequireAnyScope(), scoped("carol", "openid"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope"`},
		{"all scopes held", cognito.RequireAllScopes("openid", "email"), scoped("carol", "email profile openid"), http.StatusOK, ""},
		{"all scopes: one missing", cognito.RequireAllScopes("openid", "email"), scoped("carol", "openid profile"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope", scope="openid email"`},
		{"all scopes: none named", cognito.RequireAllScopes(), scoped("carol", "openid"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope"`},
		{"scope names are matched whole", cognito.RequireAnyScope("api/read"), scoped("carol", "api/reader"), http.StatusForbidden, `Bearer realm="things", error="insufficient_scope", scope="api/read"`},
	}
	verifier := newVerifier(t, pool)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cognito.RequireAccessToken(verifier, cognito.WithRealm("things"))(tt.guard(whoami))

			rec := serve(h, "Bearer "+tt.token)

			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			if tt.status != http.StatusOK {
				assert.Equal(t, http.StatusText(tt.status)+"\n", rec.Body.String())
			}
		})
	}
}

func TestRequireGroupWithoutVerifiedToken(t *testing.T) {
	pool := cognitotest.NewServer(t)
	for name, guard := range map[string]func(http.Handler) http.Handler{
		"RequireGroup":     cognito.RequireGroup("admins"),
		"RequireAnyScope":  cognito.RequireAnyScope("openid"),
		"RequireAllScopes": cognito.RequireAllScopes("openid"),
	} {
		t.Run(name, func(t *testing.T) {
			// A valid token in the header counts for nothing without
			// RequireAccessToken in front: the guard sees no verified token.
			rec := serve(guard(whoami), "Bearer "+pool.MintAccessToken("alice"))

			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
		})
	}
}

// chain applies middleware the way chi's Use and Route do: the first wraps
// the outermost.
func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

func TestMiddlewareWithServeMuxPatterns(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	pool.AddUser(cognitotest.User{Username: "bob"})
	auth := cognito.RequireAccessToken(newVerifier(t, pool))

	mux := http.NewServeMux()
	mux.Handle("GET /public", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	mux.Handle("GET /things/{id}", chain(whoami, auth))
	mux.Handle("DELETE /things/{id}", chain(whoami, auth, cognito.RequireGroup("admins")))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	do := func(method, path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(body)
	}
	alice, bob := pool.MintAccessToken("alice"), pool.MintAccessToken("bob")

	status, _ := do(http.MethodGet, "/public", "")
	assert.Equal(t, http.StatusOK, status)
	status, _ = do(http.MethodGet, "/things/7", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body := do(http.MethodGet, "/things/7", bob)
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"username":"bob","path_id":"7"}`, body, "path values survive the middleware")
	status, _ = do(http.MethodDelete, "/things/7", bob)
	assert.Equal(t, http.StatusForbidden, status)
	status, body = do(http.MethodDelete, "/things/7", alice)
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"username":"alice","path_id":"7"}`, body)
}

func TestWWWAuthenticateQuoting(t *testing.T) {
	pool := cognitotest.NewServer(t)
	h := cognito.RequireAccessToken(newVerifier(t, pool), cognito.WithRealm("a \"quoted\\\" realm\r\n"))(whoami)

	assert.Equal(t, `Bearer realm="a \"quoted\\\" realm"`, serve(h).Header().Get("WWW-Authenticate"))
}

func TestWWWAuthenticateDropsC1ControlCharacters(t *testing.T) {
	pool := cognitotest.NewServer(t)
	h := cognito.RequireAccessToken(newVerifier(t, pool), cognito.WithRealm("a\u009b2J \u0085realm\u00a0"))(whoami)

	assert.Equal(t, "Bearer realm=\"a2J realm\u00a0\"", serve(h).Header().Get("WWW-Authenticate"))
}

func TestRefusalRevealsNothing(t *testing.T) {
	pool := cognitotest.NewServer(t)
	expired := pool.MintAccessToken("alice", cognitotest.Expired())
	var hookErr error
	h := cognito.RequireAccessToken(newVerifier(t, pool), cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err }))(whoami)

	rec := serve(h, "Bearer "+expired)

	require.Error(t, hookErr)
	assert.True(t, errors.Is(hookErr, cognito.ErrTokenExpired))
	assert.NotContains(t, hookErr.Error(), expired)
	for _, v := range rec.Header() {
		for _, s := range v {
			assert.NotContains(t, s, "expired")
		}
	}
	assert.NotContains(t, rec.Body.String(), "expired")
}
