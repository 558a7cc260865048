package cognito_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// newTestClock is the clock a test shares between the fake pool and the
// code under test, and moves by hand.
func newTestClock() *cognitotest.Clock {
	return cognitotest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
}

// poolFixture is a fake pool and a verifier for it, on one clock.
type poolFixture struct {
	pool  *cognitotest.Server
	clock *cognitotest.Clock
	v     *cognito.Verifier
	cfg   cognito.Config
}

func newPoolFixture(t *testing.T, opts ...cognito.Option) *poolFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	pool.AddUser(cognitotest.User{
		Username: "alice", Password: "correct horse", Email: "alice@example.com", EmailVerified: true,
		Name: "Alice", Groups: []string{"admins", "users"}, Attributes: map[string]string{"custom:tenant": "acme"},
	})
	cfg := pool.Config()
	v, err := cognito.NewVerifier(cfg, append([]cognito.Option{cognito.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return &poolFixture{pool: pool, clock: clock, v: v, cfg: cfg}
}

func TestVerifyIDToken(t *testing.T) {
	f := newPoolFixture(t)
	raw := f.pool.MintIDToken("alice", cognitotest.WithClaim("nonce", "n-123"))

	tok, err := f.v.VerifyIDToken(context.Background(), raw)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", tok.Email)
	assert.True(t, tok.EmailVerified)
	assert.Equal(t, "alice", tok.Username)
	assert.Equal(t, "Alice", tok.Name)
	assert.Equal(t, "n-123", tok.Nonce)
	assert.Equal(t, []string{"admins", "users"}, tok.Groups)
	assert.Equal(t, f.pool.Issuer(), tok.Issuer)
	assert.Equal(t, f.cfg.ClientID, tok.Audience)
	assert.NotEmpty(t, tok.Subject)
	assert.Equal(t, f.clock.Now(), tok.IssuedAt.UTC())
	assert.Equal(t, f.clock.Now().Add(time.Hour), tok.Expiry.UTC())
	assert.False(t, tok.AuthTime.IsZero())

	var extra struct {
		Tenant string `json:"custom:tenant"`
		Sub    string `json:"sub"`
	}
	require.NoError(t, tok.Claims(&extra))
	assert.Equal(t, "acme", extra.Tenant)
	assert.Equal(t, tok.Subject, extra.Sub)
}

func TestVerifyAccessToken(t *testing.T) {
	f := newPoolFixture(t)
	tok, err := f.v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, f.cfg.ClientID, tok.ClientID)
	assert.Equal(t, "alice", tok.Username)
	assert.Equal(t, cognitotest.DefaultScopes, tok.Scopes)
	assert.Equal(t, []string{"admins", "users"}, tok.Groups)
	assert.Equal(t, f.pool.Issuer(), tok.Issuer)

	var all map[string]any
	require.NoError(t, tok.Claims(&all))
	assert.Equal(t, "access", all["token_use"])
}

func TestVerifyRefusesTheOtherKindOfToken(t *testing.T) {
	f := newPoolFixture(t)
	ctx := context.Background()
	_, err := f.v.VerifyAccessToken(ctx, f.pool.MintIDToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrInvalidTokenUse)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintAccessToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrInvalidTokenUse)
}

// TestVerifyIDTokenRefusals has one case per check of the verifier: removing
// the check makes its case pass verification and the test fail.
func TestVerifyIDTokenRefusals(t *testing.T) {
	f := newPoolFixture(t)
	now := f.clock.Now()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	tests := []struct {
		name string
		opts []cognitotest.TokenOption
		want error
	}{
		{"expired by one second", []cognitotest.TokenOption{cognitotest.WithExpiry(now.Add(-time.Second))}, cognito.ErrTokenExpired},
		{"expires this very second", []cognitotest.TokenOption{cognitotest.WithExpiry(now)}, cognito.ErrTokenExpired},
		{"not before one second from now", []cognitotest.TokenOption{cognitotest.WithNotBefore(now.Add(time.Second))}, cognito.ErrTokenNotYetValid},
		{"issued beyond the allowance", []cognitotest.TokenOption{cognitotest.WithIssuedAt(now.Add(cognito.IssuedAtAllowance + time.Second))}, cognito.ErrTokenNotYetValid},
		{"other issuer", []cognitotest.TokenOption{cognitotest.WithIssuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")}, cognito.ErrInvalidIssuer},
		{"issuer with trailing slash", []cognitotest.TokenOption{cognitotest.WithIssuer(f.pool.Issuer() + "/")}, cognito.ErrInvalidIssuer},
		{"other audience", []cognitotest.TokenOption{cognitotest.WithAudience("other-client")}, cognito.ErrInvalidAudience},
		{"audience array without the client", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []string{"a", "b"})}, cognito.ErrInvalidAudience},
		{"audience array with the client but no azp", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []string{"other", cognitotest.DefaultClientID})}, cognito.ErrInvalidAudience},
		{"audience array with the client, azp another", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []string{"other", cognitotest.DefaultClientID}), cognitotest.WithClaim("azp", "other")}, cognito.ErrInvalidAudience},
		{"azp as a number", []cognitotest.TokenOption{cognitotest.WithClaim("azp", 1)}, cognito.ErrMalformedToken},
		{"token_use access", []cognitotest.TokenOption{cognitotest.WithTokenUse("access")}, cognito.ErrInvalidTokenUse},
		{"no token_use", []cognitotest.TokenOption{cognitotest.WithClaim("token_use", nil)}, cognito.ErrInvalidTokenUse},
		{"no kid", []cognitotest.TokenOption{cognitotest.WithHeader("kid", nil)}, cognito.ErrUnknownKey},
		{"unknown kid", []cognitotest.TokenOption{cognitotest.WithKeyID("not-a-key")}, cognito.ErrUnknownKey},
		{"alg none", []cognitotest.TokenOption{cognitotest.WithHeader("alg", "none")}, cognito.ErrUnsupportedAlgorithm},
		{"alg HS256", []cognitotest.TokenOption{cognitotest.WithHeader("alg", "HS256")}, cognito.ErrUnsupportedAlgorithm},
		{"alg RS512", []cognitotest.TokenOption{cognitotest.WithHeader("alg", "RS512")}, cognito.ErrUnsupportedAlgorithm},
		{"alg PS256", []cognitotest.TokenOption{cognitotest.WithHeader("alg", "PS256")}, cognito.ErrUnsupportedAlgorithm},
		{"alg lower case", []cognitotest.TokenOption{cognitotest.WithHeader("alg", "rs256")}, cognito.ErrUnsupportedAlgorithm},
		{"no alg", []cognitotest.TokenOption{cognitotest.WithHeader("alg", nil)}, cognito.ErrMalformedToken},
		{"crit header", []cognitotest.TokenOption{cognitotest.WithHeader("crit", []string{"exp"})}, cognito.ErrMalformedToken},
		{"signed by another key under the pool's kid", []cognitotest.TokenOption{cognitotest.WithSigningKey(otherKey)}, cognito.ErrInvalidSignature},
		{"exp as a string", []cognitotest.TokenOption{cognitotest.WithClaim("exp", fmt.Sprint(now.Add(time.Hour).Unix()))}, cognito.ErrMalformedToken},
		{"exp missing", []cognitotest.TokenOption{cognitotest.WithClaim("exp", nil)}, cognito.ErrMalformedToken},
		{"exp negative", []cognitotest.TokenOption{cognitotest.WithClaim("exp", -1)}, cognito.ErrMalformedToken},
		{"exp past year 9999", []cognitotest.TokenOption{cognitotest.WithClaim("exp", 1e300)}, cognito.ErrMalformedToken},
		{"iat as a bool", []cognitotest.TokenOption{cognitotest.WithClaim("iat", true)}, cognito.ErrMalformedToken},
		{"nbf as a string", []cognitotest.TokenOption{cognitotest.WithClaim("nbf", "0")}, cognito.ErrMalformedToken},
		{"aud as a number", []cognitotest.TokenOption{cognitotest.WithClaim("aud", 12345)}, cognito.ErrMalformedToken},
		{"aud array with a number", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []any{cognitotest.DefaultClientID, 1})}, cognito.ErrMalformedToken},
		{"token_use as an array", []cognitotest.TokenOption{cognitotest.WithClaim("token_use", []string{"id"})}, cognito.ErrMalformedToken},
		{"iss as an object", []cognitotest.TokenOption{cognitotest.WithClaim("iss", map[string]string{"a": "b"})}, cognito.ErrMalformedToken},
		{"groups as a string", []cognitotest.TokenOption{cognitotest.WithClaim("cognito:groups", "admins")}, cognito.ErrMalformedToken},
		{"email_verified as a number", []cognitotest.TokenOption{cognitotest.WithClaim("email_verified", 1)}, cognito.ErrMalformedToken},
		{"email as null", []cognitotest.TokenOption{cognitotest.WithClaim("email", []any(nil))}, cognito.ErrMalformedToken},
		{"sub missing", []cognitotest.TokenOption{cognitotest.WithClaim("sub", nil)}, cognito.ErrMalformedToken},
		{"kid as a number", []cognitotest.TokenOption{cognitotest.WithHeader("kid", 7)}, cognito.ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := f.pool.MintIDToken("alice", tt.opts...)
			require.NotEmpty(t, raw)
			tok, err := f.v.VerifyIDToken(context.Background(), raw)
			assert.Nil(t, tok)
			require.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())
			assert.NotContains(t, err.Error(), raw)
		})
	}
}

func TestVerifyAccessTokenRefusals(t *testing.T) {
	f := newPoolFixture(t)
	tests := []struct {
		name string
		opts []cognitotest.TokenOption
		want error
	}{
		{"other client", []cognitotest.TokenOption{cognitotest.WithAudience("other-client")}, cognito.ErrInvalidAudience},
		{"no client_id", []cognitotest.TokenOption{cognitotest.WithClaim("client_id", nil)}, cognito.ErrInvalidAudience},
		{"client_id as a number", []cognitotest.TokenOption{cognitotest.WithClaim("client_id", 1)}, cognito.ErrMalformedToken},
		{"scope as an array", []cognitotest.TokenOption{cognitotest.WithClaim("scope", []string{"openid"})}, cognito.ErrMalformedToken},
		{"username as a number", []cognitotest.TokenOption{cognitotest.WithClaim("username", 1)}, cognito.ErrMalformedToken},
		{"expired", []cognitotest.TokenOption{cognitotest.Expired()}, cognito.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice", tt.opts...))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestVerifyAcceptsWithinLimits(t *testing.T) {
	f := newPoolFixture(t, cognito.WithLeeway(30*time.Second))
	now := f.clock.Now()
	tests := []struct {
		name string
		opts []cognitotest.TokenOption
	}{
		{"expired within the leeway", []cognitotest.TokenOption{cognitotest.WithExpiry(now.Add(-29 * time.Second))}},
		{"nbf within the leeway", []cognitotest.TokenOption{cognitotest.WithNotBefore(now.Add(29 * time.Second))}},
		{"issued within leeway and allowance", []cognitotest.TokenOption{cognitotest.WithIssuedAt(now.Add(30*time.Second + cognito.IssuedAtAllowance))}},
		{"audience array of the client", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []string{cognitotest.DefaultClientID})}},
		{"audience array with the client and azp", []cognitotest.TokenOption{cognitotest.WithClaim("aud", []string{"other", cognitotest.DefaultClientID}), cognitotest.WithClaim("azp", cognitotest.DefaultClientID)}},
		{"email_verified as a string", []cognitotest.TokenOption{cognitotest.WithClaim("email_verified", "true")}},
		{"fractional exp", []cognitotest.TokenOption{cognitotest.WithClaim("exp", float64(now.Unix())+3600.5)}},
		{"escaped issuer", []cognitotest.TokenOption{cognitotest.WithClaim("iss", f.pool.Issuer())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice", tt.opts...))
			require.NoError(t, err)
		})
	}

	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice", cognitotest.WithExpiry(now.Add(-30*time.Second))))
	assert.ErrorIs(t, err, cognito.ErrTokenExpired, "the leeway's end is exclusive")
}

func TestVerifyMalformedTokens(t *testing.T) {
	f := newPoolFixture(t)
	good := f.pool.MintIDToken("alice")
	parts := strings.Split(good, ".")
	require.Len(t, parts, 3)
	hdr, payload, sig := parts[0], parts[1], parts[2]
	enc := base64.RawURLEncoding.EncodeToString

	tests := map[string]string{
		"empty":                   "",
		"one part":                hdr,
		"two parts":               hdr + "." + payload,
		"four parts":              good + "." + sig,
		"padded signature":        hdr + "." + payload + "." + sig + "==",
		"standard alphabet":       hdr + "." + payload + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+",
		"space inside":            hdr + "." + payload[:10] + " " + payload[10:] + "." + sig,
		"newline inside":          hdr + "." + payload[:10] + "\n" + payload[10:] + "." + sig,
		"leading newline":         "\n" + good,
		"leading carriage return": "\r" + good,
		"header not JSON":         enc([]byte("not json")) + "." + payload + "." + sig,
		"header a JSON array":     enc([]byte(`["RS256"]`)) + "." + payload + "." + sig,
		"header empty":            "." + payload + "." + sig,
		"too long":                strings.Repeat("a", 70<<10) + "." + payload + "." + sig,
		"signature not base64":    hdr + "." + payload + ".!!!!",
		"payload impossible b64":  hdr + "." + "a" + "." + sig,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.VerifyIDToken(context.Background(), raw)
			require.Error(t, err)
			assert.True(t, errors.Is(err, cognito.ErrMalformedToken) || errors.Is(err, cognito.ErrInvalidSignature), "got %v", err)
		})
	}

	t.Run("leading newline or carriage return", func(t *testing.T) {
		// The base64 decoder skips CR and LF; a token has one spelling.
		for _, raw := range []string{"\n" + good, "\r" + good, good[:len(good)-2] + "\n" + good[len(good)-2:]} {
			_, err := f.v.VerifyIDToken(context.Background(), raw)
			require.ErrorIs(t, err, cognito.ErrMalformedToken)
			assert.ErrorContains(t, err, "not three base64url parts")
		}
	})
	t.Run("tampered claims", func(t *testing.T) {
		forged := strings.Replace(good, payload, enc([]byte(`{"sub":"mallory"}`)), 1)
		_, err := f.v.VerifyIDToken(context.Background(), forged)
		require.ErrorIs(t, err, cognito.ErrInvalidSignature)
	})
	t.Run("signature one byte short", func(t *testing.T) {
		s, err := base64.RawURLEncoding.DecodeString(sig)
		require.NoError(t, err)
		_, err = f.v.VerifyIDToken(context.Background(), hdr+"."+payload+"."+enc(s[1:]))
		require.ErrorIs(t, err, cognito.ErrInvalidSignature)
	})
}

func TestVerifierAcceptsCognitosNewIssuerForm(t *testing.T) {
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now), cognitotest.WithPoolID("us-east-1_AbC123"))
	pool.AddUser(cognitotest.User{Username: "alice"})
	cfg := cognito.Config{UserPoolID: "us-east-1_AbC123", ClientID: cognitotest.DefaultClientID, JWKSURL: pool.Issuer() + "/.well-known/jwks.json"}
	v, err := cognito.NewVerifier(cfg, cognito.WithClock(clock.Now))
	require.NoError(t, err)

	for _, iss := range []string{
		"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
		"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
	} {
		tok, err := v.VerifyIDToken(context.Background(), pool.MintIDToken("alice", cognitotest.WithIssuer(iss)))
		require.NoError(t, err, iss)
		assert.Equal(t, iss, tok.Issuer)
	}
	_, err = v.VerifyIDToken(context.Background(), pool.MintIDToken("alice", cognitotest.WithIssuer("https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_AbC123")))
	assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)

	// An explicit Issuer is exact: the other form is refused.
	cfg.Issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
	v, err = cognito.NewVerifier(cfg, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	_, err = v.VerifyIDToken(context.Background(), pool.MintIDToken("alice", cognitotest.WithIssuer("https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123")))
	assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)
}

func TestNewVerifierDoesNoIO(t *testing.T) {
	f := newPoolFixture(t)
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestJWKSFetchedOnceByConcurrentFirstUses(t *testing.T) {
	f := newPoolFixture(t)
	raw := f.pool.MintIDToken("alice")
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.v.VerifyIDToken(context.Background(), raw) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestJWKSUnknownKidRefetchesOnceThenWaits(t *testing.T) {
	f := newPoolFixture(t)
	ctx := context.Background()
	_, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS))

	// A key rotated in is picked up on its first token.
	f.pool.RotateKeys()
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	require.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))

	// A kid still unknown after a refetch starts the quiet period...
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithKeyID("bogus-1")))
	require.ErrorIs(t, err, cognito.ErrUnknownKey)
	require.Equal(t, 3, f.pool.Requests(cognitotest.EndpointJWKS))
	// ...during which unknown kids fail without a request...
	for i := range 20 {
		_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithKeyID(fmt.Sprint("bogus-", i+2))))
		require.ErrorIs(t, err, cognito.ErrUnknownKey)
	}
	assert.Equal(t, 3, f.pool.Requests(cognitotest.EndpointJWKS))
	// ...while known kids go on verifying.
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)

	f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithKeyID("bogus-x")))
	require.ErrorIs(t, err, cognito.ErrUnknownKey)
	assert.Equal(t, 4, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestJWKSDownFromTheStart(t *testing.T) {
	f := newPoolFixture(t)
	raw := f.pool.MintIDToken("alice")
	f.pool.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: http.StatusInternalServerError})

	for range 2 {
		_, err := f.v.VerifyIDToken(context.Background(), raw)
		require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
		assert.Contains(t, err.Error(), "500")
	}
	// A failed first fetch is not cached as empty: the next call fetches again.
	_, err := f.v.VerifyIDToken(context.Background(), raw)
	require.NoError(t, err)
	assert.Equal(t, 3, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestJWKSRefreshedOnTheLongInterval(t *testing.T) {
	f := newPoolFixture(t, cognito.WithJWKSRefreshInterval(time.Hour), cognito.WithTokenCacheSize(0))
	ctx := context.Background()
	_, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)

	f.clock.Advance(59 * time.Minute)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "keys younger than the interval are not refetched")

	// Past the interval a refetch that fails keeps the old keys in use.
	f.clock.Advance(time.Minute)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	require.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))

	// The failure holds refetches back for the minimum interval, then the
	// refresh succeeds and drops a key the pool retired.
	old := f.pool.KeyIDs()
	f.pool.RotateKeys(cognitotest.DropOld)
	oldToken := f.pool.MintIDToken("alice", cognitotest.WithKeyID(old[0]))
	_, err = f.v.VerifyIDToken(ctx, oldToken)
	require.ErrorIs(t, err, cognito.ErrInvalidSignature, "the old kid is still cached; the new key signed")
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))

	f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, 3, f.pool.Requests(cognitotest.EndpointJWKS))
}

func TestJWKSBodyLimit(t *testing.T) {
	f := newPoolFixture(t)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: 200, Body: `{"keys":[` + strings.Repeat(" ", 1<<20) + `]}`})
	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.Contains(t, err.Error(), "larger than")
}

func TestJWKSGarbage(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":           "<html>oops</html>",
		"no keys":            `{"keys":[]}`,
		"keys not an array":  `{"keys":{}}`,
		"only unusable keys": `{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newPoolFixture(t)
			f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: 200, Body: body})
			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
			require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
		})
	}
}

func TestJWKSFetchHonoursContext(t *testing.T) {
	f := newPoolFixture(t, cognito.WithJWKSFetchTimeout(time.Minute))
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestJWKSFetchTimeout(t *testing.T) {
	f := newPoolFixture(t, cognito.WithJWKSFetchTimeout(50*time.Millisecond))
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Hang: true})
	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()

	t.Run("a hit still checks expiry", func(t *testing.T) {
		f := newPoolFixture(t)
		raw := f.pool.MintIDToken("alice")
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		f.clock.Advance(time.Hour)
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.ErrorIs(t, err, cognito.ErrTokenExpired)
	})

	t.Run("a hit still checks nbf", func(t *testing.T) {
		f := newPoolFixture(t, cognito.WithLeeway(time.Minute))
		raw := f.pool.MintIDToken("alice", cognitotest.WithNotBefore(f.clock.Now().Add(30*time.Second)))
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		f.clock.Set(f.clock.Now().Add(-time.Minute))
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.ErrorIs(t, err, cognito.ErrTokenNotYetValid)
	})

	t.Run("a hit does not cross token kinds", func(t *testing.T) {
		f := newPoolFixture(t)
		raw := f.pool.MintIDToken("alice")
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		_, err = f.v.VerifyAccessToken(ctx, raw)
		require.ErrorIs(t, err, cognito.ErrInvalidTokenUse)
	})

	t.Run("callers cannot change the cached result", func(t *testing.T) {
		f := newPoolFixture(t)
		raw := f.pool.MintAccessToken("alice")
		first, err := f.v.VerifyAccessToken(ctx, raw)
		require.NoError(t, err)
		first.Groups[0], first.Scopes[0] = "root", "admin"
		second, err := f.v.VerifyAccessToken(ctx, raw)
		require.NoError(t, err)
		assert.Equal(t, "admins", second.Groups[0])
		assert.Equal(t, cognitotest.DefaultScopes[0], second.Scopes[0])
	})

	t.Run("entries signed by a key that left the JWKS are dropped at refresh", func(t *testing.T) {
		f := newPoolFixture(t)
		raw := f.pool.MintIDToken("alice")
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)

		f.pool.RotateKeys(cognitotest.DropOld)
		f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
		_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(time.Hour))))
		require.NoError(t, err)
		require.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))

		f.clock.Set(f.clock.Now().Add(-cognito.DefaultJWKSRefreshInterval + time.Minute)) // raw is within its lifetime again
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.ErrorIs(t, err, cognito.ErrUnknownKey)
	})
}

func TestTokenCacheHitRefreshesStaleKeys(t *testing.T) {
	// A service that only ever sees cached tokens still refreshes its keys on
	// the long interval, and stops accepting what a removed key signed.
	f := newPoolFixture(t)
	ctx := context.Background()
	raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(2*cognito.DefaultJWKSRefreshInterval)))
	_, err := f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err)

	f.pool.RotateKeys(cognitotest.DropOld)
	f.clock.Advance(cognito.DefaultJWKSRefreshInterval - time.Second)
	_, err = f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err, "a hit while the keys are fresh")
	require.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS))

	f.clock.Advance(time.Second)
	_, err = f.v.VerifyIDToken(ctx, raw)
	require.ErrorIs(t, err, cognito.ErrUnknownKey)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))
}

// hostileHeader returns a header of about size bytes before base64: the
// pool's kid and alg after as many distinct escaped and non-ASCII member
// names of about nameLen bytes as fit, the costliest names to compare.
func hostileHeader(kid string, size, nameLen int) []byte {
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; b.Len() < size-len(kid)-nameLen-40; i++ {
		pad := strings.Repeat(`\u00e9`, nameLen/6)
		if i%2 == 1 {
			pad = strings.Repeat("é", nameLen/2)
		}
		fmt.Fprintf(&b, `"\u0061%s%x":0,`, pad, i)
	}
	b.WriteString(`"kid":` + fmt.Sprintf("%q", kid) + `,"alg":"RS256"}`)
	return []byte(b.String())
}

// BenchmarkVerifyHostileHeader compares a valid verify with tokens whose
// header is all member names, which are read before any signature check: a
// 64 KiB token (refused by the header's 4 KiB cap), 4 KiB of short names
// (refused at the 33rd member) and 30 long ones just under the cap.
func BenchmarkVerifyHostileHeader(b *testing.B) {
	pool := cognitotest.NewServer(b)
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithTokenCacheSize(0))
	require.NoError(b, err)
	ctx := context.Background()
	valid := pool.MintIDToken("alice")
	_, err = v.VerifyIDToken(ctx, valid)
	require.NoError(b, err)
	claims := strings.Split(valid, ".")[1]
	enc := base64.RawURLEncoding.EncodeToString
	kid := pool.SigningKeyID("id")
	for _, bc := range []struct{ name, raw string }{
		{"valid", valid},
		{"64KiB-token-of-short-names", enc(hostileHeader(kid, 46<<10, 0)) + "." + claims + ".AAAA"},
		{"4KiB-header-of-short-names", enc(hostileHeader(kid, 4<<10, 0)) + "." + claims + ".AAAA"},
		{"4KiB-header-of-30-long-names", enc(hostileHeader(kid, 4<<10, 120)) + "." + claims + ".AAAA"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = v.VerifyIDToken(ctx, bc.raw)
			}
		})
	}
}

func TestVerifySplitsIntoThreeParts(t *testing.T) {
	f := newPoolFixture(t)
	good := f.pool.MintIDToken("alice")
	parts := strings.Split(good, ".")
	h, p, s := parts[0], parts[1], parts[2]
	for _, raw := range []string{h, h + "." + p, good + "." + s, h + "." + p + ".." + s, h + "." + p + "." + s + "."} {
		_, err := f.v.VerifyIDToken(context.Background(), raw)
		require.ErrorIs(t, err, cognito.ErrMalformedToken)
		assert.ErrorContains(t, err, "not three base64url parts", "%d dots", strings.Count(raw, "."))
	}
	// Three parts, one of them empty: each is then judged for what it is.
	_, err := f.v.VerifyIDToken(context.Background(), "."+p+"."+s)
	require.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.ErrorContains(t, err, "header is not valid JSON")
	_, err = f.v.VerifyIDToken(context.Background(), h+".."+s)
	require.ErrorIs(t, err, cognito.ErrInvalidSignature)
}

func TestVerifyTokenLengthLimit(t *testing.T) {
	// 64 KiB is the longest token looked at; one byte more is refused
	// before any work.
	f := newPoolFixture(t)
	ofLength := func(total int) string {
		t.Helper()
		mint := func(n, hpad int) string {
			return f.pool.MintIDToken("alice", cognitotest.WithClaim("custom:pad", strings.Repeat("p", n)),
				cognitotest.WithHeader("x-pad", strings.Repeat("h", hpad)))
		}
		for hpad := range 3 { // a raw base64 length of 4k+1 does not exist: move the header by a byte
			lo, hi := 0, total
			for lo < hi { // the smallest pad whose token is at least total bytes
				mid := (lo + hi) / 2
				if len(mint(mid, hpad)) < total {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			if raw := mint(lo, hpad); len(raw) == total {
				return raw
			}
		}
		t.Fatalf("no token of %d bytes", total)
		return ""
	}
	exact, over := ofLength(64<<10), ofLength(64<<10+1)
	_, err := f.v.VerifyIDToken(context.Background(), exact)
	require.NoError(t, err, "a token of exactly 64 KiB")
	_, err = f.v.VerifyIDToken(context.Background(), over)
	require.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.ErrorContains(t, err, "longer than 65536 bytes")

	// A MultiPoolVerifier reads the iss under the same limit, before its
	// pool's Verifier (a fresh one: nothing cached) sees the token.
	fresh, err := cognito.NewVerifier(f.cfg, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	m, err := cognito.NewMultiPoolVerifier(fresh)
	require.NoError(t, err)
	_, err = m.VerifyIDToken(context.Background(), exact)
	require.NoError(t, err, "a token of exactly 64 KiB picks its pool")
	_, err = m.VerifyIDToken(context.Background(), over)
	require.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.ErrorContains(t, err, "longer than 65536 bytes")
}

func TestVerifyHeaderLimits(t *testing.T) {
	// The header is read before the signature is checked: up to 4 KiB and
	// 32 members, whatever is in it.
	f := newPoolFixture(t)
	headerOf := func(raw string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		require.NoError(t, err)
		var h map[string]any
		require.NoError(t, json.Unmarshal(b, &h))
		h["_len"] = len(b)
		return h
	}
	base := headerOf(f.pool.MintIDToken("alice", cognitotest.WithHeader("x-pad", "")))
	ofSize := func(size int) string {
		return f.pool.MintIDToken("alice", cognitotest.WithHeader("x-pad", strings.Repeat("h", size-base["_len"].(int))))
	}
	require.Equal(t, 4<<10, headerOf(ofSize(4 << 10))["_len"])
	_, err := f.v.VerifyIDToken(context.Background(), ofSize(4<<10))
	require.NoError(t, err, "a header of exactly 4 KiB")
	_, err = f.v.VerifyIDToken(context.Background(), ofSize(4<<10+1))
	require.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.ErrorContains(t, err, "header is longer than 4096 bytes")

	withMembers := func(n int) string {
		var opts []cognitotest.TokenOption
		for i := len(base) - 2; i < n; i++ { // base has x-pad and _len besides the minted members
			opts = append(opts, cognitotest.WithHeader(fmt.Sprintf("x-%d", i), i))
		}
		raw := f.pool.MintIDToken("alice", opts...)
		require.Len(t, headerOf(raw), n+1)
		return raw
	}
	_, err = f.v.VerifyIDToken(context.Background(), withMembers(32))
	require.NoError(t, err, "a header of 32 members")
	_, err = f.v.VerifyIDToken(context.Background(), withMembers(33))
	require.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.ErrorContains(t, err, "more than 32 members")
}

func TestVerifyIDTokenCallersCannotChangeTheCachedResult(t *testing.T) {
	f := newPoolFixture(t)
	ctx := context.Background()
	raw := f.pool.MintIDToken("alice")
	first, err := f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err)
	want := *first
	want.Groups = slices.Clone(first.Groups)
	first.Email, first.Subject, first.Groups[0] = "mallory@example.com", "root", "root"
	second, err := f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err)
	assert.Equal(t, &want, second)
	assert.NotSame(t, first, second)
}

// TestAForeignTokenIsRefusedBeforeAnyKeyFetch: a token whose unverified iss
// is not the pool's is refused with ErrInvalidIssuer without a JWKS request,
// whether the keys were never fetched, are cached without its kid, or are due
// for a refresh, and even while this pool's JWKS endpoint is down.
func TestAForeignTokenIsRefusedBeforeAnyKeyFetch(t *testing.T) {
	other := cognitotest.NewServer(t, cognitotest.WithPoolID("eu-west-1_Other"))
	other.AddUser(cognitotest.User{Username: "mallory"})
	foreign := map[string]func(f *poolFixture) error{
		"ID token of another pool": func(f *poolFixture) error {
			_, err := f.v.VerifyIDToken(context.Background(), other.MintIDToken("mallory"))
			return err
		},
		"access token of another pool": func(f *poolFixture) error {
			_, err := f.v.VerifyAccessToken(context.Background(), other.MintAccessToken("mallory"))
			return err
		},
		"this pool's key, another iss": func(f *poolFixture) error {
			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice",
				cognitotest.WithIssuer(other.Issuer()), cognitotest.WithKeyID("a-kid-this-pool-lacks")))
			return err
		},
	}
	states := map[string]func(t *testing.T, f *poolFixture){
		"keys never fetched": func(*testing.T, *poolFixture) {},
		"keys cached": func(t *testing.T, f *poolFixture) {
			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
			require.NoError(t, err)
		},
		"keys due for a refresh": func(t *testing.T, f *poolFixture) {
			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
			require.NoError(t, err)
			f.clock.Advance(cognito.DefaultJWKSRefreshInterval + time.Second)
		},
	}
	for tokenName, verify := range foreign {
		for stateName, prepare := range states {
			t.Run(tokenName+", "+stateName, func(t *testing.T) {
				f := newPoolFixture(t)
				prepare(t, f)
				before := f.pool.Requests(cognitotest.EndpointJWKS)
				f.pool.FailNext(cognitotest.EndpointJWKS, 10, cognitotest.Failure{Status: http.StatusServiceUnavailable})
				err := verify(f)
				require.ErrorIs(t, err, cognito.ErrInvalidIssuer)
				assert.NotErrorIs(t, err, cognito.ErrJWKSUnavailable)
				assert.NotErrorIs(t, err, cognito.ErrUnknownKey)
				assert.Equal(t, before, f.pool.Requests(cognitotest.EndpointJWKS), "no JWKS request")
			})
		}
	}
}

// TestTheIssuerCheckBeforeAFetchLetsThisPoolsTokensThrough: a token of this
// pool, in either of Cognito's issuer forms, still fetches the keys it needs.
func TestTheIssuerCheckBeforeAFetchLetsThisPoolsTokensThrough(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_AbC123"))
	pool.AddUser(cognitotest.User{Username: "alice"})
	cfg := cognito.Config{UserPoolID: "us-east-1_AbC123", ClientID: cognitotest.DefaultClientID, JWKSURL: pool.Issuer() + "/.well-known/jwks.json"}
	for _, iss := range []string{
		"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
		"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
	} {
		v, err := cognito.NewVerifier(cfg)
		require.NoError(t, err)
		before := pool.Requests(cognitotest.EndpointJWKS)
		_, err = v.VerifyIDToken(context.Background(), pool.MintIDToken("alice", cognitotest.WithIssuer(iss)))
		require.NoError(t, err, iss)
		assert.Equal(t, before+1, pool.Requests(cognitotest.EndpointJWKS), iss)
	}
}

// TestErrorsDropC1ControlCharacters: U+009B starts a terminal's control
// sequence as ESC [ does; text from a token never brings one into an error.
func TestErrorsDropC1ControlCharacters(t *testing.T) {
	f := newPoolFixture(t)
	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice", cognitotest.WithHeader("alg", "RS\u009b2J\u0085256")))
	require.ErrorIs(t, err, cognito.ErrUnsupportedAlgorithm)
	assert.Contains(t, err.Error(), `alg "RS2J256"`)
	assert.False(t, strings.ContainsFunc(err.Error(), func(r rune) bool { return r >= 0x80 && r <= 0x9f }))
}
