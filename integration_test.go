//go:build integration

// Integration tests against the cognito-local emulator (npm package
// cognito-local 5.3.0, pinned in integration/cognito-local). Run them with
//
//	scripts/cognito-local run -- go test -tags integration -race ./...
//
// which starts the emulator, provisions a pool, an app client with a secret
// and a confirmed user, and exports COGNITO_* for these tests.
//
// What cognito-local 5.3.0 does, read from its source and checked by hand
// (lib/oauth2/routes.js, lib/services/tokenGenerator.js, lib/server/):
//   - GET /oauth2/authorize answers a bare HTML form (hidden client_id,
//     redirect_uri, response_type, code_challenge, code_challenge_method,
//     scope, state; plus username and password) that POSTs to
//     /oauth2/authorize; a good password answers 302 to redirect_uri with
//     code and state, a bad one re-renders the form with status 200.
//     redirect_uri must be one of the client's CallbackURLs.
//   - PKCE is mandatory and S256 only, on authorize and token.
//   - /oauth2/token needs client_id in the body for both grants, even with
//     HTTP Basic. It never checks the client secret (any or none passes) and
//     ignores scopes and AllowedOAuthFlows. Codes are single use, last 5
//     minutes, and are consumed before client_id, redirect_uri and the PKCE
//     verifier are compared (so a wrong verifier burns the code, as in
//     Cognito); a used, expired or mismatched code answers 400 invalid_grant.
//   - The refresh_token grant returns no new refresh token; the old one stays
//     valid. A refresh token is looked up as a string among the pool's users:
//     its exp and the client it was issued to are not checked; unknown ones
//     answer invalid_grant. They are RS256 JWTs (Cognito's are opaque).
//   - expires_in is always 3600, while the tokens' exp is 24h by default.
//   - Tokens: RS256, kid "CognitoLocal", one static key for every pool and
//     every install, served at /<pool>/.well-known/jwks.json. iss is
//     <TokenConfig.IssuerDomain>/<pool>, where IssuerDomain defaults to
//     http://$HOST:$PORT (the listen address) and can be set in
//     .cognito/config.json; the script sets it to the URL it serves. The
//     openid-configuration document hard-codes http://localhost:9229 and
//     is wrong on any other port: do not discover from it.
//   - ID token: token_use "id", aud = client ID, cognito:username, email,
//     email_verified (Boolean of the attribute string, so "false" is true),
//     no nonce even when one was sent. Access token: token_use "access",
//     client_id, username, no aud, scope always "aws.cognito.signin.user.admin".
//   - No /oauth2/revoke, /oauth2/userInfo or /logout (404): Revoke, UserInfo
//     and LogoutURL cannot be exercised against it.
//   - Pool IDs look like "local_3DhVcauF", so Config.Issuer must be set.
package cognito_test

import (
	"crypto/rand"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// emulator is the pool that scripts/cognito-local provisioned.
type emulator struct {
	cfg                       cognito.Config
	username, email, password string
}

// newEmulator reads the pool from the environment. Without it the test is
// skipped, unless COGNITO_LOCAL_REQUIRED=1 (set by scripts/cognito-local run)
// says the run exists to exercise the emulator.
func newEmulator(t *testing.T) emulator {
	t.Helper()
	vars := []string{
		"COGNITO_LOCAL_URL", "COGNITO_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET",
		"COGNITO_REDIRECT_URI", "COGNITO_USERNAME", "COGNITO_PASSWORD", "COGNITO_ISSUER",
	}
	var missing []string
	for _, v := range vars {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		msg := "cognito-local is not configured (" + strings.Join(missing, ", ") +
			" unset): run `scripts/cognito-local run -- go test -tags integration ./...`"
		if os.Getenv("COGNITO_LOCAL_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := emulator{
		cfg: cognito.Config{
			UserPoolID:   os.Getenv("COGNITO_POOL_ID"),
			ClientID:     os.Getenv("COGNITO_CLIENT_ID"),
			ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET"),
			Domain:       os.Getenv("COGNITO_LOCAL_URL"),
			RedirectURI:  os.Getenv("COGNITO_REDIRECT_URI"),
			Issuer:       os.Getenv("COGNITO_ISSUER"),
		},
		username: os.Getenv("COGNITO_USERNAME"),
		email:    os.Getenv("COGNITO_EMAIL"),
		password: os.Getenv("COGNITO_PASSWORD"),
	}
	require.NoError(t, e.cfg.Validate())
	return e
}

// hostedUI is a user agent that shows each redirect to the test instead of
// following it, so the test reads the code off the callback URL.
var hostedUI = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b[^>]*>`)
	inputTag = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attr     = regexp.MustCompile(`(?is)\b([a-z_-]+)\s*=\s*"([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// signIn opens loginURL as a browser would, fills in the sign-in form with
// the credentials and submits it, and returns the query of the URL it was
// redirected to (code and state, or error).
func signIn(t *testing.T, loginURL, username, password string) url.Values {
	t.Helper()
	ctx := t.Context()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loginURL, nil)
	require.NoError(t, err)
	resp, err := hostedUI.Do(req)
	require.NoError(t, err)
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "authorize page: %s", page)

	form := formTag.FindString(string(page))
	require.NotEmpty(t, form, "no form on the authorize page: %s", page)
	fa := attrs(form)
	require.Equal(t, "post", strings.ToLower(fa["method"]), "form method")
	action, err := resp.Request.URL.Parse(fa["action"])
	require.NoError(t, err)

	values := url.Values{}
	for _, in := range inputTag.FindAllString(string(page), -1) {
		a := attrs(in)
		if a["name"] != "" {
			values.Set(a["name"], a["value"])
		}
	}
	require.Contains(t, values, "username", "form fields: %v", values)
	require.Contains(t, values, "password", "form fields: %v", values)
	values.Set("username", username)
	values.Set("password", password)

	req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = hostedUI.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "sign-in answer: %s", body)

	loc, err := resp.Location()
	require.NoError(t, err)
	return loc.Query()
}

func randomState(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// login runs the hosted UI part of the flow and returns the code and the
// verifier it was issued for.
func (e emulator) login(t *testing.T) (code, verifier string) {
	t.Helper()
	verifier = cognito.GenerateVerifier()
	state := randomState(t)
	loginURL := e.cfg.LoginURL(state, cognito.WithPKCE(verifier))
	require.True(t, strings.HasPrefix(loginURL, e.cfg.Domain+"/oauth2/authorize?"), "login URL %q", loginURL)

	callback := signIn(t, loginURL, e.username, e.password)
	require.Empty(t, callback.Get("error"), "callback: %v", callback)
	require.Equal(t, state, callback.Get("state"), "state must come back unchanged")
	require.NotEmpty(t, callback.Get("code"), "callback: %v", callback)
	return callback.Get("code"), verifier
}

func TestCognitoLocalHostedUIFlow(t *testing.T) {
	e := newEmulator(t)
	ctx := t.Context()
	client, err := cognito.NewClient(e.cfg)
	require.NoError(t, err)
	verifier, err := cognito.NewVerifier(e.cfg)
	require.NoError(t, err)

	code, pkceVerifier := e.login(t)
	tokens, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkceVerifier))
	require.NoError(t, err)
	require.NotEmpty(t, tokens.IDToken)
	require.NotEmpty(t, tokens.AccessToken)
	require.NotEmpty(t, tokens.RefreshToken)
	assert.True(t, strings.EqualFold(tokens.TokenType, "Bearer"), "token type %q", tokens.TokenType)
	assert.True(t, tokens.Expiry.After(time.Now()), "expiry %v is not in the future", tokens.Expiry)

	id, err := verifier.VerifyIDToken(ctx, tokens.IDToken)
	require.NoError(t, err)
	assert.NotEmpty(t, id.Subject)
	assert.Equal(t, e.username, id.Username)
	if e.email != "" {
		assert.Equal(t, e.email, id.Email)
		assert.True(t, id.EmailVerified)
	}
	assert.Equal(t, e.cfg.Issuer, id.Issuer)
	assert.Equal(t, e.cfg.ClientID, id.Audience)
	assert.False(t, id.Expiry.IsZero())

	access, err := verifier.VerifyAccessToken(ctx, tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, id.Subject, access.Subject)
	assert.Equal(t, e.username, access.Username)
	assert.Equal(t, e.cfg.ClientID, access.ClientID)
	assert.Equal(t, e.cfg.Issuer, access.Issuer)
	assert.NotEmpty(t, access.Scopes)

	_, err = verifier.VerifyIDToken(ctx, tokens.AccessToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidTokenUse, "an access token passed as an ID token")
	_, err = verifier.VerifyAccessToken(ctx, tokens.IDToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidTokenUse, "an ID token passed as an access token")

	// A code is good for one exchange only.
	_, err = client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkceVerifier))
	require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	var oauthErr *cognito.OAuthError
	if assert.ErrorAs(t, err, &oauthErr) {
		assert.Equal(t, http.StatusBadRequest, oauthErr.StatusCode)
		assert.Equal(t, "invalid_grant", oauthErr.Code)
	}
	assert.NotContains(t, err.Error(), code, "errors must not carry the code")

	refreshed, err := client.Refresh(ctx, tokens.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, tokens.RefreshToken, refreshed.RefreshToken, "a refresh without rotation keeps the refresh token")
	require.NotEmpty(t, refreshed.IDToken)
	require.NotEmpty(t, refreshed.AccessToken)

	id2, err := verifier.VerifyIDToken(ctx, refreshed.IDToken)
	require.NoError(t, err)
	assert.Equal(t, id.Subject, id2.Subject)
	assert.Equal(t, e.username, id2.Username)
	access2, err := verifier.VerifyAccessToken(ctx, refreshed.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, access.Subject, access2.Subject)
	assert.Equal(t, e.cfg.ClientID, access2.ClientID)
}

func TestCognitoLocalRefusals(t *testing.T) {
	e := newEmulator(t)
	ctx := t.Context()
	client, err := cognito.NewClient(e.cfg)
	require.NoError(t, err)

	t.Run("code with another PKCE verifier", func(t *testing.T) {
		code, _ := e.login(t)
		_, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(cognito.GenerateVerifier()))
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
		assert.NotContains(t, err.Error(), code)
	})

	t.Run("unknown refresh token", func(t *testing.T) {
		_, err := client.Refresh(ctx, "not-a-refresh-token-"+randomState(t))
		require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	})
}
