package cognitotest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// These tests drive the cognito package through the fake, as its users will.

func newVerifier(t *testing.T, pool *cognitotest.Server, opts ...cognito.Option) *cognito.Verifier {
	t.Helper()
	v, err := cognito.NewVerifier(pool.Config(), opts...)
	require.NoError(t, err)
	return v
}

func newClient(t *testing.T, pool *cognitotest.Server, opts ...cognito.Option) *cognito.Client {
	t.Helper()
	c, err := cognito.NewClient(pool.Config(), opts...)
	require.NoError(t, err)
	return c
}

// followLogin GETs loginURL and returns the code of the redirect, as a
// browser would after the hosted UI.
func followLogin(t *testing.T, pool *cognitotest.Server, loginURL, wantState string) string {
	t.Helper()
	resp, body := get(t, loginURL)
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, wantState, loc.Query().Get("state"))
	require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
	return loc.Query().Get("code")
}

func TestVerifierAcceptsMintedTokens(t *testing.T) {
	pool := cognitotest.NewServer(t)
	alice := pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Name: "Alice", Groups: []string{"admins"}, Attributes: map[string]string{"custom:tenant": "acme"}})
	v := newVerifier(t, pool)

	id, err := v.VerifyIDToken(t.Context(), pool.MintIDToken("alice", cognitotest.WithClaim("nonce", "n0nce")))
	require.NoError(t, err)
	assert.Equal(t, alice.Sub, id.Subject)
	assert.Equal(t, "alice", id.Username)
	assert.Equal(t, "alice@example.com", id.Email)
	assert.True(t, id.EmailVerified)
	assert.Equal(t, "Alice", id.Name)
	assert.Equal(t, []string{"admins"}, id.Groups)
	assert.Equal(t, "n0nce", id.Nonce)
	assert.Equal(t, pool.Issuer(), id.Issuer)
	var custom struct {
		Tenant string `json:"custom:tenant"`
	}
	require.NoError(t, id.Claims(&custom))
	assert.Equal(t, "acme", custom.Tenant)

	access, err := v.VerifyAccessToken(t.Context(), pool.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, alice.Sub, access.Subject)
	assert.Equal(t, "alice", access.Username)
	assert.Equal(t, pool.Config().ClientID, access.ClientID)
	assert.Equal(t, []string{"admins"}, access.Groups)
	assert.Equal(t, cognitotest.DefaultScopes, access.Scopes)
}

func TestVerifierRefusesDoctoredTokens(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	pool.AddUser(cognitotest.User{Username: "alice"})
	v := newVerifier(t, pool, cognito.WithClock(clk.Now))
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		token string
		want  error
	}{
		"expired":             {pool.MintIDToken("alice", cognitotest.Expired()), cognito.ErrTokenExpired},
		"not yet valid":       {pool.MintIDToken("alice", cognitotest.WithNotBefore(clk.Now().Add(time.Hour))), cognito.ErrTokenNotYetValid},
		"other audience":      {pool.MintIDToken("alice", cognitotest.WithAudience("other")), cognito.ErrInvalidAudience},
		"other issuer":        {pool.MintIDToken("alice", cognitotest.WithIssuer("https://elsewhere.example")), cognito.ErrInvalidIssuer},
		"access as ID":        {pool.MintAccessToken("alice"), cognito.ErrInvalidTokenUse},
		"unknown kid":         {pool.MintIDToken("alice", cognitotest.WithKeyID("nope")), cognito.ErrUnknownKey},
		"foreign signing key": {pool.MintIDToken("alice", cognitotest.WithSigningKey(other)), cognito.ErrInvalidSignature},
		"alg HS256":           {pool.MintIDToken("alice", cognitotest.WithHeader("alg", "HS256")), cognito.ErrUnsupportedAlgorithm},
		"alg none":            {pool.MintIDToken("alice", cognitotest.WithHeader("alg", "none")), cognito.ErrUnsupportedAlgorithm},
		"no sub":              {pool.MintIDToken("alice", cognitotest.WithClaim("sub", nil)), cognito.ErrMalformedToken},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.VerifyIDToken(t.Context(), tc.token)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestHostedUIFlowThroughTheLibrary(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now), cognitotest.WithPublicClient())
	alice := pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", EmailVerified: true})
	pool.SignInAs("alice")
	cfg := pool.Config()
	client := newClient(t, pool, cognito.WithClock(clk.Now))
	v := newVerifier(t, pool, cognito.WithClock(clk.Now))
	ctx := t.Context()

	codeVerifier := cognito.GenerateVerifier()
	code := followLogin(t, pool, cfg.LoginURL("st4te", cognito.WithPKCE(codeVerifier), cognito.WithNonce("n0nce")), "st4te")

	tokens, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(codeVerifier))
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Hour), tokens.Expiry)
	id, err := v.VerifyIDToken(ctx, tokens.IDToken)
	require.NoError(t, err)
	assert.Equal(t, alice.Sub, id.Subject)
	assert.Equal(t, "n0nce", id.Nonce)
	access, err := v.VerifyAccessToken(ctx, tokens.AccessToken)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"openid", "email", "profile"}, access.Scopes)

	_, err = client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(codeVerifier))
	assert.ErrorIs(t, err, cognito.ErrInvalidGrant, "a code is single use")

	info, err := client.UserInfo(ctx, tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, alice.Sub, info.Subject)
	assert.True(t, info.EmailVerified, `the fake sends "true" as a string`)

	clk.Advance(2 * time.Hour)
	_, err = v.VerifyIDToken(ctx, tokens.IDToken)
	assert.ErrorIs(t, err, cognito.ErrTokenExpired)
	refreshed, err := client.Refresh(ctx, tokens.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, tokens.RefreshToken, refreshed.RefreshToken, "kept when the pool does not rotate")
	_, err = v.VerifyIDToken(ctx, refreshed.IDToken)
	require.NoError(t, err)

	require.NoError(t, client.Revoke(ctx, refreshed.RefreshToken))
	_, err = client.Refresh(ctx, refreshed.RefreshToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidGrant)
	_, err = client.UserInfo(ctx, refreshed.AccessToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidToken)
}

func TestSignInFormFlowThroughTheLibrary(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	cfg := pool.Config()
	codeVerifier := cognito.GenerateVerifier()

	_, page := get(t, cfg.LoginURL("st4te", cognito.WithPKCE(codeVerifier)))
	form := formFields(t, page)
	form.Set("username", "alice")
	form.Set("password", "pw")
	resp, _ := postForm(t, pool.URL()+"/login", form, "", "")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)

	tokens, err := newClient(t, pool).ExchangeCode(t.Context(), loc.Query().Get("code"), cognito.WithCodeVerifier(codeVerifier))
	require.NoError(t, err)
	id, err := newVerifier(t, pool).VerifyIDToken(t.Context(), tokens.IDToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", id.Username)
}

func TestLibraryErrorsFromTheFake(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	cfg := pool.Config()
	ctx := t.Context()

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		code := followLogin(t, pool, cfg.LoginURL("s", cognito.WithPKCE(cognito.GenerateVerifier())), "s")
		_, err := newClient(t, pool).ExchangeCode(ctx, code, cognito.WithCodeVerifier(cognito.GenerateVerifier()))
		assert.ErrorIs(t, err, cognito.ErrInvalidGrant)
	})
	t.Run("wrong secret", func(t *testing.T) {
		bad := cfg
		bad.ClientSecret = "wrong"
		client, err := cognito.NewClient(bad)
		require.NoError(t, err)
		_, err = client.ExchangeCode(ctx, followLogin(t, pool, cfg.LoginURL("s"), "s"))
		assert.ErrorIs(t, err, cognito.ErrInvalidClient)
	})
	t.Run("token endpoint down", func(t *testing.T) {
		pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
		_, err := newClient(t, pool).Refresh(ctx, "whatever")
		assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	})
}

func TestVerifierFollowsKeyRotation(t *testing.T) {
	pool := cognitotest.NewServer(t)
	v := newVerifier(t, pool)
	ctx := t.Context()
	before := pool.MintIDToken("alice")
	_, err := v.VerifyIDToken(ctx, before)
	require.NoError(t, err)

	pool.RotateKeys()
	after := pool.MintIDToken("alice")

	_, err = v.VerifyIDToken(ctx, after)
	require.NoError(t, err, "an unknown kid makes the verifier fetch the JWKS again")
	_, err = v.VerifyIDToken(ctx, before)
	assert.NoError(t, err, "the old key is still published")
	assert.Equal(t, 2, pool.Requests(cognitotest.EndpointJWKS))
}

func TestVerifierRidesOutAFailingJWKS(t *testing.T) {
	pool := cognitotest.NewServer(t)
	v := newVerifier(t, pool)
	tok := pool.MintIDToken("alice")
	pool.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: http.StatusInternalServerError})

	for range 2 {
		_, err := v.VerifyIDToken(t.Context(), tok)
		assert.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	}
	for range 3 {
		_, err := v.VerifyIDToken(t.Context(), tok)
		assert.NoError(t, err)
	}
	assert.Equal(t, 3, pool.Requests(cognitotest.EndpointJWKS), "fetched until it worked, then cached")
}
