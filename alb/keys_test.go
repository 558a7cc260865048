package alb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb/albtest"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// blockUntil answers nothing until release is closed or the request ends.
func blockUntil(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}

func status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func TestKeyFetchesAreShared(t *testing.T) {
	f := newFixture(t)
	res, err := f.lb.Client().Get(f.lb.URL() + "/" + f.lb.KeyID())
	require.NoError(t, err)
	pemKey, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()

	release := make(chan struct{})
	var once, releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // before the key server closes
	arrived := make(chan struct{})
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		_, _ = w.Write(pemKey)
	}))
	data := f.lb.Mint("sub-1")
	const callers = 20
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := f.v.Verify(context.Background(), data)
			errs <- err
		}()
	}
	select {
	case <-arrived:
	case err := <-errs:
		t.Fatalf("a caller returned before the key was fetched: %v", err)
	}
	releaseAll()
	for range callers {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, 1+1, f.lb.Requests(), "twenty callers, one fetch (after the test's own)")
}

func TestAMadeUpKidHoldsBackOnlyItself(t *testing.T) {
	f := newFixture(t)
	const callers = 50
	madeUp := randomUUID()
	errs := make(chan error, callers)
	for range callers {
		data := f.lb.Mint("sub-1", albtest.WithHeader("kid", madeUp))
		go func() {
			_, err := f.v.Verify(context.Background(), data)
			errs <- err
		}()
	}
	for range callers {
		requireOnly(t, <-errs, cognito.ErrUnknownKey)
	}
	assert.Equal(t, 1, f.lb.Requests(), "fifty callers of one unknown kid, one fetch")

	f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod - time.Nanosecond)
	_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1", albtest.WithHeader("kid", madeUp)))
	requireOnly(t, err, cognito.ErrUnknownKey)
	assert.Equal(t, 1, f.lb.Requests(), "the key server is not asked again for that kid within the interval")

	_, err = f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
	require.NoError(t, err, "a real new kid is fetched at once, made-up kids or not")
	assert.Equal(t, 2, f.lb.Requests())

	f.clock.Advance(time.Nanosecond)
	_, err = f.v.Verify(context.Background(), f.lb.Mint("sub-1", albtest.WithHeader("kid", madeUp)))
	requireOnly(t, err, cognito.ErrUnknownKey)
	assert.Equal(t, 3, f.lb.Requests(), "asked again once the interval is over")
}

// TestAFloodOfMadeUpKidsDoesNotHoldBackARotatedKey: sixty-four made-up kids
// at once fill the queue (sixteen kids, maxFlights) and the rest are refused
// at once. The queued kids are downloaded one at a time, each refused by the
// key server, each with the whole fetch timeout counted from the moment its
// download begins (counted from when its kid joined the queue, a long queue
// would time the last ones out), and none of them starts the quiet period:
// the load balancer's rotated key verifies right after. The key server
// answers each download when the test lets it, never after a delay, so the
// test neither waits on a clock nor races one.
func TestAFloodOfMadeUpKidsDoesNotHoldBackARotatedKey(t *testing.T) {
	const (
		flood   = 64
		queued  = 16 // maxFlights
		timeout = time.Minute
	)
	f := newFixture(t)
	transport := f.lb.Client().Transport
	var mu sync.Mutex
	var deadlines []time.Time // of each download, in order
	recording := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		deadline, _ := r.Context().Deadline()
		mu.Lock()
		deadlines = append(deadlines, deadline)
		mu.Unlock()
		return transport.RoundTrip(r)
	})}
	v := newVerifierFor(t, f.lb.Config(), f.lb, f.clock, cognito.WithHTTPClient(recording), cognito.WithJWKSFetchTimeout(timeout))

	// Each download's release, as it reaches the key server; stop ends the
	// downloads left when the test does, before the key server closes.
	arrived, stop := make(chan chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop) })
	var inFlight, maxInFlight atomic.Int32
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		release := make(chan struct{})
		select {
		case arrived <- release:
		case <-stop:
			return
		}
		select {
		case <-release:
		case <-stop:
			return
		}
		http.NotFound(w, r)
	}))
	errs := make(chan error, flood)
	for range flood {
		data := f.lb.Mint("sub-1", albtest.WithHeader("kid", randomUUID()))
		go func() {
			_, err := v.Verify(context.Background(), data)
			errs <- err
		}()
	}
	// No download is answered yet: the kids beyond the queue are refused.
	for range flood - queued {
		requireOnly(t, <-errs, cognito.ErrJWKSUnavailable)
	}
	var released []time.Time // when the test let each download be answered
	for answered := 0; answered < queued; {
		select {
		case release := <-arrived:
			released = append(released, time.Now())
			close(release)
		case err := <-errs:
			requireOnly(t, err, cognito.ErrUnknownKey) // the key server has no such key
			answered++
		}
	}
	assert.Equal(t, int32(1), maxInFlight.Load(), "one download at a time")
	assert.Equal(t, queued, f.lb.Requests(), "a download for each queued kid, none for those refused")
	mu.Lock()
	began := slices.Clone(deadlines)
	mu.Unlock()
	require.Len(t, began, queued)
	for i := 1; i < queued; i++ {
		assert.False(t, began[i].Add(-timeout).Before(released[i-1]),
			"download %d has the whole timeout from when it began, after download %d was answered", i+1, i)
	}

	f.lb.SetHandler(nil)
	f.lb.RotateKey()
	_, err := v.Verify(context.Background(), f.lb.Mint("sub-1"))
	require.NoError(t, err, "the rotated key is fetched at once: no made-up kid started the quiet period")
}

// TestACallerThatGivesUpLeavesTheQueue: a caller whose context ends while its
// kid waits for the download slot returns at once, and when no one else
// wants that kid, its fetch never reaches the key server.
func TestACallerThatGivesUpLeavesTheQueue(t *testing.T) {
	f := newFixture(t)
	k := pemOf(t, f)
	slow, gaveUp := randomUUID(), randomUUID()
	release, arrived := make(chan struct{}), make(chan struct{})
	var gaveUpAsked atomic.Int32
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + slow:
			close(arrived)
			<-release
			http.NotFound(w, r)
		case "/" + gaveUp:
			gaveUpAsked.Add(1)
			http.NotFound(w, r)
		default:
			_, _ = w.Write(k)
		}
	}))
	first := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1", albtest.WithHeader("kid", slow)))
		first <- err
	}()
	select {
	case <-arrived: // the slot is taken
	case err := <-first:
		t.Fatalf("the first caller returned before its key was fetched: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.Verify(ctx, f.lb.Mint("sub-1", albtest.WithHeader("kid", gaveUp)))
	requireOnly(t, err, cognito.ErrJWKSUnavailable)
	require.ErrorIs(t, err, context.Canceled)

	close(release)
	requireOnly(t, <-first, cognito.ErrUnknownKey)
	// Downloads take the slot in the order they asked for it: had the
	// abandoned kid kept its place, it would be fetched before this one.
	_, err = f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
	require.NoError(t, err, "the caller that gave up started no quiet period")
	assert.Zero(t, gaveUpAsked.Load(), "no one wanted the abandoned kid any more")
}

func TestQuietPeriodAfterAFailedFetch(t *testing.T) {
	f := newFixture(t, cognito.WithJWKSMinRefetchInterval(30*time.Second))
	ctx := context.Background()
	cached := f.lb.Mint("sub-1")
	_, err := f.v.Verify(ctx, cached)
	require.NoError(t, err)

	f.lb.RotateKey()
	f.lb.SetHandler(status(http.StatusInternalServerError))
	_, err = f.v.Verify(ctx, f.lb.Mint("sub-1"))
	requireOnly(t, err, cognito.ErrJWKSUnavailable)
	assert.Equal(t, 2, f.lb.Requests())

	f.lb.SetHandler(nil)
	f.clock.Advance(29 * time.Second)
	_, err = f.v.Verify(ctx, f.lb.Mint("sub-1"))
	requireOnly(t, err, cognito.ErrJWKSUnavailable)
	assert.Equal(t, 2, f.lb.Requests(), "no fetch in the quiet period, and the 503 sentinel kept")
	_, err = f.v.Verify(ctx, cached)
	require.NoError(t, err, "cached keys keep working in the quiet period")

	f.clock.Advance(time.Second)
	_, err = f.v.Verify(ctx, f.lb.Mint("sub-1"))
	require.NoError(t, err)
	assert.Equal(t, 3, f.lb.Requests())
}

func TestKeyServerStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusNotFound, cognito.ErrUnknownKey},
		{http.StatusForbidden, cognito.ErrUnknownKey},
		{http.StatusBadRequest, cognito.ErrJWKSUnavailable},
		{http.StatusTooManyRequests, cognito.ErrJWKSUnavailable},
		{http.StatusServiceUnavailable, cognito.ErrJWKSUnavailable},
		{http.StatusFound, cognito.ErrJWKSUnavailable},
		{http.StatusNoContent, cognito.ErrJWKSUnavailable},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newFixture(t)
			f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
			}))
			_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
			requireOnly(t, err, tc.want)
		})
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.lb.Mint("sub-1")
	_, err := f.v.Verify(ctx, first)
	require.NoError(t, err)
	const rotations = 40 // more than the cache holds
	var last string
	for range rotations {
		f.lb.RotateKey()
		last = f.lb.Mint("sub-1")
		_, err := f.v.Verify(ctx, last)
		require.NoError(t, err)
	}
	require.Equal(t, 1+rotations, f.lb.Requests())
	_, err = f.v.Verify(ctx, last)
	require.NoError(t, err)
	assert.Equal(t, 1+rotations, f.lb.Requests(), "the newest key is cached")
	_, err = f.v.Verify(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, 2+rotations, f.lb.Requests(), "the oldest key was dropped, and is fetched again")
}

// TestKeyCacheHoldsThirtyTwoKeys: the cache holds 32 keys; the 33rd drops
// the oldest, and only that one is fetched again.
func TestKeyCacheHoldsThirtyTwoKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	values := []string{f.lb.Mint("sub-1")}
	for range 31 {
		f.lb.RotateKey()
		values = append(values, f.lb.Mint("sub-1"))
	}
	for _, d := range values {
		_, err := f.v.Verify(ctx, d)
		require.NoError(t, err)
	}
	require.Equal(t, 32, f.lb.Requests())
	for _, d := range values {
		_, err := f.v.Verify(ctx, d)
		require.NoError(t, err)
	}
	assert.Equal(t, 32, f.lb.Requests(), "32 keys are all cached")

	f.lb.RotateKey()
	_, err := f.v.Verify(ctx, f.lb.Mint("sub-1"))
	require.NoError(t, err)
	require.Equal(t, 33, f.lb.Requests())
	_, err = f.v.Verify(ctx, values[1])
	require.NoError(t, err)
	assert.Equal(t, 33, f.lb.Requests(), "the second oldest is still cached")
	_, err = f.v.Verify(ctx, values[0])
	require.NoError(t, err)
	assert.Equal(t, 34, f.lb.Requests(), "the 33rd key dropped the oldest, fetched again")
}

// TestKeyAnswerOfExactlyTheLimit: a key answer of 4 KiB (a PEM key and white
// space) is read; one byte more is refused.
func TestKeyAnswerOfExactlyTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want error
	}{
		{"4 KiB", 4 << 10, nil},
		{"4 KiB and a byte", 4<<10 + 1, cognito.ErrJWKSUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			k := pemOf(t, f)
			f.lb.ServeKey(f.lb.KeyID(), append(k, bytes.Repeat([]byte("\n"), tc.size-len(k))...))
			_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				requireOnly(t, err, tc.want)
			}
		})
	}
}

func TestKeyRequestShape(t *testing.T) {
	f := newFixture(t)
	var got *http.Request
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.WriteHeader(http.StatusNotFound)
	}))
	kid := f.lb.KeyID()
	_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
	requireOnly(t, err, cognito.ErrUnknownKey)
	require.NotNil(t, got)
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/"+kid, got.URL.Path)
	assert.Empty(t, got.URL.RawQuery)
}

func TestKeysURLWithAPath(t *testing.T) {
	clock := newClock()
	lb := albtest.NewServer(t, albtest.WithClock(clock.Now))
	var path string
	lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.WriteHeader(http.StatusNotFound)
	}))
	cfg := lb.Config()
	cfg.KeysURL += "/keys/"
	v := newVerifierFor(t, cfg, lb, clock)
	_, err := v.Verify(context.Background(), lb.Mint("sub-1"))
	requireOnly(t, err, cognito.ErrUnknownKey)
	assert.Equal(t, "/keys/"+lb.KeyID(), path)
}

// TestAFetchOutlivesTheCallerThatStartedIt: the caller that starts a fetch
// and gives up does not take the fetch down with it; a later caller for the
// same kid gets the key from that one fetch.
func TestAFetchOutlivesTheCallerThatStartedIt(t *testing.T) {
	f := newFixture(t)
	k := pemOf(t, f)
	release := make(chan struct{})
	arrived := make(chan struct{})
	var once sync.Once
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
			_, _ = w.Write(k)
		case <-r.Context().Done():
		}
	}))
	data := f.lb.Mint("sub-1")
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(ctx, data)
		first <- err
	}()
	select {
	case <-arrived:
	case err := <-first:
		t.Fatalf("the first caller returned before its key was fetched: %v", err)
	}
	cancel()
	err := <-first
	requireOnly(t, err, cognito.ErrJWKSUnavailable)
	require.ErrorIs(t, err, context.Canceled)

	second := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(context.Background(), data)
		second <- err
	}()
	close(release)
	require.NoError(t, <-second)
	assert.Equal(t, 1+1, f.lb.Requests(), "one fetch (after the test's own look at the key)")
}
