package cognito_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

func TestPrefetch(t *testing.T) {
	f := newPoolFixture(t)
	require.NoError(t, f.v.Prefetch(context.Background()))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "fetched at start-up")

	_, err := f.v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "the first request finds the keys there")

	require.NoError(t, f.v.Prefetch(context.Background()))
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "a readiness probe does not refetch fresh keys")

	f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
	require.NoError(t, f.v.Prefetch(context.Background()))
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS), "keys due for a refresh are refetched")
}

func TestPrefetchFailure(t *testing.T) {
	f := newPoolFixture(t)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	err := f.v.Prefetch(context.Background())
	assert.ErrorIs(t, err, cognito.ErrJWKSUnavailable, "not ready")

	require.NoError(t, f.v.Prefetch(context.Background()), "ready once the pool answers")

	// A probe that gives up stops waiting; the fetch it started, held back
	// here so that it cannot win the race, goes on for the others.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Delay: 200 * time.Millisecond})
	err = f.v.Prefetch(ctx)
	assert.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = f.v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice"))
	assert.NoError(t, err, "the keys fetched earlier stay in use")
}

func fetchJWKS(t *testing.T, pool *cognitotest.Server) []byte {
	t.Helper()
	res, err := http.Get(pool.Issuer() + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	pool.ResetCounts()
	return body
}

func TestWithJWKSNeverFetches(t *testing.T) {
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	jwks := fetchJWKS(t, pool)
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithJWKS(jwks), cognito.WithClock(clock.Now))
	require.NoError(t, err)
	jwks[0] = 'x' // the Verifier keeps its own copy

	at, err := v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, "alice", at.Username)
	_, err = v.VerifyIDToken(context.Background(), pool.MintIDToken("alice"))
	require.NoError(t, err)

	pool.RotateKeys()
	_, err = v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrUnknownKey, "a key not pinned is unknown, and never fetched")
	assert.NotErrorIs(t, err, cognito.ErrJWKSUnavailable)

	clock.Advance(2 * cognito.DefaultJWKSRefreshInterval)
	_, err = v.VerifyAccessToken(context.Background(), currentAccessToken(t, pool, clock))
	assert.ErrorIs(t, err, cognito.ErrUnknownKey)
	require.NoError(t, v.Prefetch(context.Background()))
	assert.Zero(t, pool.Requests(cognitotest.EndpointJWKS), "pinned keys: no fetch, ever")
}

// currentAccessToken is an access token signed by the pool's current key, issued now.
func currentAccessToken(t *testing.T, pool *cognitotest.Server, clock *cognitotest.Clock) string {
	t.Helper()
	return pool.MintAccessToken("alice", cognitotest.WithIssuedAt(clock.Now()))
}

func TestWithJWKSPinnedKeysStayAfterTheRefreshInterval(t *testing.T) {
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithJWKS(fetchJWKS(t, pool)), cognito.WithClock(clock.Now))
	require.NoError(t, err)
	tok := pool.MintAccessToken("alice", cognitotest.WithExpiry(clock.Now().Add(48*time.Hour)))
	_, err = v.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err)
	clock.Advance(2 * cognito.DefaultJWKSRefreshInterval)
	_, err = v.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err, "cache hit with pinned keys")
	_, err = v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice", cognitotest.WithIssuedAt(clock.Now())))
	require.NoError(t, err, "full path with pinned keys")
	assert.Zero(t, pool.Requests(cognitotest.EndpointJWKS))
}

func TestWithJWKSRefusesUselessDocuments(t *testing.T) {
	pool := cognitotest.NewServer(t)
	for name, doc := range map[string]string{
		"empty":       "",
		"not JSON":    "<html>",
		"no keys":     `{"keys":[]}`,
		"no RSA keys": `{"keys":[{"kty":"oct","k":"AAAA","kid":"x"}]}`,
	} {
		_, err := cognito.NewVerifier(pool.Config(), cognito.WithJWKS([]byte(doc)))
		assert.ErrorIs(t, err, cognito.ErrInvalidConfig, name)
	}
	_, err := cognito.NewVerifier(pool.Config(), cognito.WithJWKS(make([]byte, 2<<20)))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "too large")
}

// TestWithJWKSOfExactlyTheLimit: a pinned document may be as large as a
// fetched one, 1 MiB; one byte more is refused.
func TestWithJWKSOfExactlyTheLimit(t *testing.T) {
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	jwks := fetchJWKS(t, pool)
	ofSize := func(n int) []byte { // the document, padded with spaces before its closing brace
		doc := append(bytes.Clone(jwks[:len(jwks)-1]), bytes.Repeat([]byte(" "), n-len(jwks))...)
		return append(doc, '}')
	}
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithJWKS(ofSize(1<<20)), cognito.WithClock(clock.Now))
	require.NoError(t, err, "exactly 1 MiB")
	_, err = v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice"))
	require.NoError(t, err, "its keys are used")
	_, err = cognito.NewVerifier(pool.Config(), cognito.WithJWKS(ofSize(1<<20+1)))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "1 MiB and a byte")
	assert.Zero(t, pool.Requests(cognitotest.EndpointJWKS))
}
