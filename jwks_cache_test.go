package cognito_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// TestRepeatedTokenIsServedFromTheCache: a token seen again skips the
// signature check, which is most of a verify's work and allocations. Were the
// key cache to stop vouching for cached entries, every repeat would cost a full
// verify again; nothing else would show it.
func TestRepeatedTokenIsServedFromTheCache(t *testing.T) {
	f := newPoolFixture(t)
	uncached, err := cognito.NewVerifier(f.cfg, cognito.WithClock(f.clock.Now), cognito.WithTokenCacheSize(0))
	require.NoError(t, err)
	ctx := context.Background()
	raw := f.pool.MintIDToken("alice")
	for _, v := range []*cognito.Verifier{f.v, uncached} {
		_, err := v.VerifyIDToken(ctx, raw) // fetches the keys, and fills the cache
		require.NoError(t, err)
	}

	verify := func(v *cognito.Verifier) func() {
		return func() {
			if _, err := v.VerifyIDToken(ctx, raw); err != nil {
				panic(err)
			}
		}
	}
	hit := testing.AllocsPerRun(20, verify(f.v))
	full := testing.AllocsPerRun(20, verify(uncached))
	t.Logf("allocations per verify: %.0f from the cache, %.0f in full", hit, full)
	assert.LessOrEqual(t, hit, 4.0, "a hit copies the result and its groups, and no more")
	assert.Greater(t, full, 4*hit, "a full verify does far more")
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS), "one fetch per verifier")
}

// TestJWKSOfExactlyTheLimit: a JWKS of exactly 1 MiB is used; one byte more
// is refused as a whole, and the token waits for a JWKS that fits.
func TestJWKSOfExactlyTheLimit(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int
		want error
	}{
		{"1 MiB", 1 << 20, nil},
		{"1 MiB and a byte", 1<<20 + 1, cognito.ErrJWKSUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newPoolFixture(t)
			body := jwksBody(t, f.pool)
			body = body[:len(body)-1] + strings.Repeat(" ", tt.size-len(body)) + "}"
			require.Len(t, body, tt.size)
			f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: 200, Body: body})

			_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}
