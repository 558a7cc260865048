package cognito_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// apiFixture is a pool with three app clients, as an API sees them: the web
// client (the server's own), a public mobile client and an M2M service; and
// a Verifier that accepts all three.
type apiFixture struct {
	pool        *cognitotest.Server
	clock       *cognitotest.Clock
	mobile, svc cognitotest.AppClient
	v           *cognito.Verifier
}

func newAPIFixture(t *testing.T, opts ...cognito.Option) *apiFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	mobile, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobileapp", Public: true, RedirectURIs: []string{"myapp://callback"}})
	require.NoError(t, err)
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: "billingsvc", Scopes: []string{"orders/read"}})
	require.NoError(t, err)
	v, err := cognito.NewVerifier(pool.Config(), append([]cognito.Option{
		cognito.WithClock(clock.Now), cognito.WithClientIDs(mobile.ClientID, svc.ClientID),
	}, opts...)...)
	require.NoError(t, err)
	return &apiFixture{pool: pool, clock: clock, mobile: mobile, svc: svc, v: v}
}

func TestVerifierAcceptsSeveralClients(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	web := f.pool.Config().ClientID

	for _, client := range []string{web, f.mobile.ClientID, f.svc.ClientID} {
		at, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice", cognitotest.WithAudience(client)))
		require.NoError(t, err, client)
		assert.Equal(t, client, at.ClientID, "the token says which client it came from")

		id, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithAudience(client)))
		require.NoError(t, err, client)
		assert.Equal(t, client, id.Audience)
	}
	m2m, err := f.v.VerifyAccessToken(ctx, f.pool.MintClientCredentialsToken(f.svc.ClientID))
	require.NoError(t, err)
	assert.Equal(t, f.svc.ClientID, m2m.Subject)
	assert.Equal(t, []string{"orders/read"}, m2m.Scopes)
	assert.Empty(t, m2m.Username)

	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "one key cache for the pool, however many clients")
}

func TestVerifierRefusesClientsNotListed(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()

	_, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice", cognitotest.WithAudience("otherclient")))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
	assert.ErrorContains(t, err, "client_id is not one of the 3 accepted client IDs")
	assert.NotContains(t, err.Error(), "otherclient", "the token's claim is not echoed")
	_, err = f.v.VerifyAccessToken(ctx, f.pool.MintClientCredentialsToken("othersvc"))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithAudience("otherclient")))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
	_, err = f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice", cognitotest.WithAudience("mobileap")))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience, "a prefix of an accepted ID is not accepted")

	// Several audiences: azp must name an accepted client (OpenID Connect
	// Core 1.0 section 3.1.3.7), whichever of them it is.
	withAZP := f.pool.MintIDToken("alice", cognitotest.WithClaim("aud", []string{"otherclient", f.mobile.ClientID}), cognitotest.WithClaim("azp", f.mobile.ClientID))
	id, err := f.v.VerifyIDToken(ctx, withAZP)
	require.NoError(t, err)
	assert.Equal(t, f.mobile.ClientID, id.Audience)
	noAZP := f.pool.MintIDToken("alice", cognitotest.WithClaim("aud", []string{"otherclient", f.mobile.ClientID}))
	_, err = f.v.VerifyIDToken(ctx, noAZP)
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
	otherAZP := f.pool.MintIDToken("alice", cognitotest.WithClaim("aud", []string{"otherclient", f.mobile.ClientID}), cognitotest.WithClaim("azp", "otherclient"))
	_, err = f.v.VerifyIDToken(ctx, otherAZP)
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience)
}

func TestVerifierClientIDConfig(t *testing.T) {
	pool := cognitotest.NewServer(t)
	cfg := pool.Config()
	cfg.ClientID = ""

	_, err := cognito.NewVerifier(cfg)
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "no client at all")
	assert.ErrorContains(t, err, "ClientID")

	v, err := cognito.NewVerifier(cfg, cognito.WithClientIDs("clienta"), cognito.WithClientIDs("clientb"))
	require.NoError(t, err, "WithClientIDs makes Config.ClientID optional")
	_, err = v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience, "Config.ClientID was empty: the pool's own client is not accepted")
	_, err = v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice", cognitotest.WithAudience("clientb")))
	assert.NoError(t, err, "calls add up")

	for _, bad := range [][]string{{""}, {"a b"}, {"ok", "\n"}} {
		_, err = cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(bad...))
		assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "%q", bad)
		assert.ErrorContains(t, err, fmt.Sprintf("ID #%d is empty", len(bad)), "the error names the ID, counted from 1")
	}
	cfg.UserPoolID = "not a pool"
	_, err = cognito.NewVerifier(cfg, cognito.WithClientIDs("clienta"))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "the rest of the Config is still validated")

	_, err = cognito.NewClient(pool.Config(), cognito.WithClientIDs("clienta"))
	assert.NoError(t, err, "NewClient ignores WithClientIDs")
	noID := pool.Config()
	noID.ClientID = ""
	_, err = cognito.NewClient(noID, cognito.WithClientIDs("clienta"))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "a Client always needs its ClientID")
}

// The fake pool's second client signs users in through the hosted UI on its
// own, and its tokens verify with a Verifier that lists it.
func TestSecondClientSignsIn(t *testing.T) {
	f := newAPIFixture(t)
	cfg := f.pool.ClientConfig(f.mobile)
	assert.Equal(t, "myapp://callback", cfg.RedirectURI)
	assert.Empty(t, cfg.ClientSecret)
	f.pool.SignInAs("alice")
	pkce := cognito.GenerateVerifier()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(cfg.LoginURL("st", cognito.WithPKCE(pkce)))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)

	client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	tokens, err := client.ExchangeCode(context.Background(), loc.Query().Get("code"), cognito.WithCodeVerifier(pkce))
	require.NoError(t, err)
	id, err := f.v.VerifyIDToken(context.Background(), tokens.IDToken)
	require.NoError(t, err)
	assert.Equal(t, "mobileapp", id.Audience)
	at, err := f.v.VerifyAccessToken(context.Background(), tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "mobileapp", at.ClientID)
	assert.Equal(t, "alice", at.Username)
}
