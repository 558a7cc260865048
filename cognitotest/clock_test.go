package cognitotest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	clk := cognitotest.NewClock(start)
	assert.Equal(t, start, clk.Now())
	assert.Equal(t, clk.Now(), clk.Now(), "time stands still between moves")

	for _, tt := range []struct {
		name string
		move func()
		want time.Time
	}{
		{"forward", func() { clk.Advance(90 * time.Minute) }, start.Add(90 * time.Minute)},
		{"forward again, from where it was", func() { clk.Advance(time.Second) }, start.Add(90*time.Minute + time.Second)},
		{"back", func() { clk.Advance(-2 * time.Hour) }, start.Add(-29*time.Minute - 59*time.Second)},
		{"set", func() { clk.Set(start.AddDate(1, 0, 0)) }, start.AddDate(1, 0, 0)},
		{"set into the past", func() { clk.Set(start) }, start},
		{"by zero", func() { clk.Advance(0) }, start},
	} {
		tt.move()
		assert.Equal(t, tt.want, clk.Now(), tt.name)
	}
}

func TestClockConcurrentUse(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := cognitotest.NewClock(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				clk.Advance(time.Second)
			}
		})
		wg.Go(func() {
			last := clk.Now()
			for range 100 {
				now := clk.Now()
				assert.False(t, now.Before(last), "only Advance moves it, forward")
				last = now
			}
		})
	}
	wg.Wait()
	assert.Equal(t, start.Add(800*time.Second), clk.Now(), "no Advance was lost")
}

// TestClockSharedByPoolAndLibrary moves one Clock that the pool and the
// Verifier share: a token the pool dates by it expires for the Verifier
// when the test says so, with no sleep.
func TestClockSharedByPoolAndLibrary(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithClock(clk.Now))
	require.NoError(t, err)
	issued := clk.Now()
	tok := pool.MintIDToken("alice")

	id, err := v.VerifyIDToken(t.Context(), tok)
	require.NoError(t, err)
	assert.True(t, issued.Equal(id.IssuedAt), "the pool dates the token by the clock: iat %v", id.IssuedAt)
	assert.True(t, issued.Add(cognitotest.DefaultTokenLifetime).Equal(id.Expiry), "exp %v", id.Expiry)

	clk.Advance(cognitotest.DefaultTokenLifetime - time.Second)
	_, err = v.VerifyIDToken(t.Context(), tok)
	assert.NoError(t, err, "one second before exp")
	clk.Advance(time.Second)
	_, err = v.VerifyIDToken(t.Context(), tok)
	assert.ErrorIs(t, err, cognito.ErrTokenExpired, "at exp, for the Verifier")

	clk.Set(issued)
	_, err = v.VerifyIDToken(t.Context(), tok)
	assert.NoError(t, err, "set back: valid again")
}
