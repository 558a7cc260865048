package cognitotest_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// header decodes tok's JOSE header as written, keeping its field order.
func header(t *testing.T, tok string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	require.NoError(t, err)
	return string(h)
}

// unverifiedClaims decodes tok's claims without checking the signature.
func unverifiedClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	p, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(p, &c))
	return c
}

func TestMintIDTokenOfAUser(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	alice := pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Groups: []string{"admins"}, Attributes: map[string]string{"custom:tenant": "acme"}})

	tok := pool.MintIDToken("alice")

	assert.Equal(t, `{"kid":"`+kidOf(t, tok)+`","alg":"RS256"}`, header(t, tok), "Cognito's header, in its order")
	c := verify(t, pool, tok)
	now := clk.Now().Unix()
	assert.Equal(t, alice.Sub, c["sub"])
	assert.Equal(t, "alice", c["cognito:username"])
	assert.Equal(t, "alice@example.com", c["email"])
	assert.Equal(t, true, c["email_verified"])
	assert.Equal(t, []any{"admins"}, c["cognito:groups"])
	assert.Equal(t, "acme", c["custom:tenant"])
	assert.Equal(t, "id", c["token_use"])
	assert.Equal(t, cognitotest.DefaultClientID, c["aud"])
	assert.Equal(t, pool.Issuer(), c["iss"])
	assert.EqualValues(t, now, c["iat"])
	assert.EqualValues(t, now, c["auth_time"])
	assert.EqualValues(t, now+3600, c["exp"])
	assert.NotContains(t, c, "nonce")
	assert.NotContains(t, c, "nbf")
}

func TestMintAccessTokenOfAUser(t *testing.T) {
	pool := cognitotest.NewServer(t)
	alice := pool.AddUser(cognitotest.User{Username: "alice"})

	c := verify(t, pool, pool.MintAccessToken("alice"))

	assert.Equal(t, alice.Sub, c["sub"])
	assert.Equal(t, "alice", c["username"])
	assert.Equal(t, "access", c["token_use"])
	assert.Equal(t, cognitotest.DefaultClientID, c["client_id"])
	assert.Equal(t, strings.Join(cognitotest.DefaultScopes, " "), c["scope"])
	assert.EqualValues(t, 2, c["version"])
	assert.NotContains(t, c, "aud")
	assert.NotContains(t, c, "cognito:groups", "no groups, no claim")
}

func TestMintForAUserNeverAdded(t *testing.T) {
	pool := cognitotest.NewServer(t)

	a, b := verify(t, pool, pool.MintIDToken("ghost")), verify(t, pool, pool.MintIDToken("ghost"))

	assert.Equal(t, "ghost", a["cognito:username"])
	assert.Regexp(t, `^[0-9a-f-]{36}$`, a["sub"])
	assert.Equal(t, a["sub"], b["sub"], "the same stand-in each time")
	assert.NotContains(t, a, "email")
}

func TestMintOptions(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	pool.AddUser(cognitotest.User{Username: "alice", Email: "a@example.com"})
	now := clk.Now()
	at := time.Date(2029, 5, 6, 7, 8, 9, 0, time.UTC)

	for name, tc := range map[string]struct {
		mint  func(string, ...cognitotest.TokenOption) string
		opts  []cognitotest.TokenOption
		check func(t *testing.T, c map[string]any)
	}{
		"expired": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.Expired()}, func(t *testing.T, c map[string]any) {
			assert.EqualValues(t, now.Add(-time.Minute).Unix(), c["exp"])
			assert.EqualValues(t, now.Add(-time.Minute-time.Hour).Unix(), c["iat"])
		}},
		"expiry": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithExpiry(at)}, func(t *testing.T, c map[string]any) {
			assert.EqualValues(t, at.Unix(), c["exp"])
			assert.EqualValues(t, now.Unix(), c["iat"])
		}},
		"issued at": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithIssuedAt(at)}, func(t *testing.T, c map[string]any) {
			assert.EqualValues(t, at.Unix(), c["iat"])
			assert.EqualValues(t, at.Unix(), c["auth_time"])
			assert.EqualValues(t, at.Add(time.Hour).Unix(), c["exp"])
		}},
		"not before": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithNotBefore(at)}, func(t *testing.T, c map[string]any) {
			assert.EqualValues(t, at.Unix(), c["nbf"])
		}},
		"audience of an ID token": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithAudience("other")}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "other", c["aud"])
		}},
		"audience of an access token": {pool.MintAccessToken, []cognitotest.TokenOption{cognitotest.WithAudience("other")}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "other", c["client_id"])
			assert.NotContains(t, c, "aud")
		}},
		"issuer": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithIssuer("https://elsewhere")}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "https://elsewhere", c["iss"])
		}},
		"token use": {pool.MintIDToken, []cognitotest.TokenOption{cognitotest.WithTokenUse("access")}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "access", c["token_use"])
		}},
		"extra, replaced and deleted claims": {pool.MintIDToken, []cognitotest.TokenOption{
			cognitotest.WithClaim("custom:tenant", "acme"),
			cognitotest.WithClaim("email", "b@example.com"),
			cognitotest.WithClaim("email_verified", nil),
			cognitotest.WithClaim("cognito:groups", []string{"x"}),
		}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "acme", c["custom:tenant"])
			assert.Equal(t, "b@example.com", c["email"])
			assert.NotContains(t, c, "email_verified")
			assert.Equal(t, []any{"x"}, c["cognito:groups"])
		}},
		"later option wins": {pool.MintIDToken, []cognitotest.TokenOption{
			cognitotest.WithIssuer("https://first"), cognitotest.WithClaim("iss", "https://second"),
		}, func(t *testing.T, c map[string]any) {
			assert.Equal(t, "https://second", c["iss"])
		}},
	} {
		t.Run(name, func(t *testing.T) {
			tok := tc.mint("alice", tc.opts...)
			verify(t, pool, tok) // jwx checks only the signature here
			tc.check(t, unverifiedClaims(t, tok))
		})
	}
}

func TestMintHeaderOptions(t *testing.T) {
	pool := cognitotest.NewServer(t)
	kid := kidOf(t, pool.MintIDToken("alice"))

	tok := pool.MintIDToken("alice", cognitotest.WithKeyID("other"), cognitotest.WithHeader("typ", "JWT"))
	assert.Equal(t, `{"kid":"other","alg":"RS256","typ":"JWT"}`, header(t, tok))

	tok = pool.MintIDToken("alice", cognitotest.WithHeader("kid", nil))
	assert.Equal(t, `{"alg":"RS256"}`, header(t, tok))

	tok = pool.MintIDToken("alice", cognitotest.WithHeader("alg", "none"))
	assert.Equal(t, `{"kid":"`+kid+`","alg":"none"}`, header(t, tok))
	assert.True(t, strings.HasSuffix(tok, "."), "alg none has an empty signature")
}

func BenchmarkMintIDToken(b *testing.B) {
	s, err := cognitotest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admins"}})
	for b.Loop() {
		s.MintIDToken("alice")
	}
}

// TestMintForAnotherClient mints tokens WithAudience of an app client the
// pool has: they carry that client's scopes, as its sign-ins' tokens do,
// and the library reads them so.
func TestMintForAnotherClient(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true, Scopes: []string{"openid", "orders/read"}})
	require.NoError(t, err)

	for _, tt := range []struct {
		name       string
		opts       []cognitotest.TokenOption
		wantClient string
		wantScope  any
	}{
		{"the server's own client", nil, cognitotest.DefaultClientID, strings.Join(cognitotest.DefaultScopes, " ")},
		{"a client the pool has", []cognitotest.TokenOption{cognitotest.WithAudience("mobile")}, "mobile", "openid orders/read"},
		{"a client the pool lacks keeps the server's own scopes", []cognitotest.TokenOption{cognitotest.WithAudience("stranger")}, "stranger", strings.Join(cognitotest.DefaultScopes, " ")},
		{"WithScopes after WithAudience wins", []cognitotest.TokenOption{cognitotest.WithAudience("mobile"), cognitotest.WithScopes("a/b")}, "mobile", "a/b"},
		{"WithScopes before WithAudience wins too", []cognitotest.TokenOption{cognitotest.WithScopes("a/b"), cognitotest.WithAudience("mobile")}, "mobile", "a/b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			access := verify(t, pool, pool.MintAccessToken("alice", tt.opts...))
			assert.Equal(t, tt.wantClient, access["client_id"])
			assert.Equal(t, tt.wantScope, access["scope"])
			id := verify(t, pool, pool.MintIDToken("alice", tt.opts...))
			assert.Equal(t, tt.wantClient, id["aud"])
		})
	}

	v, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs("mobile"))
	require.NoError(t, err)
	tok, err := v.VerifyAccessToken(t.Context(), pool.MintAccessToken("alice", cognitotest.WithAudience("mobile")))
	require.NoError(t, err)
	assert.Equal(t, "mobile", tok.ClientID)
	assert.Equal(t, []string{"openid", "orders/read"}, tok.Scopes)
}
