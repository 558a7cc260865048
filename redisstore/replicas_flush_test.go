package redisstore_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// TestReplicasOneFailedWriteLosesNothing: A spends the rotating refresh
// token (under its refresh lease, with redisstore) and Redis refuses the
// one write of the tokens it brought, as a Redis at maxmemory does. Once
// Redis takes writes again, A's flusher stores those tokens with no request
// to A, and B, asked once the tokens have expired, serves them: nothing is
// lost, with or without Lease. The test waits for A's flusher on Redis's
// keyspace notification of that write, not on a clock.
//
//	scripts/redis run -- go test -race -run Replicas ./redisstore
func TestReplicasOneFailedWriteLosesNothing(t *testing.T) {
	for _, kind := range replicaStores {
		for _, tc := range []struct {
			name    string
			advance time.Duration
			status  int // A's answer to the request whose write failed
		}{
			{"tokens still valid at the failed write", 56 * time.Minute, http.StatusOK},
			{"tokens expired at the failed write", 61 * time.Minute, http.StatusServiceUnavailable},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				p := startPair(t, kind.open, cognito.WithRefreshRaceWait(0))
				admin := redis.NewClient(&redis.Options{Addr: p.redis.Addr()})
				defer admin.Close()
				ctx := context.Background()
				stored := sessionWrites(t, admin)
				p.clk.Advance(tc.advance)

				waiting, open := p.gateA.hold()
				defer open()
				aDone := make(chan answer, 1)
				go func() {
					a, _, err := p.browser.page(p.a)
					assert.NoError(t, err)
					aDone <- a
				}()
				await(t, waiting, "A's write of the refreshed tokens") // A spent the refresh token
				require.NoError(t, admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
				require.NoError(t, admin.ConfigSet(ctx, "maxmemory", "1").Err())
				open()
				onA := await(t, aDone, "A's answer")
				assert.Equal(t, tc.status, onA.status, onA.body)
				assert.False(t, sessionCookieDeleted(onA), "A keeps the session")
				require.NoError(t, admin.ConfigSet(ctx, "maxmemory", "0").Err())

				await(t, stored, "A's flusher's write of the refreshed tokens")
				p.clk.Advance(5 * time.Minute) // the tokens A served at the failed write have expired
				fresh := p.browser.mustPage(p.b).AccessToken
				assert.NotEqual(t, p.tokens, fresh, "B serves the refreshed tokens")
				assert.Equal(t, fresh, p.browser.mustPage(p.a).AccessToken, "one set of tokens on both replicas")
				assert.Equal(t, int64(1), p.a.tokens.n.Load(), "A refreshed once")
				assert.Zero(t, p.b.tokens.n.Load(), "B spent no refresh token")
				assert.Equal(t, 1, p.signIns(), "no new sign-in")
			})
		}
	}
}

// sessionWrites subscribes to Redis's keyspace notifications of writes to
// session keys, and returns a channel closed at the first one from now on.
func sessionWrites(t *testing.T, admin *redis.Client) <-chan struct{} {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, admin.ConfigSet(ctx, "notify-keyspace-events", "K$").Err())
	sub := admin.PSubscribe(ctx, "__keyspace@*__:*cognito-session:*")
	t.Cleanup(func() { _ = sub.Close() })
	_, err := sub.Receive(ctx) // the subscription is in
	require.NoError(t, err)
	written := make(chan struct{})
	go func() {
		for msg := range sub.Channel() {
			if msg.Payload == "set" {
				close(written)
				return
			}
		}
	}()
	return written
}
