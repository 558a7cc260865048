package cognito

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A resolve that starts just as another one of the same issuer ended (the
// caller found nothing, then no resolve under way) answers from what that
// one stored, without asking the resolver again.
func TestTenantSettleAfterAnotherEnded(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const pool, stranger = "https://pool.example/p1", "https://stranger.example/p2"
	calls := map[string]int{}
	tv, err := NewTenantVerifier(func(_ context.Context, iss string) (Config, error) {
		calls[iss]++
		if iss == pool {
			return Config{Issuer: pool, ClientID: "c"}, nil
		}
		return Config{}, ErrInvalidIssuer
	}, WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	ctx := context.Background()

	first, err := tv.settle(ctx, pool)
	require.NoError(t, err)
	again, err := tv.settle(ctx, pool)
	require.NoError(t, err)
	assert.Same(t, first, again)
	assert.Equal(t, 1, calls[pool], "the pool stored a moment ago answers")

	_, err = tv.settle(ctx, stranger)
	require.ErrorIs(t, err, ErrInvalidIssuer)
	_, err = tv.settle(ctx, stranger)
	require.ErrorIs(t, err, ErrInvalidIssuer)
	assert.Equal(t, 1, calls[stranger], "the refusal stored a moment ago answers")

	now = now.Add(DefaultTenantTTL)
	again, err = tv.settle(ctx, pool)
	require.NoError(t, err)
	assert.Same(t, first, again, "the same Config keeps the pool")
	assert.Equal(t, 2, calls[pool], "a pool due for a check is asked about")
}
