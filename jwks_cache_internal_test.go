package cognito

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key cache's decisions, one rule at a time, at their boundaries. The
// tests in jwks_cache_test.go, faults_test.go and hostile_test.go run the
// same rules through a Verifier and the fake pool.

// fakeClock is a settable clock for a jwksCache built by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestCache() (*jwksCache, *fakeClock) {
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixNano())
	return &jwksCache{now: clock.now, refresh: time.Hour, minRefetch: time.Minute, timeout: time.Second}, clock
}

// rsaJWK is the JWK of an RSA public key with modulus n and exponent e.
func rsaJWK(kid string, n *big.Int, e int) string {
	enc := base64.RawURLEncoding
	return fmt.Sprintf(`{"kty":"RSA","kid":%q,"alg":"RS256","use":"sig","n":%q,"e":%q}`,
		kid, enc.EncodeToString(n.Bytes()), enc.EncodeToString(big.NewInt(int64(e)).Bytes()))
}

// modulus is an odd number of exactly bits bits. parseJWK checks sizes and
// exponents, not primality, so a key of any size costs nothing to make.
func modulus(t *testing.T, bits int) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	require.NoError(t, err)
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	require.Equal(t, bits, n.BitLen())
	return n
}

func TestParseJWKSizesAndExponents(t *testing.T) {
	for _, tt := range []struct {
		bits, e int
		kept    bool
	}{
		{2047, 65537, false},
		{2048, 65537, true},
		{4096, 65537, true},
		{8192, 65537, true},
		{8193, 65537, false},
		{2048, 1, false},
		{2048, 2, false},
		{2048, 3, true},
		{2048, 4, false},
		{2048, 65536, false},
		{2048, 65539, true},
	} {
		t.Run(fmt.Sprintf("%d bits, e=%d", tt.bits, tt.e), func(t *testing.T) {
			n := modulus(t, tt.bits)
			kid, k := parseJWK([]byte(rsaJWK("k", n, tt.e)))
			if !tt.kept {
				assert.Nil(t, k)
				return
			}
			require.NotNil(t, k)
			assert.Equal(t, "k", kid)
			assert.Equal(t, 0, n.Cmp(k.pub.N))
			assert.Equal(t, tt.e, k.pub.E)
			assert.Equal(t, "RS256", k.alg)
		})
	}
}

// TestKeyCacheVouches: a cached token is served only while the key that
// signed it is the current set's key for its kid, and that set is not due
// for a refresh.
func TestKeyCacheVouches(t *testing.T) {
	c, clock := newTestCache()
	key := &publicKey{pub: &rsa.PublicKey{N: modulus(t, 2048), E: 65537}}
	assert.False(t, c.vouches("k", key, clock.now()), "no keys fetched yet")

	c.current.Store(&keySet{keys: map[string]*publicKey{"k": key}, fetchedAt: clock.now()})
	assert.True(t, c.vouches("k", key, clock.now()), "the current key")
	assert.False(t, c.vouches("other", key, clock.now()), "a kid the set lacks")
	// The same kid with other material, or the same material parsed anew: the
	// token takes the full path once, which checks it against the current key.
	assert.False(t, c.vouches("k", &publicKey{pub: key.pub}, clock.now()), "a key that is no longer the current one")

	clock.advance(c.refresh - time.Nanosecond)
	assert.True(t, c.vouches("k", key, clock.now()), "just before the refresh is due")
	clock.advance(time.Nanosecond)
	assert.False(t, c.vouches("k", key, clock.now()), "the refresh is due: the full path refreshes the keys")

	c.startQuiet() // a failed refresh: the held keys stay in use during the quiet period
	assert.True(t, c.vouches("k", key, clock.now()), "a quiet period holds the refresh back")
}

func TestKeyCacheQuietPeriod(t *testing.T) {
	c, clock := newTestCache()
	assert.False(t, c.quiet())
	c.startQuiet()
	assert.True(t, c.quiet())
	clock.advance(c.minRefetch - time.Nanosecond)
	assert.True(t, c.quiet(), "a nanosecond before the end")
	clock.advance(time.Nanosecond)
	assert.False(t, c.quiet(), "over at minRefetch exactly")
}

func TestKeyCacheRefreshDue(t *testing.T) {
	c, clock := newTestCache()
	set := &keySet{keys: map[string]*publicKey{"k": {}}, fetchedAt: clock.now()}
	clock.advance(c.refresh - time.Nanosecond)
	assert.False(t, c.refreshDue(set))
	assert.True(t, c.answered(set, ""), "a refresh finds the keys fresh enough")
	clock.advance(time.Nanosecond)
	assert.True(t, c.refreshDue(set), "due at the refresh interval exactly")
	assert.False(t, c.answered(set, ""), "a refresh is worth doing")

	assert.True(t, c.answered(set, "k"), "the kid is there: no fetch")
	assert.False(t, c.answered(set, "other"), "a kid the set lacks is worth a fetch")
	c.startQuiet()
	assert.False(t, c.refreshDue(set), "not during a quiet period")
	assert.True(t, c.answered(set, "other"), "not during a quiet period")
}

// TestKeyCacheBodyLimit: a JWKS of exactly the limit is read; one byte more
// is refused, and the keys already held stay.
func TestKeyCacheBodyLimit(t *testing.T) {
	jwk := rsaJWK("k", modulus(t, 2048), 65537)
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	pad := func(n int) string {
		doc := `{"keys":[` + jwk + `]}`
		return doc[:len(doc)-1] + strings.Repeat(" ", n-len(doc)) + "}"
	}

	c, _ := newTestCache()
	c.url, c.client = srv.URL, srv.Client()
	body.Store(pad(maxBodyBytes))
	set, err := c.download(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, set.keys["k"])

	body.Store(pad(maxBodyBytes + 1))
	_, err = c.download(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
}
