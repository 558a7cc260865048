package redisstore_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/redisstore"
)

// One M2M token for a fleet whose replicas share a real Redis through
// cognito.WithTokenStore: each replica is a Client with its own connection.
//
//	scripts/redis run -- go test -race -run TokenStore ./redisstore

// m2mFleet is a fake pool with an M2M client, on a clock that starts at the
// wall clock's time (Redis expires entries by its own) and only moves on.
type m2mFleet struct {
	pool  *cognitotest.Server
	clock *cognitotest.Clock
	m2m   cognitotest.AppClient
}

func newM2MFleet(t *testing.T) *m2mFleet {
	t.Helper()
	clk := newClock(time.Now())
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	m2m, err := pool.AddClient(cognitotest.AppClient{ClientID: "orderssvc", Scopes: []string{"orders/read"}})
	require.NoError(t, err)
	return &m2mFleet{pool: pool, clock: clk, m2m: m2m}
}

func (f *m2mFleet) source(t *testing.T, store cognito.SessionStore, opts ...cognito.Option) oauth2.TokenSource {
	t.Helper()
	c, err := cognito.NewClient(f.pool.ClientConfig(f.m2m),
		append([]cognito.Option{cognito.WithClock(f.clock.Now), cognito.WithTokenStore(store)}, opts...)...)
	require.NoError(t, err)
	return c.TokenSource("orders/read")
}

func (f *m2mFleet) requests() int { return f.pool.Requests(cognitotest.EndpointToken) }

// openReplicaStore opens a Store of its own on the test Redis under prefix.
func openReplicaStore(t *testing.T, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(redisURL(t), redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// tokensOf has goroutines callers of every source ask for a token at once,
// and returns the distinct access tokens they got.
func tokensOf(t *testing.T, sources []oauth2.TokenSource, goroutines int) []string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for _, ts := range sources {
		for range goroutines {
			wg.Go(func() {
				tok, err := ts.Token()
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				seen[tok.AccessToken] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	var out []string
	for tok := range seen {
		out = append(out, tok)
	}
	return out
}

func TestTokenStoreOneRequestForTheFleetOnRedis(t *testing.T) {
	f := newM2MFleet(t)
	prefix := "test:" + randomID(t) + ":"
	var sources []oauth2.TokenSource
	for range 4 {
		sources = append(sources, f.source(t, openReplicaStore(t, prefix)))
	}

	first := tokensOf(t, sources, 100)
	assert.Equal(t, 1, f.requests(), "4 replicas x 100 goroutines, one token request")
	require.Len(t, first, 1)

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2) // inside the margin
	tokensOf(t, sources, 100)
	assert.Equal(t, 2, f.requests(), "one renewal for the fleet")

	f.clock.Advance(10 * time.Second) // the replicas that did not renew look again
	tokensOf(t, sources, 1)
	after := tokensOf(t, sources, 100)
	require.Len(t, after, 1, "every replica has the renewed token")
	assert.NotEqual(t, first[0], after[0])

	tok, err := f.source(t, openReplicaStore(t, prefix)).Token()
	require.NoError(t, err)
	assert.Equal(t, after[0], tok.AccessToken, "a replica started later takes the fleet's token")
	assert.Equal(t, 2, f.requests(), "and makes no request")

	// What Redis holds: a sealed entry, and no lease left behind.
	raw := rawClient(t)
	keys, err := raw.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1, "the token's entry alone: the lease was let go")
	assert.True(t, strings.HasPrefix(keys[0], prefix+"cognito-m2m:"), keys[0])
	data, err := raw.Get(context.Background(), keys[0]).Bytes()
	require.NoError(t, err)
	for _, clear := range []string{tok.AccessToken, strings.Split(tok.AccessToken, ".")[1], f.m2m.ClientSecret, "orders/read"} {
		assert.NotContains(t, string(data), clear, "the entry is sealed")
		assert.NotContains(t, keys[0], clear)
	}
	ttl, err := raw.PTTL(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Until(tok.Expiry).Seconds(), ttl.Seconds(), 10, "the entry expires with its token")
}

func TestTokenStoreOnAnSCSStoreWithoutLease(t *testing.T) {
	f := newM2MFleet(t)
	o, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	prefix := "test:" + randomID(t) + ":"
	var sources []oauth2.TokenSource
	for range 4 {
		c := redis.NewClient(o)
		t.Cleanup(func() { c.Close() })
		sources = append(sources, f.source(t, goredisstore.NewWithPrefix(c, prefix)))
	}

	tokensOf(t, sources, 100)
	n := f.requests()
	assert.True(t, n >= 1 && n <= 4, "at most one request per replica, made %d", n)
	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
	tokensOf(t, sources, 100)
	renewals := f.requests() - n
	assert.True(t, renewals >= 1 && renewals <= 4, "at most one renewal per replica, made %d", renewals)
}

// downRedis is a loopback address where nothing listens.
func downRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "redis://" + addr + "/0"
}

func TestTokenStoreRedisDownStillYieldsTokens(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(*testing.T) string
	}{
		{"refused", downRedis},
		{"stalled", stalledRedis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newM2MFleet(t)
			var sources []oauth2.TokenSource
			for range 2 {
				s, err := redisstore.Open(tc.url(t))
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				// The store's calls get no longer than a token request.
				sources = append(sources, f.source(t, s, cognito.WithHTTPClient(&http.Client{Timeout: 500 * time.Millisecond})))
			}
			got := tokensOf(t, sources, 10)
			assert.Len(t, got, 2, "each replica its own token")
			assert.Equal(t, 2, f.requests(), "a store that is down costs requests, never tokens")
		})
	}
}

func rawClient(t *testing.T) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkTokenSourceCached is a cached Token(): the process's own source
// beside sources sharing the token through a MemoryStore and through Redis.
// The store is read only at the renew point, so a cached Token() should cost
// the same with each.
//
//	scripts/redis run -- sh -c 'cd redisstore && go test -run "^$" -bench TokenSourceCached -benchmem'
func BenchmarkTokenSourceCached(b *testing.B) {
	stores := map[string]func() cognito.SessionStore{
		"in-process":   func() cognito.SessionStore { return nil },
		"memory-store": func() cognito.SessionStore { return cognito.NewMemoryStore() },
		"redis-store": func() cognito.SessionStore {
			s, err := redisstore.Open(redisURL(b), redisstore.WithPrefix("bench:"+randomID(b)+":"))
			require.NoError(b, err)
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
	for _, name := range []string{"in-process", "memory-store", "redis-store"} {
		b.Run(name, func(b *testing.B) {
			pool := cognitotest.NewServer(b)
			m2m, err := pool.AddClient(cognitotest.AppClient{Scopes: []string{"orders/read"}})
			require.NoError(b, err)
			var opts []cognito.Option
			if store := stores[name](); store != nil {
				opts = append(opts, cognito.WithTokenStore(store))
			}
			client, err := cognito.NewClient(pool.ClientConfig(m2m), opts...)
			require.NoError(b, err)
			ts := client.TokenSource("orders/read")
			_, err = ts.Token()
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ts.Token(); err != nil {
					b.Fatal(err)
				}
			}
			require.Equal(b, 1, pool.Requests(cognitotest.EndpointToken))
		})
	}
}
