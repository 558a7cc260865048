package cognito

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Config.Validate refuses service URLs (Domain, Issuer, JWKSURL) with user
// info, so no constructor lets a password reach the code below; these tests
// put one there by hand, to prove that every error and log line that names a
// configured URL shows it without the password all the same.

const urlPassword = "s3cret-in-url"

// withPassword puts user info into rawURL, an http(s) URL.
func withPassword(rawURL string) string {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	return scheme + "://alice:" + urlPassword + "@" + rest
}

// syncBuffer is a log sink safe for the cache's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJWKSErrorsAndLogsHideTheURLPassword(t *testing.T) {
	var answer atomic.Value
	answer.Store(func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		answer.Load().(func(http.ResponseWriter))(w)
	}))
	defer srv.Close()
	n := modulus(t, 2048)
	jwks := func(kids ...string) func(http.ResponseWriter) {
		keys := make([]string, len(kids))
		for i, kid := range kids {
			keys[i] = rsaJWK(kid, n, 65537)
		}
		return func(w http.ResponseWriter) { fmt.Fprintf(w, `{"keys":[%s]}`, strings.Join(keys, ",")) }
	}

	var logs syncBuffer
	newCache := func(rawURL string) (*jwksCache, *fakeClock) {
		c, clock := newTestCache()
		c.url, c.client, c.log = withPassword(rawURL), srv.Client(), slog.New(slog.NewTextHandler(&logs, nil))
		return c, clock
	}
	var errs []error
	ctx := context.Background()

	c, clock := newCache(srv.URL + "/jwks.json")
	_, err := c.key(ctx, "k1") // 500, logged, and a quiet period starts
	errs = append(errs, err)
	for _, a := range []func(http.ResponseWriter){
		func(w http.ResponseWriter) { _, _ = w.Write([]byte("not json")) },
		func(w http.ResponseWriter) { _, _ = w.Write(bytes.Repeat([]byte(" "), maxBodyBytes+1)) },
	} {
		answer.Store(a)
		clock.advance(c.minRefetch)
		_, err := c.key(ctx, "k1")
		errs = append(errs, err)
	}
	answer.Store(jwks("k1"))
	clock.advance(c.minRefetch)
	_, err = c.key(ctx, "k1") // fetched, logged
	require.NoError(t, err)
	answer.Store(jwks("k2"))
	clock.advance(c.refresh)
	_, err = c.key(ctx, "k2") // refreshed, the rotation logged
	require.NoError(t, err)

	unreachable, _ := newCache("http://127.0.0.1:1/jwks.json")
	_, err = unreachable.key(ctx, "k1")
	errs = append(errs, err)
	malformed, _ := newCache("http://127.0.0.1:port/jwks.json")
	_, err = malformed.key(ctx, "k1")
	errs = append(errs, err)

	for _, err := range errs {
		require.ErrorIs(t, err, ErrJWKSUnavailable)
		assert.NotContains(t, err.Error(), urlPassword)
		assert.Contains(t, err.Error(), "alice:xxxxx@")
	}
	out := logs.String()
	for _, msg := range []string{"JWKS fetch failed", "JWKS quiet period", "JWKS fetched", "JWKS keys rotated"} {
		assert.Contains(t, out, msg)
	}
	assert.NotContains(t, out, urlPassword)
	assert.Contains(t, out, "alice:xxxxx@")
}

func TestTokenEndpointErrorsHideTheURLPassword(t *testing.T) {
	c, err := NewClient(Config{UserPoolID: "us-east-1_AbC123", ClientID: "client", Domain: "http://127.0.0.1:1"})
	require.NoError(t, err)
	c.domain = withPassword(c.domain)
	_, err = c.Refresh(context.Background(), "a-refresh-token")
	require.ErrorIs(t, err, ErrEndpointUnavailable)
	assert.NotContains(t, err.Error(), urlPassword)
	assert.Contains(t, err.Error(), "alice:xxxxx@127.0.0.1:1")
}

// testPool is a JWKS server with one RSA key, and a minter of ID tokens
// signed with it.
type testPool struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	issuer string
}

func newTestPool(t *testing.T) *testPool {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwks := `{"keys":[` + rsaJWK("k1", key.N, key.E) + `]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(jwks)) }))
	t.Cleanup(srv.Close)
	return &testPool{srv: srv, key: key, issuer: srv.URL + "/us-east-1_AbC123"}
}

func (p *testPool) config() Config {
	return Config{UserPoolID: "us-east-1_AbC123", ClientID: "client", Issuer: p.issuer, JWKSURL: p.srv.URL + "/jwks.json"}
}

func (p *testPool) mintIDToken(t *testing.T) string {
	enc := base64.RawURLEncoding
	hdr, err := json.Marshal(map[string]any{"alg": "RS256", "kid": "k1"})
	require.NoError(t, err)
	claims, err := json.Marshal(map[string]any{"iss": p.issuer, "token_use": "id", "aud": "client", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	input := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, digest[:])
	require.NoError(t, err)
	return input + "." + enc.EncodeToString(sig)
}

func TestIssuerErrorsHideTheURLPassword(t *testing.T) {
	pool := newTestPool(t)
	ctx := context.Background()
	newVerifier := func() *Verifier {
		v, err := NewVerifier(pool.config(), WithTokenCacheSize(0))
		require.NoError(t, err)
		return v
	}

	// After the signature: the key is cached, so the claims are read in full.
	warm := newVerifier()
	_, err := warm.VerifyIDToken(ctx, pool.mintIDToken(t))
	require.NoError(t, err)
	warm.issuer = withPassword(warm.issuer)
	_, afterSignature := warm.VerifyIDToken(ctx, pool.mintIDToken(t))

	// Before a fetch: the keys were never fetched.
	cold := newVerifier()
	cold.issuer = withPassword(cold.issuer)
	_, beforeFetch := cold.VerifyIDToken(ctx, pool.mintIDToken(t))

	for _, err := range []error{afterSignature, beforeFetch} {
		require.ErrorIs(t, err, ErrInvalidIssuer)
		assert.NotContains(t, err.Error(), urlPassword)
		assert.Contains(t, err.Error(), "alice:xxxxx@")
	}

	// MultiPoolVerifier names pools by issuer.
	twin := newVerifier()
	twin.issuer = cold.issuer
	_, err = NewMultiPoolVerifier(cold, twin)
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.NotContains(t, err.Error(), urlPassword)
	assert.Contains(t, err.Error(), "alice:xxxxx@")

	down := newVerifier()
	down.issuer, down.keys.url = withPassword(down.issuer), "http://127.0.0.1:1/jwks.json"
	m, err := NewMultiPoolVerifier(down)
	require.NoError(t, err)
	err = m.Prefetch(ctx)
	require.ErrorIs(t, err, ErrJWKSUnavailable)
	assert.NotContains(t, err.Error(), urlPassword)
	assert.Contains(t, err.Error(), "pool "+strings.Replace(down.issuer, urlPassword, "xxxxx", 1))
}
