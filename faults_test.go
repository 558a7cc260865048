package cognito_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// The JWKS cache and the token client under faults and load, all against the
// fake pool on loopback. Nothing sleeps: the clock is moved by hand, and the
// only waits are timeouts in the code under test, each of which ends a fault
// that would otherwise last until the pool closes.

// countingTransport counts the requests a Verifier or Client sends and
// signals each on sent (up to its buffer), so that a test knows a request is
// in flight, or that one was made when none should be.
type countingTransport struct {
	base *http.Transport
	n    atomic.Int64
	sent chan struct{}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	select {
	case c.sent <- struct{}{}:
	default:
	}
	return c.base.RoundTrip(r)
}

func countingClient(t *testing.T) (*http.Client, *countingTransport) {
	ct := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), sent: make(chan struct{}, 64)}
	t.Cleanup(ct.base.CloseIdleConnections)
	return &http.Client{Transport: ct}, ct
}

// faultFixture is a pool fixture whose Verifier sends through a counting
// transport.
func faultFixture(t *testing.T, opts ...cognito.Option) (*poolFixture, *countingTransport) {
	t.Helper()
	hc, ct := countingClient(t)
	return newPoolFixture(t, append([]cognito.Option{cognito.WithHTTPClient(hc)}, opts...)...), ct
}

func TestJWKSFaultDownFromTheStart(t *testing.T) {
	f, ct := faultFixture(t)
	raw := f.pool.MintIDToken("alice")
	f.pool.Close() // nothing listens on the JWKS URL any more

	for range 3 {
		_, err := f.v.VerifyIDToken(context.Background(), raw)
		require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
		msg := err.Error()
		assert.Contains(t, msg, f.pool.Issuer()+"/.well-known/jwks.json", "says which URL")
		var opErr *net.OpError // connection refused, or reset when another test's server took the freed port
		assert.ErrorAs(t, err, &opErr, "says why, and keeps the network error for errors.As")
		assert.NotContains(t, msg, raw)
	}
	assert.EqualValues(t, 3, ct.n.Load(), "a failed first fetch is retried by the next call, not cached as empty")
}

func TestJWKSFaultDownAfterTheFirstFetch(t *testing.T) {
	// Without the token cache, so that every verification looks up its key
	// (a cache hit skips the key lookup and with it the refresh).
	f, ct := faultFixture(t, cognito.WithTokenCacheSize(0))
	ctx := context.Background()
	var tokens []string
	for range 5 {
		tokens = append(tokens, f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(3*time.Hour))))
	}
	_, err := f.v.VerifyIDToken(ctx, tokens[0])
	require.NoError(t, err)
	f.pool.Close()

	// Past the refresh interval, the refresh fails and the cached keys
	// keep verifying, for every token and beyond the quiet period.
	for range 2 {
		f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
		for _, raw := range tokens {
			_, err := f.v.VerifyIDToken(ctx, raw)
			require.NoError(t, err)
		}
	}
	assert.EqualValues(t, 3, ct.n.Load(), "one fetch, then one failed refresh per interval")

	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithKeyID("rotated-in")))
	require.ErrorIs(t, err, cognito.ErrUnknownKey, "an unknown kid is unknown, even with the JWKS down")
	assert.NotErrorIs(t, err, cognito.ErrJWKSUnavailable, "keys are held, so the JWKS is not unavailable")
}

func TestJWKSFault500s(t *testing.T) {
	f, ct := faultFixture(t, cognito.WithTokenCacheSize(0))
	ctx := context.Background()
	raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(4*time.Hour)))

	f.pool.FailNext(cognitotest.EndpointJWKS, 3, cognitotest.Failure{Status: http.StatusInternalServerError, Body: `{"message":"InternalError"}`})
	for range 3 {
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
		assert.Contains(t, err.Error(), "answered 500")
	}
	_, err := f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err, "the fourth first fetch succeeds")
	require.EqualValues(t, 4, ct.n.Load())

	// 500s on refresh: one attempt per quiet period, and every token keeps
	// verifying with the keys held.
	f.pool.FailNext(cognitotest.EndpointJWKS, 1000, cognitotest.Failure{Status: http.StatusServiceUnavailable, Body: "<html>503</html>", ContentType: "text/html"})
	f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
	verified := 0
	for range 3 {
		for range 100 {
			_, err := f.v.VerifyIDToken(ctx, raw)
			require.NoError(t, err)
			verified++
		}
		f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod)
	}
	assert.EqualValues(t, 4+3, ct.n.Load(), "one refresh attempt per minimum interval")
	t.Logf("500s on refresh: %d verifications, %d refresh attempts over 3 minimum intervals", verified, ct.n.Load()-4)
}

// faultTimeout is the JWKS fetch timeout of the tests whose fetches hang or
// trickle: long enough for a normal fetch on a loaded machine to fit in it.
const faultTimeout = time.Second

func TestJWKSFaultTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("refresh hangs: the refreshing caller gets the held keys after the timeout", func(t *testing.T) {
		t.Parallel() // each waits out a timeout
		f, ct := faultFixture(t, cognito.WithJWKSFetchTimeout(faultTimeout), cognito.WithTokenCacheSize(0))
		raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(3*time.Hour)))
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Hang: true})
		f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		assert.EqualValues(t, 2, ct.n.Load(), "the timed-out refresh starts the quiet period")
	})
	t.Run("slow-loris body on the first fetch", func(t *testing.T) {
		t.Parallel() // each waits out a timeout
		f, _ := faultFixture(t, cognito.WithJWKSFetchTimeout(faultTimeout))
		// A valid JWKS, one byte per millisecond: about 17 minutes in all.
		body := jwksBody(t, f.pool) + strings.Repeat(" ", 1<<20-2048)
		f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: body, Trickle: time.Millisecond})
		_, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
		require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
		require.NoError(t, err, "the next call fetches again")
	})
	t.Run("slow-loris body on refresh", func(t *testing.T) {
		t.Parallel() // each waits out a timeout
		f, _ := faultFixture(t, cognito.WithJWKSFetchTimeout(faultTimeout), cognito.WithTokenCacheSize(0))
		raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(3*time.Hour)))
		_, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: strings.Repeat(" ", 1<<20), Trickle: time.Millisecond})
		f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
		_, err = f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
	})
}

// jwksBody is the pool's JWKS as it serves it.
func jwksBody(t *testing.T, pool *cognitotest.Server) string {
	t.Helper()
	res, err := http.Get(pool.Issuer() + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	pool.ResetCounts()
	return string(b)
}

func TestJWKSFaultGarbageOnRefresh(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"HTML", "<html><body>Service Unavailable</body></html>"},
		{"truncated", `{"keys":[{"kty":"RSA","kid":"x","n":"`},
		{"keys null", `{"keys":null}`},
		{"no keys", `{"keys":[]}`},
		{"JSON null", `null`},
		{"only an EC key", `{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`},
		{"nested 100000 deep", `{"keys":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`},
		{"binary", "\x00\x01\x02\xff\xfe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ct := faultFixture(t, cognito.WithTokenCacheSize(0))
			ctx := context.Background()
			raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(3*time.Hour)))
			_, err := f.v.VerifyIDToken(ctx, raw)
			require.NoError(t, err)
			f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: tc.body})
			f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
			for range 3 {
				_, err = f.v.VerifyIDToken(ctx, raw)
				require.NoError(t, err, "the held keys keep verifying")
			}
			assert.EqualValues(t, 2, ct.n.Load())
		})
	}
}

func TestJWKSFault50MiBBody(t *testing.T) {
	f, _ := faultFixture(t)
	// A valid JWKS padded to 50 MiB: without the limit it would verify.
	body := jwksBody(t, f.pool)
	body = body[:len(body)-1] + strings.Repeat(" ", 50<<20) + "}"
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: body})
	raw := f.pool.MintIDToken("alice")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := f.v.VerifyIDToken(context.Background(), raw)
	runtime.ReadMemStats(&after)

	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.Contains(t, err.Error(), "larger than 1048576 bytes")
	allocated := after.TotalAlloc - before.TotalAlloc
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("50 MiB JWKS body: %.2f MiB allocated in all during the refused fetch, heap grew by %.2f MiB", float64(allocated)/(1<<20), float64(grown)/(1<<20))
	assert.Less(t, allocated, uint64(16<<20), "the body is read through the 1 MiB limit, not whole")

	_, err = f.v.VerifyIDToken(context.Background(), raw)
	require.NoError(t, err, "the next call fetches the real JWKS")
}

func TestJWKSFaultOneBadKeyAmongGoodOnes(t *testing.T) {
	f, ct := faultFixture(t)
	idKey, accessKey := f.pool.SigningKey("id"), f.pool.SigningKey("access")
	idKid, accessKid := f.pool.SigningKeyID("id"), f.pool.SigningKeyID("access")
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	body := jwks(
		`{"kty":"EC","kid":"ec","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`,
		`{"kty":"oct","kid":"oct","k":"c2VjcmV0"}`,
		jwkJSON(&weak.PublicKey, "weak", "RS256", "sig", ""),
		jwkJSON(&accessKey.PublicKey, "enc", "RS256", "enc", ""),
		jwkJSON(&accessKey.PublicKey, "", "RS256", "sig", ""),
		`{"kty":"RSA","kid":"short-n","n":"AQAB","e":"AQAB"}`,
		`{"kty":"RSA","kid":"bad-n","n":"!!!","e":"AQAB"}`,
		`{"kty":"RSA","kid":"no-e","n":"`+b64u.EncodeToString(accessKey.N.Bytes())+`"}`,
		`42`, `null`, `"key"`, `[]`,
		jwkJSON(&idKey.PublicKey, idKid, "RS256", "sig", ""),
		jwkJSON(&accessKey.PublicKey, "twice", "RS256", "sig", ""),
		jwkJSON(&idKey.PublicKey, "twice", "RS256", "sig", ""),
		jwkJSON(&accessKey.PublicKey, accessKid, "RS256", "sig", ""),
	)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: body})
	ctx := context.Background()

	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	_, err = f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice"))
	require.NoError(t, err)
	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.WithKeyID("twice")))
	require.ErrorIs(t, err, cognito.ErrUnknownKey, "a kid published twice is trusted for neither key")
	assert.EqualValues(t, 2, ct.n.Load(), "the good keys came from the first fetch; the unknown kid refetched once")
}

// TestVerifierColdStartStampede starts 1,000 verifications at once on a
// Verifier that holds no keys: they share one JWKS fetch.
func TestVerifierColdStartStampede(t *testing.T) {
	f, ct := faultFixture(t)
	var tokens []string
	for range 10 {
		tokens = append(tokens, f.pool.MintIDToken("alice"), f.pool.MintAccessToken("alice"))
	}
	const n = 1000
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			raw := tokens[i%len(tokens)]
			if i%2 == 0 {
				_, errs[i] = f.v.VerifyIDToken(context.Background(), raw)
			} else {
				_, errs[i] = f.v.VerifyAccessToken(context.Background(), raw)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS))
	assert.EqualValues(t, 1, ct.n.Load())
	t.Logf("cold start: %d concurrent verifications, %d JWKS fetch", n, f.pool.Requests(cognitotest.EndpointJWKS))
}

// TestVerifierRefreshStampede starts 1,000 verifications at once when the
// cached keys are due for refresh: one of them refreshes, the others go on
// with the keys held, and the keys are fetched once.
func TestVerifierRefreshStampede(t *testing.T) {
	f, ct := faultFixture(t, cognito.WithTokenCacheSize(0)) // every verification looks up its key
	raw := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(3*time.Hour)))
	_, err := f.v.VerifyIDToken(context.Background(), raw)
	require.NoError(t, err)
	f.clock.Advance(cognito.DefaultJWKSRefreshInterval)

	const n = 1000
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.v.VerifyIDToken(context.Background(), raw)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 2, ct.n.Load(), "one fetch, then one refresh")
	t.Logf("refresh: %d concurrent verifications with keys due, %d refresh fetch", n, ct.n.Load()-1)
}

// unknownKidTokens are n tokens whose kids no JWKS has, random but the same
// on every run; their signatures are a real token's, which is never checked.
func unknownKidTokens(good string, n int, seed uint64) []string {
	rng := mathrand.New(mathrand.NewPCG(seed, 0x636f676e69746f))
	parts := strings.SplitN(good, ".", 2)
	out := make([]string, n)
	for i := range out {
		kid := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		out[i] = b64u.EncodeToString([]byte(`{"kid":"`+kid+`","alg":"RS256"}`)) + "." + parts[1]
	}
	return out
}

// flood verifies every token at once and returns how many were refused
// with ErrUnknownKey. If the transport sees a request when none is allowed,
// it fails at once instead of waiting for the flood.
func flood(t *testing.T, v *cognito.Verifier, tokens []string, ct *countingTransport, allowNetwork bool) int {
	t.Helper()
	for len(ct.sent) > 0 { // drop the signals of earlier, allowed requests
		<-ct.sent
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var unknown, other atomic.Int64
	for _, raw := range tokens {
		wg.Go(func() {
			<-start
			_, err := v.VerifyIDToken(ctx, raw)
			if assert.ErrorIs(t, err, cognito.ErrUnknownKey) {
				unknown.Add(1)
			} else {
				other.Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	close(start)
	if allowNetwork {
		<-done
	} else {
		select {
		case <-done:
		case <-ct.sent:
			cancel() // release whoever went to the network, then fail
			<-done
			t.Fatal("a rejection went to the network during the quiet period")
		}
	}
	require.Zero(t, other.Load())
	return int(unknown.Load())
}

// TestVerifierUnknownKidFlood sends floods of 10,000 tokens with random
// unknown kids: each minimum interval costs at most one refetch, and during
// the quiet period no rejection waits on the network, which is shown by
// making the JWKS endpoint hang: a caller that went to it would never return.
func TestVerifierUnknownKidFlood(t *testing.T) {
	f, ct := faultFixture(t, cognito.WithJWKSFetchTimeout(time.Hour))
	good := f.pool.MintIDToken("alice", cognitotest.WithExpiry(f.clock.Now().Add(24*time.Hour)))
	_, err := f.v.VerifyIDToken(context.Background(), good)
	require.NoError(t, err)
	require.EqualValues(t, 1, ct.n.Load())

	const n = 10000
	rejected := 0
	for interval := range 3 {
		rejected += flood(t, f.v, unknownKidTokens(good, n, uint64(interval)), ct, true)
		assert.EqualValues(t, 1+interval+1, ct.n.Load(), "interval %d: one refetch", interval)
		f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod / 2)
		rejected += flood(t, f.v, unknownKidTokens(good, n, uint64(100+interval)), ct, false)
		assert.EqualValues(t, 1+interval+1, ct.n.Load(), "interval %d: no refetch within the quiet period", interval)
		f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod / 2)
	}
	fetches := ct.n.Load()

	// The structural proof: any fetch from now on hangs for an hour.
	f.clock.Advance(-cognito.DefaultJWKSMinRefetchPeriod / 2) // back inside the last quiet period
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Hang: true})
	rejected += flood(t, f.v, unknownKidTokens(good, n, 999), ct, false)
	assert.Equal(t, fetches, ct.n.Load())
	assert.EqualValues(t, fetches, f.pool.Requests(cognitotest.EndpointJWKS))

	_, err = f.v.VerifyIDToken(context.Background(), good)
	require.NoError(t, err, "known kids keep verifying through the flood")
	assert.Equal(t, 7*n, rejected)
	t.Logf("unknown-kid flood: %d rejections with ErrUnknownKey in all; %d JWKS fetches over 3 minimum intervals (1 initial + %d refetches); "+
		"%d of the rejections while the JWKS endpoint hung, with no request", rejected, fetches, fetches-1, n)
}

func TestVerifierFollowsKeyRotation(t *testing.T) {
	for _, cacheSize := range []int{0, cognito.DefaultTokenCacheSize} {
		t.Run(fmt.Sprintf("token cache %d", cacheSize), func(t *testing.T) {
			f, ct := faultFixture(t, cognito.WithTokenCacheSize(cacheSize))
			ctx := context.Background()
			day := cognitotest.WithExpiry(f.clock.Now().Add(24 * time.Hour))
			oldKid := f.pool.SigningKeyID("id")
			oldToken := f.pool.MintIDToken("alice", day)
			_, err := f.v.VerifyIDToken(ctx, oldToken)
			require.NoError(t, err)

			// A new kid appears: its first token refetches, old tokens still verify.
			f.pool.RotateKeys()
			newToken := f.pool.MintIDToken("alice", day)
			_, err = f.v.VerifyIDToken(ctx, newToken)
			require.NoError(t, err)
			require.EqualValues(t, 2, ct.n.Load())
			_, err = f.v.VerifyIDToken(ctx, oldToken)
			require.NoError(t, err)

			// The old kid disappears: its tokens are refused after the next refresh.
			// (A token the cache has never seen looks up its key, which
			// refreshes the keys once they are older than the interval.)
			require.True(t, f.pool.RetireKey(oldKid))
			f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
			_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", day))
			require.NoError(t, err)
			require.EqualValues(t, 3, ct.n.Load())
			_, err = f.v.VerifyIDToken(ctx, oldToken)
			require.ErrorIs(t, err, cognito.ErrUnknownKey)
			require.EqualValues(t, 4, ct.n.Load(), "the unknown kid refetched once")

			// A kid is reused with other key material: tokens of the old
			// material are refused after the next refresh, the new one's accepted.
			newKid := f.pool.SigningKeyID("id")
			other := f.pool.SigningKey("access")
			reissued := f.pool.MintIDToken("alice", day, cognitotest.WithSigningKey(other))
			_, err = f.v.VerifyIDToken(ctx, reissued)
			require.ErrorIs(t, err, cognito.ErrInvalidSignature, "before the refresh, the kid names the old material")
			f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: jwks(
				jwkJSON(&other.PublicKey, newKid, "RS256", "sig", ""),
				jwkJSON(&other.PublicKey, f.pool.SigningKeyID("access"), "RS256", "sig", ""),
			)})
			f.clock.Advance(cognito.DefaultJWKSRefreshInterval + cognito.DefaultJWKSMinRefetchPeriod)
			_, err = f.v.VerifyIDToken(ctx, reissued)
			require.NoError(t, err)
			_, err = f.v.VerifyIDToken(ctx, newToken)
			require.ErrorIs(t, err, cognito.ErrInvalidSignature, "the old material's token, even if it was cached")
			assert.EqualValues(t, 5, ct.n.Load())
		})
	}
}

// TestCancellationStopsHangingCalls cancels each network call while its
// request is held by the pool: the call returns with context.Canceled
// although the endpoint would never answer.
func TestCancellationStopsHangingCalls(t *testing.T) {
	calls := []struct {
		name string
		ep   cognitotest.Endpoint
		call func(ctx context.Context, v *cognito.Verifier, c *cognito.Client, pool *cognitotest.Server) error
		want error
	}{
		{"VerifyIDToken's first JWKS fetch", cognitotest.EndpointJWKS, func(ctx context.Context, v *cognito.Verifier, _ *cognito.Client, pool *cognitotest.Server) error {
			_, err := v.VerifyIDToken(ctx, pool.MintIDToken("alice"))
			return err
		}, cognito.ErrJWKSUnavailable},
		{"VerifyAccessToken's refetch for a new kid", cognitotest.EndpointJWKS, func(ctx context.Context, v *cognito.Verifier, _ *cognito.Client, pool *cognitotest.Server) error {
			if _, err := v.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice")); err != nil {
				return err
			}
			_, err := v.VerifyAccessToken(ctx, pool.MintAccessToken("alice", cognitotest.WithKeyID("new-kid")))
			return err
		}, cognito.ErrUnknownKey},
		{"ExchangeCode", cognitotest.EndpointToken, func(ctx context.Context, _ *cognito.Verifier, c *cognito.Client, _ *cognitotest.Server) error {
			_, err := c.ExchangeCode(ctx, "code-1", cognito.WithCodeVerifier(cognito.GenerateVerifier()))
			return err
		}, cognito.ErrEndpointUnavailable},
		{"Refresh", cognitotest.EndpointToken, func(ctx context.Context, _ *cognito.Verifier, c *cognito.Client, _ *cognitotest.Server) error {
			_, err := c.Refresh(ctx, "refresh-1")
			return err
		}, cognito.ErrEndpointUnavailable},
		{"Revoke", cognitotest.EndpointRevoke, func(ctx context.Context, _ *cognito.Verifier, c *cognito.Client, _ *cognitotest.Server) error {
			return c.Revoke(ctx, "refresh-1")
		}, cognito.ErrEndpointUnavailable},
		{"UserInfo", cognitotest.EndpointUserInfo, func(ctx context.Context, _ *cognito.Verifier, c *cognito.Client, _ *cognitotest.Server) error {
			_, err := c.UserInfo(ctx, "access-1")
			return err
		}, cognito.ErrEndpointUnavailable},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			hc, ct := countingClient(t)
			// No client timeout: only the context can end the calls.
			f := newPoolFixture(t, cognito.WithHTTPClient(hc), cognito.WithJWKSFetchTimeout(time.Hour))
			c, err := cognito.NewClient(f.cfg, cognito.WithHTTPClient(hc))
			require.NoError(t, err)
			requests := 1
			if tc.want == cognito.ErrUnknownKey {
				f.pool.FailNext(tc.ep, 1, cognitotest.Failure{}) // the warm-up fetch answers normally
				requests = 2
			}
			f.pool.FailNext(tc.ep, 1, cognitotest.Failure{Hang: true})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx, f.v, c, f.pool) }()
			for range requests {
				<-ct.sent // the last is the call's request, on its way to a hanging endpoint
			}
			cancel()
			err = <-done
			require.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, context.Canceled)
		})
	}
}
