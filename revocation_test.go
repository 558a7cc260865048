package cognito_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

func TestRevocationListByJTI(t *testing.T) {
	pf := newPoolFixture(t)
	list := &cognito.MemoryStore{Now: pf.clock.Now}
	v, err := cognito.NewVerifier(pf.cfg, cognito.WithClock(pf.clock.Now), cognito.WithRevocationList(list))
	require.NoError(t, err)
	tok := pf.pool.MintAccessToken("alice", cognitotest.WithClaim("origin_jti", nil), cognitotest.WithClaim("jti", "jti-1"))
	_, err = v.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err)
	require.NoError(t, list.Commit("cognito-revoked:jti:jti-1", []byte{1}, pf.clock.Now().Add(time.Hour)))
	_, err = v.VerifyAccessToken(context.Background(), tok)
	assert.ErrorIs(t, err, cognito.ErrTokenRevoked)

	noIDs := pf.pool.MintAccessToken("alice", cognitotest.WithClaim("origin_jti", nil), cognitotest.WithClaim("jti", nil))
	_, err = v.VerifyAccessToken(context.Background(), noIDs)
	assert.NoError(t, err, "a token with neither claim cannot be listed")
}

// BenchmarkRevocationCheck measures what WithRevocationList adds to a
// verification served from the verified-token cache, with a MemoryStore:
// one Find per verify.
// deadlineStore is a ctx store over a MemoryStore that records the
// deadline of the context each FindCtx got.
type deadlineStore struct {
	*cognito.MemoryStore
	mu        sync.Mutex
	deadlines []time.Time // zero for a context without one
}

func (s *deadlineStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	d, _ := ctx.Deadline()
	s.mu.Lock()
	s.deadlines = append(s.deadlines, d)
	s.mu.Unlock()
	return s.Find(id)
}

func TestRevocationListCallsAreBounded(t *testing.T) {
	pf := newPoolFixture(t)
	list := &deadlineStore{MemoryStore: &cognito.MemoryStore{Now: pf.clock.Now}}
	v, err := cognito.NewVerifier(pf.cfg, cognito.WithClock(pf.clock.Now), cognito.WithRevocationList(list))
	require.NoError(t, err)
	tok := pf.pool.MintAccessToken("alice")
	for range 2 { // a full verification, then a cache hit
		start := time.Now()
		_, err = v.VerifyAccessToken(context.Background(), tok) // a request's context has no deadline
		require.NoError(t, err)
		list.mu.Lock()
		d := list.deadlines[len(list.deadlines)-1]
		list.mu.Unlock()
		require.False(t, d.IsZero(), "a store that stalls would hold the request for good")
		assert.False(t, d.After(start.Add(cognito.DefaultStoreTimeout+time.Minute)), "bounded by the store timeout")
	}
}

func BenchmarkRevocationCheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []cognito.Option
	}{
		{"without list", nil},
		{"MemoryStore list", []cognito.Option{cognito.WithRevocationList(cognito.NewMemoryStore())}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pool := cognitotest.NewServer(b)
			v, err := cognito.NewVerifier(pool.Config(), tc.opts...)
			require.NoError(b, err)
			tok := pool.MintAccessToken("alice")
			ctx := context.Background()
			_, err = v.VerifyAccessToken(ctx, tok)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
