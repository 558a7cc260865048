package cognito_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// tenants is two fake pools, one per tenant, and a verifier for both.
type tenants struct {
	a, b *cognitotest.Server
	m    *cognito.MultiPoolVerifier
}

func newTenants(t *testing.T) *tenants {
	t.Helper()
	a := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_TenantA"), cognitotest.WithClientID("clienta"))
	b := cognitotest.NewServer(t, cognitotest.WithPoolID("eu-west-1_TenantB"), cognitotest.WithClientID("clientb"))
	mobileB, err := b.AddClient(cognitotest.AppClient{ClientID: "mobileb", Public: true})
	require.NoError(t, err)
	va, err := cognito.NewVerifier(a.Config())
	require.NoError(t, err)
	vb, err := cognito.NewVerifier(b.Config(), cognito.WithClientIDs(mobileB.ClientID))
	require.NoError(t, err)
	m, err := cognito.NewMultiPoolVerifier(va, vb)
	require.NoError(t, err)
	return &tenants{a: a, b: b, m: m}
}

func TestMultiPoolVerifier(t *testing.T) {
	ts := newTenants(t)
	ctx := context.Background()

	at, err := ts.m.VerifyAccessToken(ctx, ts.a.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, ts.a.Issuer(), at.Issuer)
	at, err = ts.m.VerifyAccessToken(ctx, ts.b.MintAccessToken("bob", cognitotest.WithAudience("mobileb")))
	require.NoError(t, err)
	assert.Equal(t, ts.b.Issuer(), at.Issuer)
	assert.Equal(t, "mobileb", at.ClientID, "each pool keeps its own clients")
	id, err := ts.m.VerifyIDToken(ctx, ts.b.MintIDToken("bob"))
	require.NoError(t, err)
	assert.Equal(t, "clientb", id.Audience)

	_, err = ts.m.VerifyAccessToken(ctx, ts.a.MintAccessToken("alice", cognitotest.WithAudience("mobileb")))
	assert.ErrorIs(t, err, cognito.ErrInvalidAudience, "pool B's client is not one of pool A's")
	_, err = ts.m.VerifyIDToken(ctx, ts.a.MintAccessToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrInvalidTokenUse)

	// Again, from the pools' token caches, which pick the pool without
	// reading the iss.
	for range 2 {
		for _, p := range []*cognitotest.Server{ts.a, ts.b} {
			tok := p.MintAccessToken("carol", cognitotest.WithClaim("jti", p.Issuer()))
			for range 2 {
				at, err := ts.m.VerifyAccessToken(ctx, tok)
				require.NoError(t, err)
				assert.Equal(t, p.Issuer(), at.Issuer)
			}
		}
	}
	noCache, err := cognito.NewVerifier(ts.b.Config(), cognito.WithTokenCacheSize(0))
	require.NoError(t, err)
	va, err := cognito.NewVerifier(ts.a.Config(), cognito.WithTokenCacheSize(0))
	require.NoError(t, err)
	m2, err := cognito.NewMultiPoolVerifier(va, noCache)
	require.NoError(t, err)
	for range 2 {
		_, err = m2.VerifyIDToken(ctx, ts.b.MintIDToken("bob"))
		require.NoError(t, err, "without token caches")
	}

	assert.Equal(t, 1, ts.a.Requests(cognitotest.EndpointJWKS), "one key cache per pool")
	assert.Equal(t, 2, ts.b.Requests(cognitotest.EndpointJWKS), "the multi-pool verifier's, and the cacheless one's")
}

// TestMultiPoolPicksACachedTokensPoolWithoutReadingIss: with up to eight
// pools, a token one of them verified before is found in that pool's token
// cache, so a repeat costs what it costs the pool's own Verifier, with no
// decoding of the claims to read the iss.
func TestMultiPoolPicksACachedTokensPoolWithoutReadingIss(t *testing.T) {
	ctx := context.Background()
	var verifiers []*cognito.Verifier
	var last *cognitotest.Server
	for i := range 8 { // the most pools whose caches are looked in
		last = cognitotest.NewServer(t, cognitotest.WithPoolID(fmt.Sprintf("us-east-1_Tenant%d", i)))
		v, err := cognito.NewVerifier(last.Config())
		require.NoError(t, err)
		verifiers = append(verifiers, v)
	}
	m, err := cognito.NewMultiPoolVerifier(verifiers...)
	require.NoError(t, err)
	tok := last.MintAccessToken("alice")
	_, err = m.VerifyAccessToken(ctx, tok) // the last pool's cache takes it
	require.NoError(t, err)

	verify := func(v cognito.AccessTokenVerifier) func() {
		return func() {
			if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
				panic(err)
			}
		}
	}
	direct := testing.AllocsPerRun(20, verify(verifiers[len(verifiers)-1]))
	multi := testing.AllocsPerRun(20, verify(m))
	t.Logf("allocations per cached verify: %.0f by the pool's Verifier, %.0f through the MultiPoolVerifier", direct, multi)
	assert.Equal(t, direct, multi, "no claims decoded to pick the pool")
}

func TestMultiPoolUnknownIssuerFetchesNothing(t *testing.T) {
	ts := newTenants(t)
	other := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_Stranger"))
	ctx := context.Background()

	for name, tok := range map[string]string{
		"another pool":              other.MintAccessToken("mallory"),
		"pool A's issuer, reworded": ts.a.MintAccessToken("mallory", cognitotest.WithIssuer(ts.a.Issuer()+"/")),
		"an attacker's URL":         ts.a.MintAccessToken("mallory", cognitotest.WithIssuer("https://attacker.example/pool")),
		"no iss":                    ts.a.MintAccessToken("mallory", cognitotest.WithClaim("iss", nil)),
	} {
		_, err := ts.m.VerifyAccessToken(ctx, tok)
		assert.ErrorIs(t, err, cognito.ErrInvalidIssuer, name)
		_, err = ts.m.VerifyIDToken(ctx, tok)
		assert.ErrorIs(t, err, cognito.ErrInvalidIssuer, name)
	}
	for _, p := range []*cognitotest.Server{ts.a, ts.b, other} {
		assert.Zero(t, p.Requests(cognitotest.EndpointJWKS), "a token naming no configured pool never triggers a fetch")
	}
}

func TestMultiPoolRefusesForgedIssuer(t *testing.T) {
	ts := newTenants(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	// The issuer picks pool A, whose keys then refuse what pool A did not sign.
	signedByB := ts.b.MintAccessToken("mallory", cognitotest.WithIssuer(ts.a.Issuer()), cognitotest.WithAudience("clienta"))
	_, err = ts.m.VerifyAccessToken(context.Background(), signedByB)
	assert.ErrorIs(t, err, cognito.ErrUnknownKey, "pool B's key is not one of pool A's")
	for _, kid := range ts.a.KeyIDs() {
		forged := ts.a.MintAccessToken("mallory", cognitotest.WithKeyID(kid), cognitotest.WithSigningKey(key))
		_, err = ts.m.VerifyAccessToken(context.Background(), forged)
		assert.ErrorIs(t, err, cognito.ErrInvalidSignature)
	}
}

func TestMultiPoolMalformedTokens(t *testing.T) {
	ts := newTenants(t)
	enc := base64.RawURLEncoding.EncodeToString
	for name, tok := range map[string]string{
		"empty":            "",
		"one part":         "abc",
		"claims not b64":   "e30.!!!.sig",
		"claims not JSON":  "e30." + enc([]byte("not json")) + ".sig",
		"iss not a string": "e30." + enc([]byte(`{"iss":42}`)) + ".sig",
		"iss repeated":     "e30." + enc([]byte(`{"iss":"a","iss":"b"}`)) + ".sig",
		"newline":          "e30." + enc([]byte(`{"iss":"a"}`)) + "\n.sig",
		"too long":         strings.Repeat("a", 70<<10),
	} {
		_, err := ts.m.VerifyAccessToken(context.Background(), tok)
		assert.ErrorIs(t, err, cognito.ErrMalformedToken, name)
	}
	assert.Zero(t, ts.a.Requests(cognitotest.EndpointJWKS)+ts.b.Requests(cognitotest.EndpointJWKS))
}

func TestNewMultiPoolVerifierRefusals(t *testing.T) {
	pool := cognitotest.NewServer(t)
	v1, err := cognito.NewVerifier(pool.Config())
	require.NoError(t, err)
	v2, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs("another"))
	require.NoError(t, err)

	_, err = cognito.NewMultiPoolVerifier()
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	_, err = cognito.NewMultiPoolVerifier(v1, nil)
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.ErrorContains(t, err, "Verifier #2 is nil", "the nil one is named, counted from 1")
	_, err = cognito.NewMultiPoolVerifier(v1, v2)
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "two Verifiers for one pool")

	// Cognito's two issuer forms of one derived pool map to its Verifier.
	cfg := cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "c"}
	v3, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	cfg.Issuer = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
	v4, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	_, err = cognito.NewMultiPoolVerifier(v3, v4)
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "the second names an issuer the first accepts already")
}

func TestMultiPoolPrefetch(t *testing.T) {
	ts := newTenants(t)
	require.NoError(t, ts.m.Prefetch(context.Background()))
	assert.Equal(t, 1, ts.a.Requests(cognitotest.EndpointJWKS))
	assert.Equal(t, 1, ts.b.Requests(cognitotest.EndpointJWKS))

	ts2 := newTenants(t)
	ts2.b.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	err := ts2.m.Prefetch(context.Background())
	assert.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.ErrorContains(t, err, ts2.b.Issuer(), "says which pool failed")
	assert.NotContains(t, err.Error(), ts2.a.Issuer()+":", "and only that one")
}

func TestRequireAccessTokenAcceptsAnyVerifier(t *testing.T) {
	ts := newTenants(t)
	h := chain(whoami, cognito.RequireAccessToken(ts.m), cognito.RequireGroup("admins"))
	ts.a.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	ts.b.AddUser(cognitotest.User{Username: "bob", Groups: []string{"users"}})

	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+ts.a.MintAccessToken("alice")).Code)
	assert.Equal(t, http.StatusForbidden, serve(h, "Bearer "+ts.b.MintAccessToken("bob")).Code)
	stranger := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_Stranger"))
	assert.Equal(t, http.StatusUnauthorized, serve(h, "Bearer "+stranger.MintAccessToken("alice")).Code)

	// A nil verifier of either type, even inside the interface, is a
	// misconfiguration: 500, never a pass or a panic.
	var nilVerifier *cognito.Verifier
	var nilMulti *cognito.MultiPoolVerifier
	var nilIface cognito.AccessTokenVerifier
	for name, v := range map[string]cognito.AccessTokenVerifier{"*Verifier": nilVerifier, "*MultiPoolVerifier": nilMulti, "interface": nilIface} {
		var hookErr error
		h := cognito.RequireAccessToken(v, cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err }))(whoami)
		assert.Equal(t, http.StatusInternalServerError, serve(h, "Bearer "+ts.a.MintAccessToken("alice")).Code, name)
		assert.ErrorIs(t, hookErr, cognito.ErrInvalidConfig, name)
	}
	_, err := nilVerifier.VerifyIDToken(context.Background(), "x")
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	_, err = nilMulti.VerifyIDToken(context.Background(), "x")
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.ErrorIs(t, nilVerifier.Prefetch(context.Background()), cognito.ErrInvalidConfig)
	assert.ErrorIs(t, nilMulti.Prefetch(context.Background()), cognito.ErrInvalidConfig)
}

// A service that dispatches on its own (here: by a header naming the tenant)
// puts the verified token in the context, and the guards work behind it.
func TestContextWithAccessToken(t *testing.T) {
	ts := newTenants(t)
	ts.a.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	byTenant := map[string]*cognitotest.Server{"a": ts.a, "b": ts.b}
	verifiers := map[string]*cognito.Verifier{}
	for name, p := range byTenant {
		v, err := cognito.NewVerifier(p.Config())
		require.NoError(t, err)
		verifiers[name] = v
	}
	dispatch := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v := verifiers[r.Header.Get("X-Tenant")]
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if v == nil || !ok {
				http.Error(w, "unknown tenant", http.StatusUnauthorized)
				return
			}
			tok, err := v.VerifyAccessToken(r.Context(), raw)
			if err != nil {
				http.Error(w, "bad token", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(cognito.ContextWithAccessToken(r.Context(), tok)))
		})
	}
	h := dispatch(cognito.RequireGroup("admins")(whoami))
	call := func(tenant, tok string) int {
		req, _ := http.NewRequest(http.MethodGet, "/things/1", nil)
		req.Header.Set("X-Tenant", tenant)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusOK, call("a", ts.a.MintAccessToken("alice")))
	assert.Equal(t, http.StatusForbidden, call("b", ts.b.MintAccessToken("bob")))
	assert.Equal(t, http.StatusUnauthorized, call("b", ts.a.MintAccessToken("alice")))

	tok, ok := cognito.AccessTokenFromContext(cognito.ContextWithAccessToken(context.Background(), &cognito.AccessToken{Username: "x"}))
	assert.True(t, ok)
	assert.Equal(t, "x", tok.Username)
	_, ok = cognito.AccessTokenFromContext(cognito.ContextWithAccessToken(context.Background(), nil))
	assert.False(t, ok, "a nil token is no token")
	guarded := cognito.RequireAnyScope("x")(whoami)
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	guarded.ServeHTTP(rec, req.WithContext(cognito.ContextWithAccessToken(req.Context(), nil)))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

// FuzzMultiPoolVerifyAccessToken feeds any string to a MultiPoolVerifier of
// two pools, the first with its keys cached, the second with a JWKS endpoint
// that always fails: it must never panic, accept only the tokens signed for
// the first pool, refuse with exactly one sentinel, and never refetch the
// first pool's keys.
func FuzzMultiPoolVerifyAccessToken(f *testing.F) {
	fz := newFuzzVerifier(f)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unreachable", http.StatusInternalServerError)
	}))
	f.Cleanup(other.Close)
	v2, err := cognito.NewVerifier(cognito.Config{
		UserPoolID: "eu-west-1_Other", ClientID: cognitotest.DefaultClientID, JWKSURL: other.URL + "/jwks.json",
	})
	require.NoError(f, err)
	m, err := cognito.NewMultiPoolVerifier(fz.v, v2)
	require.NoError(f, err)
	for _, s := range fz.seeds {
		f.Add(s)
	}
	f.Add("e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}`)) + ".c2ln")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		at, err := m.VerifyAccessToken(ctx, raw)
		switch {
		case err == nil && !fz.goodAccess[raw]:
			t.Fatalf("accepted a token that was never signed: %q", raw)
		case err == nil && at.ClientID != cognitotest.DefaultClientID:
			t.Fatalf("accepted token with claims %+v", at)
		case err != nil:
			checkRefusal(t, err)
			if fz.goodAccess[raw] {
				t.Fatalf("a good access token is refused: %v", err)
			}
		}
		if n := fz.hits.Load(); n != fz.primed {
			t.Fatalf("the first pool's JWKS was fetched %d times after priming", n-fz.primed)
		}
	})
}

// BenchmarkMultiPoolOverhead compares verifying a cached access token through
// its pool's Verifier and through a MultiPoolVerifier of two pools, which
// reads the iss first.
func BenchmarkMultiPoolOverhead(b *testing.B) {
	a := cognitotest.NewServer(b, cognitotest.WithPoolID("us-east-1_TenantA"))
	other := cognitotest.NewServer(b, cognitotest.WithPoolID("eu-west-1_TenantB"))
	va, err := cognito.NewVerifier(a.Config())
	require.NoError(b, err)
	vb, err := cognito.NewVerifier(other.Config())
	require.NoError(b, err)
	m, err := cognito.NewMultiPoolVerifier(va, vb)
	require.NoError(b, err)
	tok := a.MintAccessToken("alice")
	ctx := context.Background()
	_, err = va.VerifyAccessToken(ctx, tok)
	require.NoError(b, err)

	for name, v := range map[string]cognito.AccessTokenVerifier{"Verifier": va, "MultiPoolVerifier": m} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
