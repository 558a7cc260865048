package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// clientFixture is a fake pool, a Client and a Verifier for it, on one clock.
type clientFixture struct {
	*poolFixture
	client *cognito.Client
}

func newClientFixture(t *testing.T, poolOpts ...cognitotest.Option) *clientFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, append([]cognitotest.Option{cognitotest.WithClock(clock.Now)}, poolOpts...)...)
	pool.AddUser(cognitotest.User{
		Username: "alice", Password: "correct horse", Email: "alice@example.com", EmailVerified: true,
		Groups: []string{"admins"}, Attributes: map[string]string{"custom:tenant": "acme"},
	})
	cfg := pool.Config()
	return newClientFixtureFor(t, pool, clock, cfg)
}

func newClientFixtureFor(t *testing.T, pool *cognitotest.Server, clock *cognitotest.Clock, cfg cognito.Config) *clientFixture {
	t.Helper()
	v, err := cognito.NewVerifier(cfg, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	c, err := cognito.NewClient(cfg, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	return &clientFixture{poolFixture: &poolFixture{pool: pool, clock: clock, v: v, cfg: cfg}, client: c}
}

// authorize runs the hosted UI's authorize step for alice, as a browser would
// with SignInAs, and returns the code from the redirect.
func (f *clientFixture) authorize(t *testing.T, opts ...cognito.AuthOption) string {
	t.Helper()
	f.pool.SignInAs("alice")
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(f.cfg.LoginURL("state-1", opts...))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "state-1", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, "redirect: %s", loc)
	return code
}

// assertNoSecrets checks that err says nothing a log must not hold.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())
	for _, s := range secrets {
		if s != "" {
			assert.NotContains(t, err.Error(), s)
		}
	}
}

func TestExchangeCode(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	verifier, nonce := cognito.GenerateVerifier(), cognito.GenerateVerifier()
	code := f.authorize(t, cognito.WithPKCE(verifier), cognito.WithNonce(nonce))

	toks, err := f.client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", toks.TokenType)
	assert.Equal(t, f.clock.Now().Add(time.Hour), toks.Expiry)
	assert.NotEmpty(t, toks.RefreshToken)

	id, err := f.v.VerifyIDToken(ctx, toks.IDToken)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", id.Email)
	assert.Equal(t, nonce, id.Nonce)
	_, err = f.v.VerifyAccessToken(ctx, toks.AccessToken)
	require.NoError(t, err)

	// A code is single use.
	_, err = f.client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(verifier))
	require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	assert.False(t, errors.Is(err, cognito.ErrEndpointUnavailable))
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Equal(t, "token", oe.Endpoint)
	assertNoSecrets(t, err, code, verifier, f.cfg.ClientSecret)
}

func TestExchangeCodeRefusals(t *testing.T) {
	ctx := context.Background()

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		f := newClientFixture(t)
		verifier := cognito.GenerateVerifier()
		code := f.authorize(t, cognito.WithPKCE(verifier))
		wrong := cognito.GenerateVerifier()
		_, err := f.client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(wrong))
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
		assertNoSecrets(t, err, code, verifier, wrong)
	})

	t.Run("expired code", func(t *testing.T) {
		f := newClientFixture(t)
		code := f.authorize(t)
		f.clock.Advance(time.Hour)
		_, err := f.client.ExchangeCode(ctx, code)
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	})

	t.Run("wrong client secret", func(t *testing.T) {
		f := newClientFixture(t)
		code := f.authorize(t)
		cfg := f.cfg
		cfg.ClientSecret = "not-the-secret"
		c, err := cognito.NewClient(cfg)
		require.NoError(t, err)
		_, err = c.ExchangeCode(ctx, code)
		require.ErrorIs(t, err, cognito.ErrInvalidClient)
		assertNoSecrets(t, err, code, "not-the-secret", f.cfg.ClientSecret)
	})

	t.Run("empty code is refused before any request", func(t *testing.T) {
		f := newClientFixture(t)
		_, err := f.client.ExchangeCode(ctx, "")
		require.ErrorIs(t, err, cognito.ErrInvalidRequest)
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken))
	})

	t.Run("empty PKCE verifier is refused before any request", func(t *testing.T) {
		// A lost login yields an empty verifier; sent as code_verifier=, it
		// would let through a code the authorize step issued without PKCE.
		f := newClientFixture(t)
		code := f.authorize(t)
		_, err := f.client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(""))
		require.ErrorIs(t, err, cognito.ErrInvalidRequest)
		assertNoSecrets(t, err, code)
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken))

		// The code is unspent, and works with no verifier option at all.
		_, err = f.client.ExchangeCode(ctx, code)
		require.NoError(t, err)
	})

	t.Run("no redirect URI", func(t *testing.T) {
		f := newClientFixture(t)
		cfg := f.cfg
		cfg.RedirectURI = ""
		c, err := cognito.NewClient(cfg)
		require.NoError(t, err)
		_, err = c.ExchangeCode(ctx, "code")
		require.ErrorIs(t, err, cognito.ErrInvalidConfig)
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken))
	})

	t.Run("a failed exchange is not retried", func(t *testing.T) {
		f := newClientFixture(t)
		code := f.authorize(t)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusBadGateway})
		_, err := f.client.ExchangeCode(ctx, code)
		require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
		assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	})
}

func TestClientCredentialsEscaping(t *testing.T) {
	// RFC 6749 section 2.3.1: Basic credentials are form-encoded first, so a
	// secret with ':', '+', '/' or '%' must still authenticate.
	secret := "s3:cr+et/%2F=="
	f := newClientFixture(t, cognitotest.WithClientSecret(secret))
	code := f.authorize(t)
	_, err := f.client.ExchangeCode(context.Background(), code)
	require.NoError(t, err)
}

func TestPublicClient(t *testing.T) {
	f := newClientFixture(t, cognitotest.WithPublicClient())
	require.Empty(t, f.cfg.ClientSecret)
	verifier := cognito.GenerateVerifier()
	code := f.authorize(t, cognito.WithPKCE(verifier))
	toks, err := f.client.ExchangeCode(context.Background(), code, cognito.WithCodeVerifier(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, toks.IDToken)
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()

	t.Run("keeps the refresh token when the pool does not rotate", func(t *testing.T) {
		f := newClientFixture(t)
		first, err := f.client.ExchangeCode(ctx, f.authorize(t))
		require.NoError(t, err)

		f.clock.Advance(time.Hour + time.Minute)
		_, err = f.v.VerifyIDToken(ctx, first.IDToken)
		require.ErrorIs(t, err, cognito.ErrTokenExpired)

		next, err := f.client.Refresh(ctx, first.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, first.RefreshToken, next.RefreshToken)
		assert.NotEqual(t, first.IDToken, next.IDToken)
		assert.Equal(t, f.clock.Now().Add(time.Hour), next.Expiry)
		_, err = f.v.VerifyIDToken(ctx, next.IDToken)
		require.NoError(t, err)
	})

	t.Run("returns the rotated refresh token", func(t *testing.T) {
		f := newClientFixture(t, cognitotest.WithRefreshTokenRotation(true))
		first, err := f.client.ExchangeCode(ctx, f.authorize(t))
		require.NoError(t, err)
		next, err := f.client.Refresh(ctx, first.RefreshToken)
		require.NoError(t, err)
		assert.NotEqual(t, first.RefreshToken, next.RefreshToken)
		_, err = f.client.Refresh(ctx, first.RefreshToken)
		require.ErrorIs(t, err, cognito.ErrInvalidGrant, "a rotated-out refresh token is spent")
		_, err = f.client.Refresh(ctx, next.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("an expired refresh token means signing in again", func(t *testing.T) {
		f := newClientFixture(t)
		first, err := f.client.ExchangeCode(ctx, f.authorize(t))
		require.NoError(t, err)
		f.clock.Advance(30*24*time.Hour + time.Second)
		_, err = f.client.Refresh(ctx, first.RefreshToken)
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
		assertNoSecrets(t, err, first.RefreshToken, f.cfg.ClientSecret)
	})

	t.Run("a revoked refresh token means signing in again", func(t *testing.T) {
		f := newClientFixture(t)
		first, err := f.client.ExchangeCode(ctx, f.authorize(t))
		require.NoError(t, err)
		require.NoError(t, f.client.Revoke(ctx, first.RefreshToken))
		_, err = f.client.Refresh(ctx, first.RefreshToken)
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	})

	t.Run("empty refresh token", func(t *testing.T) {
		f := newClientFixture(t)
		_, err := f.client.Refresh(ctx, "")
		require.ErrorIs(t, err, cognito.ErrInvalidRequest)
		require.ErrorIs(t, f.client.Revoke(ctx, ""), cognito.ErrInvalidRequest)
		assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken)+f.pool.Requests(cognitotest.EndpointRevoke))
	})
}

func TestUserInfo(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	toks, err := f.client.ExchangeCode(ctx, f.authorize(t))
	require.NoError(t, err)

	info, err := f.client.UserInfo(ctx, toks.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", info.Email)
	assert.True(t, info.EmailVerified, "the pool sends the string \"true\"")
	assert.Equal(t, "alice", info.Username)
	assert.NotEmpty(t, info.Subject)
	var attrs map[string]any
	require.NoError(t, info.Claims(&attrs))
	assert.Equal(t, "acme", attrs["custom:tenant"])

	_, err = f.client.UserInfo(ctx, f.pool.MintAccessToken("alice", cognitotest.Expired()))
	require.ErrorIs(t, err, cognito.ErrInvalidToken)
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusUnauthorized, oe.StatusCode)

	_, err = f.client.UserInfo(ctx, "")
	require.ErrorIs(t, err, cognito.ErrInvalidRequest)
}

func TestUserInfoEmailVerifiedForms(t *testing.T) {
	for body, want := range map[string]bool{
		`{"sub":"s","email_verified":true}`:    true,
		`{"sub":"s","email_verified":"true"}`:  true,
		`{"sub":"s","email_verified":false}`:   false,
		`{"sub":"s","email_verified":"false"}`: false,
		`{"sub":"s"}`:                          false,
	} {
		f := newClientFixture(t)
		f.pool.FailNext(cognitotest.EndpointUserInfo, 1, cognitotest.Failure{Status: 200, Body: body})
		info, err := f.client.UserInfo(context.Background(), "access-token")
		require.NoError(t, err, body)
		assert.Equal(t, want, info.EmailVerified, body)
	}
	f := newClientFixture(t)
	f.pool.FailNext(cognitotest.EndpointUserInfo, 1, cognitotest.Failure{Status: 200, Body: `{"sub":"s","email_verified":"yes"}`})
	_, err := f.client.UserInfo(context.Background(), "access-token")
	require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
}

func TestRevoke(t *testing.T) {
	f := newClientFixture(t)
	ctx := context.Background()
	toks, err := f.client.ExchangeCode(ctx, f.authorize(t))
	require.NoError(t, err)
	require.NoError(t, f.client.Revoke(ctx, toks.RefreshToken))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointRevoke))

	f.pool.FailNext(cognitotest.EndpointRevoke, 1, cognitotest.Failure{Status: 400, Body: `{"error":"unsupported_token_type"}`})
	err = f.client.Revoke(ctx, toks.RefreshToken)
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "unsupported_token_type", oe.Code)
	assertNoSecrets(t, err, toks.RefreshToken, f.cfg.ClientSecret)
}

// TestTokenEndpointFaults: every way the endpoint can misbehave yields a typed
// error that says nothing secret.
func TestTokenEndpointFaults(t *testing.T) {
	tests := []struct {
		name      string
		failure   cognitotest.Failure
		want      []error
		notWant   error
		status    int // of the *OAuthError; 0 when there is none
		errorCode string
	}{
		{"500", cognitotest.Failure{Status: 500, Body: `{"error":"internal_error"}`}, []error{cognito.ErrEndpointUnavailable}, cognito.ErrInvalidGrant, 500, "internal_error"},
		{"503 HTML page from a proxy", cognitotest.Failure{Status: 503, Body: "<html><body>Service Unavailable</body></html>", ContentType: "text/html"}, []error{cognito.ErrEndpointUnavailable}, nil, 503, ""},
		{"429", cognitotest.Failure{Status: 429, Body: `{"error":"too_many_requests"}`}, []error{cognito.ErrEndpointUnavailable}, nil, 429, "too_many_requests"},
		{"400 HTML page", cognitotest.Failure{Status: 400, Body: "<html>Bad Request</html>", ContentType: "text/html"}, []error{cognito.ErrInvalidRequest}, cognito.ErrEndpointUnavailable, 400, ""},
		{"403 empty", cognitotest.Failure{Status: 403}, []error{cognito.ErrInvalidRequest}, cognito.ErrEndpointUnavailable, 403, ""},
		{"400 invalid_scope, a code with no sentinel", cognitotest.Failure{Status: 400, Body: `{"error":"invalid_scope"}`}, []error{cognito.ErrInvalidRequest}, cognito.ErrInvalidGrant, 400, "invalid_scope"},
		{"404 page", cognitotest.Failure{Status: 404, Body: "not found", ContentType: "text/plain"}, []error{cognito.ErrInvalidRequest}, nil, 404, ""},
		{"expires_in past time.Duration", cognitotest.Failure{Status: 200, Body: `{"id_token":"i","access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":10000000000}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"400 invalid_request", cognitotest.Failure{Status: 400, Body: `{"error":"invalid_request","error_description":"bad"}`}, []error{cognito.ErrInvalidRequest}, cognito.ErrEndpointUnavailable, 400, "invalid_request"},
		{"400 unauthorized_client", cognitotest.Failure{Status: 400, Body: `{"error":"unauthorized_client"}`}, []error{cognito.ErrUnauthorizedClient}, nil, 400, "unauthorized_client"},
		{"400 unsupported_grant_type", cognitotest.Failure{Status: 400, Body: `{"error":"unsupported_grant_type"}`}, []error{cognito.ErrUnsupportedGrantType}, nil, 400, "unsupported_grant_type"},
		{"401 invalid_client", cognitotest.Failure{Status: 401, Body: `{"error":"invalid_client"}`}, []error{cognito.ErrInvalidClient}, nil, 401, "invalid_client"},
		{"truncated JSON", cognitotest.Failure{Status: 200, Body: `{"id_token":"eyJ`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"success without tokens", cognitotest.Failure{Status: 200, Body: `{"token_type":"Bearer","expires_in":3600}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"success without id_token", cognitotest.Failure{Status: 200, Body: `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":3600}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"success without expires_in", cognitotest.Failure{Status: 200, Body: `{"id_token":"i","access_token":"a","refresh_token":"r","token_type":"Bearer"}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"token_type not Bearer", cognitotest.Failure{Status: 200, Body: `{"id_token":"i","access_token":"a","refresh_token":"r","token_type":"mac","expires_in":3600}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"body over the limit", cognitotest.Failure{Status: 200, Body: `{"x":"` + strings.Repeat("a", 1<<20) + `"}`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
		{"a JSON string", cognitotest.Failure{Status: 200, Body: `"hello"`}, []error{cognito.ErrEndpointUnavailable}, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newClientFixture(t)
			code := f.authorize(t)
			f.pool.FailNext(cognitotest.EndpointToken, 1, tt.failure)
			toks, err := f.client.ExchangeCode(context.Background(), code)
			assert.Nil(t, toks)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.ErrorIs(t, err, want)
			}
			if tt.notWant != nil {
				assert.NotErrorIs(t, err, tt.notWant)
			}
			var oe *cognito.OAuthError
			if tt.status == 0 {
				assert.False(t, errors.As(err, &oe), "no OAuthError for a 200 answer")
			} else {
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, tt.status, oe.StatusCode)
				assert.Equal(t, tt.errorCode, oe.Code)
			}
			assertNoSecrets(t, err, code, f.cfg.ClientSecret)
			assert.NotContains(t, err.Error(), "<html")
		})
	}
}

func TestTokenEndpointEchoedSecretsAreRedacted(t *testing.T) {
	f := newClientFixture(t)
	toks, err := f.client.ExchangeCode(context.Background(), f.authorize(t))
	require.NoError(t, err)
	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{
		Status: 400,
		Body:   `{"error":"invalid_grant","error_description":"refresh token ` + toks.RefreshToken + ` of client secret ` + f.cfg.ClientSecret + ` \u001b[31m"}`,
	})
	_, err = f.client.Refresh(context.Background(), toks.RefreshToken)
	require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	assertNoSecrets(t, err, toks.RefreshToken, f.cfg.ClientSecret)
	assert.Contains(t, err.Error(), "[redacted]")
	assert.NotContains(t, err.Error(), "\u001b", "control characters are dropped")
}

func TestTokenEndpointTimeoutAndCancel(t *testing.T) {
	t.Run("client timeout", func(t *testing.T) {
		f := newClientFixture(t)
		c, err := cognito.NewClient(f.cfg, cognito.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
		require.NoError(t, err)
		code := f.authorize(t)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})
		_, err = c.ExchangeCode(context.Background(), code)
		require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
		assertNoSecrets(t, err, code, f.cfg.ClientSecret)
	})

	t.Run("context cancelled while waiting", func(t *testing.T) {
		f := newClientFixture(t)
		toks, err := f.client.ExchangeCode(context.Background(), f.authorize(t))
		require.NoError(t, err)
		f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := f.client.Refresh(ctx, toks.RefreshToken)
			done <- err
		}()
		cancel()
		err = <-done
		require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
		assert.ErrorIs(t, err, context.Canceled)
		assertNoSecrets(t, err, toks.RefreshToken)
	})

	t.Run("deadline", func(t *testing.T) {
		f := newClientFixture(t)
		f.pool.FailNext(cognitotest.EndpointUserInfo, 1, cognitotest.Failure{Hang: true})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := f.client.UserInfo(ctx, "access-token")
		require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	// A redirected POST would resend the code and the client secret to
	// wherever the Location points.
	f := newClientFixture(t)
	code := f.authorize(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.pool.URL()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	cfg := f.cfg
	cfg.Domain = redirector.URL
	c, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	f.pool.ResetCounts()

	_, err = c.ExchangeCode(context.Background(), code)
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusTemporaryRedirect, oe.StatusCode)
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken), "the code went nowhere else")

	cfg.JWKSURL = redirector.URL + "/" + cognitotest.DefaultPoolID + "/.well-known/jwks.json"
	v, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	_, err = v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestTokenEndpointUnreachable(t *testing.T) {
	f := newClientFixture(t)
	code := f.authorize(t)
	f.pool.Close()
	_, err := f.client.ExchangeCode(context.Background(), code)
	require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	assertNoSecrets(t, err, code, f.cfg.ClientSecret)
}

// stubClient is a Client whose endpoints are answered by h, for the answers
// the fake pool does not give: a header without a body, no Content-Type, a
// status or size at a boundary.
func stubClient(t *testing.T, h http.HandlerFunc, secret string) *cognito.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := cognito.NewClient(cognito.Config{
		UserPoolID: "us-east-1_AbCdEf123", ClientID: "client", ClientSecret: secret,
		Domain: srv.URL, RedirectURI: "https://app.example.com/callback",
	})
	require.NoError(t, err)
	return c
}

// tokenAnswer is a well-formed answer of the token endpoint with expiresIn.
func tokenAnswer(expiresIn int64) string {
	return fmt.Sprintf(`{"id_token":"i","access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":%d}`, expiresIn)
}

func TestTokenAnswerBoundaries(t *testing.T) {
	const maxBody = 1 << 20
	const tenYears = 10 * 365 * 24 * 3600
	padded := func(n int) string { // a valid answer of exactly n bytes
		a := tokenAnswer(3600)
		return a[:len(a)-1] + strings.Repeat(" ", n-len(a)) + "}"
	}
	for _, tt := range []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"a body of exactly the limit", 200, padded(maxBody), true},
		{"a body one byte over the limit", 200, padded(maxBody + 1), false},
		{"expires_in of one second", 200, tokenAnswer(1), true},
		{"expires_in of zero", 200, tokenAnswer(0), false},
		{"expires_in negative", 200, tokenAnswer(-1), false},
		{"expires_in of exactly ten years", 200, tokenAnswer(tenYears), true},
		{"expires_in one second past ten years", 200, tokenAnswer(tenYears + 1), false},
		{"no token_type", 200, `{"id_token":"i","access_token":"a","refresh_token":"r","expires_in":60}`, true},
		{"token_type in lower case", 200, `{"id_token":"i","access_token":"a","refresh_token":"r","token_type":"bearer","expires_in":60}`, true},
		{"status 201", 201, tokenAnswer(60), true},
		{"status 299, the last 2xx", 299, tokenAnswer(60), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, "")
			now := time.Now()
			toks, err := c.ExchangeCode(context.Background(), "a-code")
			if !tt.ok {
				require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
				assert.Nil(t, toks)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Bearer", toks.TokenType)
			assert.True(t, toks.Expiry.After(now), "Expiry %s is after %s", toks.Expiry, now)
		})
	}
}

func TestOAuthErrorAnswers(t *testing.T) {
	for _, tt := range []struct {
		name        string
		userInfo    bool // ask userInfo; the token endpoint otherwise
		status      int
		header      http.Header
		body        string
		want        error
		code        string
		description string
	}{
		{name: "a JSON body without Content-Type", status: 400,
			header: http.Header{"Content-Type": nil}, body: `{"error":"invalid_grant","error_description":"used"}`,
			want: cognito.ErrInvalidGrant, code: "invalid_grant", description: "used"},
		{name: "a JSON body as text/html is not read", status: 400,
			header: http.Header{"Content-Type": {"text/html"}}, body: `{"error":"invalid_grant"}`,
			want: cognito.ErrInvalidRequest},
		{name: "a JSON body as application/problem+json", status: 400,
			header: http.Header{"Content-Type": {"application/problem+json; charset=utf-8"}}, body: `{"error":"invalid_client"}`,
			want: cognito.ErrInvalidClient, code: "invalid_client"},
		{name: "userInfo: the code from WWW-Authenticate, with no body", userInfo: true, status: 401,
			header: http.Header{"Www-Authenticate": {`Bearer realm="pool", error="invalid_token", error_description="expired"`}},
			want:   cognito.ErrInvalidToken, code: "invalid_token"},
		{name: "userInfo: the body's code wins over the header's", userInfo: true, status: 400,
			header: http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {`Bearer error="invalid_token"`}},
			body:   `{"error":"invalid_request"}`, want: cognito.ErrInvalidRequest, code: "invalid_request"},
		{name: "userInfo: a challenge with no error code", userInfo: true, status: 401,
			header: http.Header{"Www-Authenticate": {`Bearer realm="pool"`}},
			want:   cognito.ErrInvalidRequest},
		{name: "token endpoint: WWW-Authenticate is not read", status: 401,
			header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}},
			want:   cognito.ErrInvalidRequest},
		{name: "a description of exactly 256 bytes is kept whole", status: 400,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   `{"error":"invalid_request","error_description":"` + strings.Repeat("d", 256) + `"}`,
			want:   cognito.ErrInvalidRequest, code: "invalid_request", description: strings.Repeat("d", 256)},
		{name: "a description of 257 bytes is cut", status: 400,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   `{"error":"invalid_request","error_description":"` + strings.Repeat("d", 257) + `"}`,
			want:   cognito.ErrInvalidRequest, code: "invalid_request", description: strings.Repeat("d", 256) + "..."},
		{name: "control characters are dropped, spaces and the rest kept", status: 400,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   `{"error":"invalid_request","error_description":"a b\u0000c\u001fd\u007fe\tf\n~é"}`,
			want:   cognito.ErrInvalidRequest, code: "invalid_request", description: "a bcdef~é"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, "")
			var err error
			if tt.userInfo {
				_, err = c.UserInfo(context.Background(), "an-access-token")
			} else {
				_, err = c.ExchangeCode(context.Background(), "a-code")
			}
			require.ErrorIs(t, err, tt.want)
			var oe *cognito.OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.status, oe.StatusCode)
			assert.Equal(t, tt.code, oe.Code)
			assert.Equal(t, tt.description, oe.Description)
		})
	}
}

// TestEchoedSecretsAreRedactedWhole: when one credential contains another,
// the longer is replaced first, or the rest of it would show around the
// shorter one's "[redacted]".
func TestEchoedSecretsAreRedactedWhole(t *testing.T) {
	const code = "c0de"
	const verifier = "pkce-c0de-verifier-0123456789-0123456789-xyz"
	const secret = "secret-pkce-c0de-verifier-0123456789-0123456789-xyz-secret"
	for _, tt := range []struct{ name, echoed, secret string }{
		{"the verifier holds the code", verifier, ""},
		{"the client secret holds the verifier", secret, secret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"got `+tt.echoed+` here"}`)
			}, tt.secret)
			_, err := c.ExchangeCode(context.Background(), code, cognito.WithCodeVerifier(verifier))
			var oe *cognito.OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "got [redacted] here", oe.Description)
		})
	}
}
