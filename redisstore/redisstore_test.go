package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/redisstore"
)

// scsStore is scs's Store and CtxStore method sets, which cognito.Sessions
// looks for.
type scsStore interface {
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
	Delete(token string) error
	FindCtx(ctx context.Context, token string) ([]byte, bool, error)
	CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error
	DeleteCtx(ctx context.Context, token string) error
}

var _ scsStore = (*redisstore.Store)(nil)

// randomID is a fresh 32-hex-digit ID, for prefixes and session IDs.
func randomID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// testStore returns a Store on the test Redis with a prefix of the test's
// own, and a raw client on the same Redis to look behind it.
func testStore(t testing.TB, opts ...redisstore.Option) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	u := redisURL(t)
	prefix := "test:" + randomID(t) + ":"
	store, err := redisstore.Open(u, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	o, err := redis.ParseURL(u)
	require.NoError(t, err)
	raw := redis.NewClient(o)
	t.Cleanup(func() { raw.Close() })
	t.Cleanup(func() {
		// Leave nothing behind on a shared server.
		keys, _ := raw.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			raw.Del(context.Background(), keys...)
		}
	})
	return store, raw, prefix
}

func TestStoreRoundTrip(t *testing.T) {
	store, raw, prefix := testStore(t)
	ctx := context.Background()
	id := randomID(t)
	data := []byte{0, 1, 0xff, 0xfe, '\n', 'x'} // binary, not UTF-8
	expiry := time.Now().Add(time.Hour).Truncate(time.Millisecond)

	got, found, err := store.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.False(t, found, "nothing committed yet")
	assert.Nil(t, got)

	require.NoError(t, store.CommitCtx(ctx, id, data, expiry))
	got, found, err = store.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, data, got)

	// The entry is under the prefix, and Redis expires it at expiry itself.
	stored, err := raw.Get(ctx, prefix+id).Bytes()
	require.NoError(t, err)
	assert.Equal(t, data, stored)
	at, err := raw.PExpireTime(ctx, prefix+id).Result()
	require.NoError(t, err)
	assert.Equal(t, expiry.UnixMilli(), at.Milliseconds())

	// A second Commit replaces the data and the expiry.
	later := expiry.Add(time.Hour)
	require.NoError(t, store.CommitCtx(ctx, id, []byte("second"), later))
	got, found, err = store.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("second"), got)
	at, err = raw.PExpireTime(ctx, prefix+id).Result()
	require.NoError(t, err)
	assert.Equal(t, later.UnixMilli(), at.Milliseconds())

	require.NoError(t, store.DeleteCtx(ctx, id))
	_, found, err = store.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.False(t, found, "deleted")
	n, err := raw.Exists(ctx, prefix+id).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the key is gone from Redis")

	assert.NoError(t, store.DeleteCtx(ctx, id), "deleting a missing ID is no error")
}

func TestStoreWithoutContext(t *testing.T) {
	store, _, _ := testStore(t)
	id := randomID(t)
	require.NoError(t, store.Commit(id, []byte("data"), time.Now().Add(time.Minute)))
	got, found, err := store.Find(id)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("data"), got)
	require.NoError(t, store.Delete(id))
	_, found, err = store.Find(id)
	require.NoError(t, err)
	assert.False(t, found)
}

func TestStoreExpiryInThePast(t *testing.T) {
	for name, expiry := range map[string]time.Time{
		"a second ago":      time.Now().Add(-time.Second),
		"the zero time":     {},
		"before the epoch":  time.Unix(-1000, 0),
		"at the epoch":      time.Unix(0, 0),
		"a millisecond ago": time.Now().Add(-time.Millisecond),
	} {
		t.Run(name, func(t *testing.T) {
			store, raw, prefix := testStore(t)
			ctx := context.Background()
			id := randomID(t)
			// An entry already there is replaced by nothing: its expiry is past.
			require.NoError(t, store.CommitCtx(ctx, id, []byte("old"), time.Now().Add(time.Hour)))
			require.NoError(t, store.CommitCtx(ctx, id, []byte("new"), expiry))
			_, found, err := store.FindCtx(ctx, id)
			require.NoError(t, err)
			assert.False(t, found, "an entry committed with a past expiry is not found")
			n, err := raw.Exists(ctx, prefix+id).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "and is not kept")
		})
	}
}

func TestStorePrefixesKeepStoresApart(t *testing.T) {
	a, raw, prefix := testStore(t)
	b, _, _ := testStore(t)
	ctx := context.Background()
	id := randomID(t)
	require.NoError(t, a.CommitCtx(ctx, id, []byte("a"), time.Now().Add(time.Minute)))
	_, found, err := b.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.False(t, found, "another prefix's entry")
	require.NoError(t, b.DeleteCtx(ctx, id))
	got, found, err := a.FindCtx(ctx, id)
	require.NoError(t, err)
	assert.True(t, found, "a Delete under another prefix leaves the entry alone")
	assert.Equal(t, []byte("a"), got)

	n, err := raw.Exists(ctx, id).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "no key without the prefix")
	n, err = raw.Exists(ctx, prefix+id).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func TestStoreDefaultPrefix(t *testing.T) {
	u := redisURL(t)
	store, err := redisstore.Open(u)
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	id := "test-default-prefix-" + randomID(t)
	require.NoError(t, store.CommitCtx(ctx, id, []byte("x"), time.Now().Add(time.Minute)))
	defer store.DeleteCtx(ctx, id) //nolint:errcheck
	got, err := store.Client().Get(ctx, redisstore.DefaultPrefix+id).Bytes()
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), got)
	assert.Equal(t, "cognito:", redisstore.DefaultPrefix)
}

func TestStoreConcurrentUse(t *testing.T) {
	store, _, _ := testStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			id := randomID(t)
			data := []byte{byte(i)}
			assert.NoError(t, store.CommitCtx(ctx, id, data, time.Now().Add(time.Minute)))
			got, found, err := store.FindCtx(ctx, id)
			assert.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, data, got)
			assert.NoError(t, store.DeleteCtx(ctx, id))
		})
	}
	wg.Wait()
}

// secretID looks like a session ID: no error may quote it.
const secretID = "sess-8Zr2Qm4x1VtY0pLk3Nw7Hs9Jd6Fc5Ba"

func TestStoreContextEndsTheCall(t *testing.T) {
	store, _, _ := testStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := store.FindCtx(ctx, secretID)
	assertUnavailable(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	err = store.CommitCtx(ctx, secretID, []byte("x"), time.Now().Add(time.Minute))
	assertUnavailable(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	err = store.DeleteCtx(ctx, secretID)
	assertUnavailable(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, redisstore.ErrUnavailable)
	assert.NotContains(t, err.Error(), secretID)
	assert.Contains(t, err.Error(), "redisstore: ")
}

// stalledRedis accepts connections and never answers, as a Redis that hangs.
func stalledRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0"
}

func TestStoreTimeoutBoundsAStalledRedis(t *testing.T) {
	// The store's timeout is far below the client's read timeout (1 s) and
	// the test's: the call must end by the store's own bound, as a
	// DeadlineExceeded, not by the client's.
	store, err := redisstore.Open(stalledRedis(t), redisstore.WithTimeout(50*time.Millisecond))
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()

	_, _, err = store.FindCtx(ctx, secretID)
	assertUnavailable(t, err)
	assert.True(t, isTimeout(err), "a timeout: %v", err)
	err = store.CommitCtx(ctx, secretID, []byte("x"), time.Now().Add(time.Minute))
	assertUnavailable(t, err)
	err = store.DeleteCtx(ctx, secretID)
	assertUnavailable(t, err)
}

func TestStoreRequestDeadlineBoundsAStalledRedis(t *testing.T) {
	store, err := redisstore.Open(stalledRedis(t), redisstore.WithTimeout(time.Hour))
	require.NoError(t, err)
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err = store.FindCtx(ctx, secretID)
	assertUnavailable(t, err)
	assert.True(t, isTimeout(err), "a timeout: %v", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func TestStoreRedisDown(t *testing.T) {
	// A port nothing listens on: connections are refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	store, err := redisstore.Open("redis://"+addr+"/0", redisstore.WithTimeout(5*time.Second))
	require.NoError(t, err)
	defer store.Close()
	_, _, err = store.Find(secretID)
	assertUnavailable(t, err)
	assertUnavailable(t, store.Commit(secretID, []byte("x"), time.Now().Add(time.Minute)))
	assertUnavailable(t, store.Delete(secretID))
	_, err = store.Lease(context.Background(), secretID, []byte("x"), time.Now().Add(time.Minute))
	assertUnavailable(t, err)
}

func TestOpen(t *testing.T) {
	for name, raw := range map[string]string{
		"not a URL":      "::not a url",
		"another scheme": "http://user:hunter2-secret@127.0.0.1:6379",
		"bad port":       "redis://user:hunter2-secret@127.0.0.1:port/0",
		"bad database":   "redis://user:hunter2-secret@127.0.0.1:6379/db",
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.Open(raw)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.NotContains(t, err.Error(), "hunter2", "the password stays out of the error")
			assert.Contains(t, err.Error(), "redisstore: ")
		})
	}
	s, err := redisstore.Open("redis://user:pw@127.0.0.1:1/3?dial_timeout=3s")
	require.NoError(t, err, "Open does no network I/O")
	o := s.Client().(*redis.Client).Options()
	assert.True(t, o.ContextTimeoutEnabled, "the client honours each call's context")
	assert.Equal(t, 3*time.Second, o.DialTimeout, "the URL's settings win")
	assert.Equal(t, time.Second, o.ReadTimeout)
	assert.Equal(t, time.Second, o.WriteTimeout)
	assert.Equal(t, 3, o.DB)
	assert.Equal(t, 1, o.MaxRetries)
	assert.Equal(t, 1, o.DialerRetries)
	require.NoError(t, s.Close())

	s, err = redisstore.Open("redis://127.0.0.1:1/0?read_timeout=2s&write_timeout=4s&max_retries=3")
	require.NoError(t, err)
	o = s.Client().(*redis.Client).Options()
	assert.Equal(t, 2*time.Second, o.ReadTimeout, "the URL's settings win")
	assert.Equal(t, 4*time.Second, o.WriteTimeout, "the URL's settings win")
	assert.Equal(t, 3, o.MaxRetries, "the URL's settings win")
	require.NoError(t, s.Close())
}

func TestClose(t *testing.T) {
	u := redisURL(t)
	ctx := context.Background()

	opened, err := redisstore.Open(u)
	require.NoError(t, err)
	require.NoError(t, opened.Close())
	_, _, err = opened.FindCtx(ctx, randomID(t))
	assert.ErrorIs(t, err, redis.ErrClosed, "Open's client is closed with the store")

	o, err := redis.ParseURL(u)
	require.NoError(t, err)
	client := redis.NewClient(o)
	defer client.Close()
	store := redisstore.New(client, redisstore.WithPrefix("test:"+randomID(t)+":"))
	require.NoError(t, store.Close())
	_, _, err = store.FindCtx(ctx, randomID(t))
	assert.NoError(t, err, "New's client is the caller's: Close leaves it open")
	assert.Same(t, client, store.Client())
}

func TestStoreLease(t *testing.T) {
	ctx := context.Background()
	store, raw, prefix := testStore(t)
	var _ cognito.LeaseStore = store
	id := randomID(t)

	got, err := store.Lease(ctx, id, []byte("first"), time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, got, "an empty key is leased")
	got, err = store.Lease(ctx, id, []byte("second"), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, got, "a live lease is not taken again")
	data, found, err := store.FindCtx(ctx, id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "first", string(data), "a refused lease leaves the holder's data")
	ttl, err := raw.PTTL(ctx, prefix+id).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Seconds(), ttl.Seconds(), 5, "the lease expires with its first expiry")

	require.NoError(t, store.DeleteCtx(ctx, id))
	got, err = store.Lease(ctx, id, []byte("third"), time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, got, "Delete ends a lease")

	got, err = store.Lease(ctx, randomID(t), []byte("x"), time.Now().Add(-time.Second))
	require.NoError(t, err)
	assert.False(t, got, "an expiry in the past takes no lease")
}

func TestStoreLeaseHasOneWinner(t *testing.T) {
	store, _, _ := testStore(t)
	id := randomID(t)
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 20 {
		wg.Go(func() {
			ok, err := store.Lease(context.Background(), id, []byte("x"), time.Now().Add(time.Minute))
			assert.NoError(t, err)
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}

// deadlineHook records, for each command a client sends, how long its
// context had left.
type deadlineHook struct {
	mu   sync.Mutex
	left map[string][]time.Duration // by command name
}

func (h *deadlineHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *deadlineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *deadlineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		left := time.Duration(-1) // no deadline
		if d, ok := ctx.Deadline(); ok {
			left = time.Until(d)
		}
		h.mu.Lock()
		if h.left == nil {
			h.left = map[string][]time.Duration{}
		}
		name := cmd.Name()
		if name == "set" && len(cmd.Args()) > 4 && cmd.Args()[3] == "nx" {
			name = "set nx"
		}
		h.left[name] = append(h.left[name], left)
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

// TestStoreTimeoutOption: every call (Find, Commit, Delete, Lease) is
// bounded by the Store's timeout even when the caller's context has no
// deadline; a timeout that is not positive keeps DefaultTimeout, and a nil
// option is skipped.
func TestStoreTimeoutOption(t *testing.T) {
	u := redisURL(t)
	for _, tc := range []struct {
		name     string
		opt      redisstore.Option
		min, max time.Duration // of the time each call has left
	}{
		{"a minute", redisstore.WithTimeout(time.Minute), redisstore.DefaultTimeout, time.Minute},
		{"zero keeps the default", redisstore.WithTimeout(0), 0, redisstore.DefaultTimeout},
		{"negative keeps the default", redisstore.WithTimeout(-time.Second), 0, redisstore.DefaultTimeout},
		{"a nil option", nil, 0, redisstore.DefaultTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := redis.ParseURL(u)
			require.NoError(t, err)
			client := redis.NewClient(o)
			defer client.Close()
			hook := &deadlineHook{}
			client.AddHook(hook)
			prefix := "test:" + randomID(t) + ":"
			store := redisstore.New(client, redisstore.WithPrefix(prefix), tc.opt)
			ctx := context.Background()
			id := randomID(t)

			require.NoError(t, store.CommitCtx(ctx, id, []byte("x"), time.Now().Add(time.Minute)))
			_, found, err := store.FindCtx(ctx, id)
			require.NoError(t, err)
			assert.True(t, found, "under the prefix")
			held, err := store.Lease(ctx, id+"-lease", []byte("x"), time.Now().Add(time.Minute))
			require.NoError(t, err)
			assert.True(t, held)
			require.NoError(t, store.DeleteCtx(ctx, id))
			require.NoError(t, store.DeleteCtx(ctx, id+"-lease"))

			hook.mu.Lock()
			defer hook.mu.Unlock()
			for _, name := range []string{"set", "get", "set nx", "del"} {
				require.NotEmpty(t, hook.left[name], name)
				for _, left := range hook.left[name] {
					assert.Greater(t, left, tc.min, "%s: the time left", name)
					assert.LessOrEqual(t, left, tc.max, "%s: the time left", name)
				}
			}
		})
	}
}

// TestStoreLeaseExpiringNow: a lease whose expiry is the present
// millisecond is not taken, as one in the past is not: by the time Redis
// saw it, it would be over.
func TestStoreLeaseExpiringNow(t *testing.T) {
	store, raw, prefix := testStore(t)
	ctx := context.Background()
	for range 3 {
		id := randomID(t)
		got, err := store.Lease(ctx, id, []byte("x"), time.Now().Truncate(time.Millisecond))
		require.NoError(t, err)
		assert.False(t, got, "no lease")
		n, err := raw.Exists(ctx, prefix+id).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "nothing stored")
	}
}
