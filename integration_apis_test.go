//go:build integration

// Integration tests of the APIs and services features against cognito-local
// 5.3.0 (see integration_test.go for how to run them). What it supports of
// them, read from lib/oauth2/routes.js and lib/targets/:
//   - several app clients in one pool (CreateUserPoolClient), each signing in
//     through the hosted UI form and getting tokens whose aud and client_id
//     name it; one JWKS per pool, one static key for every pool;
//   - several pools in one emulator (CreateUserPool), with issuers
//     <IssuerDomain>/<pool>.
//
// What it lacks: the client_credentials grant (the token endpoint answers 400
// unsupported_grant_type), and so resource servers and their scopes; the
// client secret is never checked. M2M tokens, TokenSource renewal and
// invalid_scope are therefore tested against cognitotest only.
package cognito_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// emulatorAPI calls one action of the emulator's Cognito JSON API.
func (e emulator) api(t *testing.T, target string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Domain+"/", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+target)
	res, err := hostedUI.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, target)
	require.NoError(t, json.NewDecoder(res.Body).Decode(out))
}

// addClient creates another app client in the emulator's pool, with the same
// callback URL, and returns a Config for it.
func (e emulator) addClient(t *testing.T, name string, secret bool) cognito.Config {
	t.Helper()
	var out struct {
		UserPoolClient struct{ ClientId, ClientSecret string }
	}
	e.api(t, "CreateUserPoolClient", map[string]any{
		"UserPoolId": e.cfg.UserPoolID, "ClientName": name, "GenerateSecret": secret,
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"},
		"AllowedOAuthScopes": []string{"openid", "email", "profile"}, "SupportedIdentityProviders": []string{"COGNITO"},
		"CallbackURLs": []string{e.cfg.RedirectURI},
	}, &out)
	require.NotEmpty(t, out.UserPoolClient.ClientId)
	cfg := e.cfg
	cfg.ClientID, cfg.ClientSecret = out.UserPoolClient.ClientId, out.UserPoolClient.ClientSecret
	return cfg
}

// jwksCounter counts the JWKS requests that go through it.
type jwksCounter struct{ jwks atomic.Int32 }

func (c *jwksCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/.well-known/jwks.json") {
		c.jwks.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (c *jwksCounter) client() *http.Client {
	return &http.Client{Transport: c, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestCognitoLocalSeveralAppClients(t *testing.T) {
	e := newEmulator(t)
	ctx := t.Context()
	mobile := e.addClient(t, "cognitokit-mobile", false)
	var counter jwksCounter
	verifier, err := cognito.NewVerifier(e.cfg, cognito.WithClientIDs(mobile.ClientID), cognito.WithHTTPClient(counter.client()))
	require.NoError(t, err)
	require.NoError(t, verifier.Prefetch(ctx), "the keys, at start-up")

	for _, cfg := range []cognito.Config{e.cfg, mobile} {
		client, err := cognito.NewClient(cfg)
		require.NoError(t, err)
		clientEmu := e
		clientEmu.cfg = cfg
		code, pkce := clientEmu.login(t)
		tokens, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkce))
		require.NoError(t, err, cfg.ClientID)

		id, err := verifier.VerifyIDToken(ctx, tokens.IDToken)
		require.NoError(t, err)
		assert.Equal(t, cfg.ClientID, id.Audience, "the token says which client it came from")
		at, err := verifier.VerifyAccessToken(ctx, tokens.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, cfg.ClientID, at.ClientID)
		assert.Equal(t, e.username, at.Username)

		refreshed, err := client.Refresh(ctx, tokens.RefreshToken)
		require.NoError(t, err)
		at, err = verifier.VerifyAccessToken(ctx, refreshed.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, cfg.ClientID, at.ClientID)

		if cfg.ClientID == mobile.ClientID {
			only, err := cognito.NewVerifier(e.cfg)
			require.NoError(t, err)
			_, err = only.VerifyAccessToken(ctx, tokens.AccessToken)
			assert.ErrorIs(t, err, cognito.ErrInvalidAudience, "a client not listed")
			_, err = only.VerifyIDToken(ctx, tokens.IDToken)
			assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
		}
	}
	assert.EqualValues(t, 1, counter.jwks.Load(), "one key fetch for the pool, however many clients")
}

func TestCognitoLocalSeveralPools(t *testing.T) {
	e := newEmulator(t)
	ctx := t.Context()
	var out struct{ UserPool struct{ Id string } }
	e.api(t, "CreateUserPool", map[string]any{"PoolName": "cognitokit-tenant-b"}, &out)
	require.NotEmpty(t, out.UserPool.Id)
	tenantB := e.cfg
	tenantB.UserPoolID, tenantB.Issuer = out.UserPool.Id, e.cfg.Domain+"/"+out.UserPool.Id

	var counter jwksCounter
	logs := &logBuffer{}
	opts := []cognito.Option{cognito.WithHTTPClient(counter.client()), cognito.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}
	va, err := cognito.NewVerifier(e.cfg, opts...)
	require.NoError(t, err)
	vb, err := cognito.NewVerifier(tenantB, append(opts, cognito.WithClientIDs("tenant-b-client"))...)
	require.NoError(t, err)
	m, err := cognito.NewMultiPoolVerifier(va, vb)
	require.NoError(t, err)

	client, err := cognito.NewClient(e.cfg)
	require.NoError(t, err)
	code, pkce := e.login(t)
	tokens, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkce))
	require.NoError(t, err)
	at, err := m.VerifyAccessToken(ctx, tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, e.cfg.Issuer, at.Issuer)
	assert.EqualValues(t, 1, counter.jwks.Load(), "only the pool the token names is fetched")
	assert.Contains(t, logs.String(), `"msg":"cognito: JWKS fetched"`)
	assert.NotContains(t, logs.String(), tokens.AccessToken[strings.LastIndexByte(tokens.AccessToken, '.')+1:])

	require.NoError(t, m.Prefetch(ctx), "both pools' keys can be fetched")
	assert.EqualValues(t, 2, counter.jwks.Load())
}

// cognito-local has no client_credentials grant: the library reports the
// endpoint's refusal as it would Cognito's, typed.
func TestCognitoLocalClientCredentialsUnsupported(t *testing.T) {
	e := newEmulator(t)
	client, err := cognito.NewClient(e.cfg)
	require.NoError(t, err)

	_, err = client.ClientCredentials(t.Context(), "orders/read")
	require.ErrorIs(t, err, cognito.ErrUnsupportedGrantType)
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
	assert.NotContains(t, err.Error(), e.cfg.ClientSecret)

	_, err = client.TokenSource().Token()
	assert.ErrorIs(t, err, cognito.ErrUnsupportedGrantType)
	assert.NotErrorIs(t, err, cognito.ErrEndpointUnavailable, "a refusal, not an outage")
}
