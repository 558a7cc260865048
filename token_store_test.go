package cognito_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// fleetFixture is a fake pool with an M2M client, and a store its replicas
// share, all on one clock.
type fleetFixture struct {
	pool  *cognitotest.Server
	clock *cognitotest.Clock
	m2m   cognitotest.AppClient
	store *recordingStore
	waits atomic.Int64 // waits of replicas for another's renewal
}

func newFleetFixture(t *testing.T) *fleetFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	m2m, err := pool.AddClient(cognitotest.AppClient{ClientID: "orderssvc", Scopes: []string{"orders/read", "orders/write"}})
	require.NoError(t, err)
	mem := cognito.NewMemoryStore()
	mem.Now = clock.Now
	return &fleetFixture{pool: pool, clock: clock, m2m: m2m, store: &recordingStore{LeaseStore: mem}}
}

// replica is one process of the fleet: a Client of its own on store. It
// waits for another replica's renewal with waitForToken, never on a timer.
func (f *fleetFixture) replica(t *testing.T, store cognito.SessionStore, opts ...cognito.Option) *cognito.Client {
	t.Helper()
	c, err := cognito.NewClient(f.pool.ClientConfig(f.m2m),
		append([]cognito.Option{cognito.WithClock(f.clock.Now), cognito.WithTokenStore(store)}, opts...)...)
	require.NoError(t, err)
	cognito.SetTokenStoreSleep(c, f.waitForToken)
	return c
}

// waitForToken is how a replica without a valid token waits while another
// renews: until the fleet's store has taken a token (at once if it has), as
// a wait that lasted until the holder shared its token would. The clock does
// not move, so the holder's lease never runs out meanwhile.
func (f *fleetFixture) waitForToken(ctx context.Context, _ time.Duration) error {
	f.waits.Add(1)
	select {
	case <-f.store.written():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// passWaits makes c's waits for another replica's renewal pass at once, as
// if their time had passed on the fleet's clock, and records them; after
// each, meanwhile (when set) runs with the wait's number. A hundred waits
// for one token fail the test: a busy loop.
func (f *fleetFixture) passWaits(t *testing.T, c *cognito.Client, meanwhile func(n int)) *[]time.Duration {
	t.Helper()
	var waits []time.Duration
	cognito.SetTokenStoreSleep(c, func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) == 100 {
			t.Fatalf("a hundred waits for one token: a busy loop (%v...)", waits[:5])
		}
		f.clock.Advance(d)
		if meanwhile != nil {
			meanwhile(len(waits))
		}
		return nil
	})
	return &waits
}

// sideStore is a store apart from the fleet's, on the same clock.
func (f *fleetFixture) sideStore() *recordingStore {
	mem := cognito.NewMemoryStore()
	mem.Now = f.clock.Now
	return &recordingStore{LeaseStore: mem}
}

// leaseID learns the name of the fleet's renewal lease for orders/read from
// a replica that starts on a store apart, leaving no request counted.
func (f *fleetFixture) leaseID(t *testing.T) string {
	t.Helper()
	side := f.sideStore()
	_, err := f.replica(t, side).TokenSource("orders/read").Token()
	require.NoError(t, err)
	f.pool.ResetCounts()
	return side.leaseID(t)
}

func (f *fleetFixture) requests() int { return f.pool.Requests(cognitotest.EndpointToken) }

// recordingStore is a LeaseStore that records what the sources do with it.
type recordingStore struct {
	cognito.LeaseStore

	mu      sync.Mutex
	entries map[string][]byte // committed data by ID
	leases  []string          // IDs leased, taken or not
	until   []time.Time       // the expiry each Lease asked for
	finds   atomic.Int64
	// beforeLease, when set, runs once before the next Lease.
	beforeLease func()
	wrote       chan struct{} // closed by the first Commit
	wroteOnce   sync.Once
}

func (s *recordingStore) Find(id string) ([]byte, bool, error) {
	s.finds.Add(1)
	return s.LeaseStore.Find(id)
}

func (s *recordingStore) Commit(id string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[string][]byte{}
	}
	s.entries[id] = bytes.Clone(data)
	s.mu.Unlock()
	err := s.LeaseStore.Commit(id, data, expiry)
	written := s.written()
	s.wroteOnce.Do(func() { close(written) })
	return err
}

// written is closed once the store has taken its first entry.
func (s *recordingStore) written() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote == nil {
		s.wrote = make(chan struct{})
	}
	return s.wrote
}

func (s *recordingStore) Lease(ctx context.Context, id string, data []byte, expiry time.Time) (bool, error) {
	s.mu.Lock()
	s.leases = append(s.leases, id)
	s.until = append(s.until, expiry)
	before := s.beforeLease
	s.beforeLease = nil
	s.mu.Unlock()
	if before != nil {
		before()
	}
	return s.LeaseStore.Lease(ctx, id, data, expiry)
}

// entry returns the one token entry committed, and its ID.
func (s *recordingStore) entry(t *testing.T) (string, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.entries, 1, "one entry committed")
	for id, data := range s.entries {
		return id, data
	}
	return "", nil
}

func (s *recordingStore) leaseID(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.leases, "a lease was tried")
	return s.leases[0]
}

// scsStore is a store without Lease, as every scs store is.
type scsStore struct{ cognito.SessionStore }

// downStore is a store that refuses every call.
type downStore struct{ calls atomic.Int64 }

var errTokenStoreDown = errors.New("store down")

func (s *downStore) Find(string) ([]byte, bool, error) {
	s.calls.Add(1)
	return nil, false, errTokenStoreDown
}
func (s *downStore) Commit(string, []byte, time.Time) error {
	s.calls.Add(1)
	return errTokenStoreDown
}
func (s *downStore) Delete(string) error { s.calls.Add(1); return errTokenStoreDown }
func (s *downStore) count() int64        { return s.calls.Load() }
func (s *downStore) Lease(context.Context, string, []byte, time.Time) (bool, error) {
	s.calls.Add(1)
	return false, errTokenStoreDown
}

// stalledStore is a store with scs's context variants that answers every
// call as a stalled store's is answered once its context ends, with
// context.DeadlineExceeded, without waiting for the deadline. It records the
// longest time a call was given.
type stalledStore struct {
	downStore
	longest atomic.Int64
}

func (s *stalledStore) stall(ctx context.Context) error {
	s.calls.Add(1)
	deadline, ok := ctx.Deadline()
	given := time.Duration(1<<63 - 1)
	if ok {
		given = time.Until(deadline)
	}
	for {
		old := s.longest.Load()
		if int64(given) <= old || s.longest.CompareAndSwap(old, int64(given)) {
			break
		}
	}
	return context.DeadlineExceeded
}

func (s *stalledStore) FindCtx(ctx context.Context, _ string) ([]byte, bool, error) {
	return nil, false, s.stall(ctx)
}
func (s *stalledStore) CommitCtx(ctx context.Context, _ string, _ []byte, _ time.Time) error {
	return s.stall(ctx)
}
func (s *stalledStore) DeleteCtx(ctx context.Context, _ string) error {
	return s.stall(ctx)
}
func (s *stalledStore) Lease(ctx context.Context, _ string, _ []byte, _ time.Time) (bool, error) {
	return false, s.stall(ctx)
}

// fleetTokens has every goroutine of every replica ask its source for a
// token at once, and returns the access tokens they got, by replica.
func fleetTokens(t *testing.T, sources []oauth2.TokenSource, goroutines int) [][]string {
	t.Helper()
	got := make([][]string, len(sources))
	var wg sync.WaitGroup
	for r, ts := range sources {
		got[r] = make([]string, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				tok, err := ts.Token()
				if assert.NoError(t, err) {
					got[r][g] = tok.AccessToken
				}
			})
		}
	}
	wg.Wait()
	return got
}

// distinct lists the different tokens of got, in order of first sight.
func distinct(got [][]string) []string {
	var out []string
	for _, replica := range got {
		for _, tok := range replica {
			if !containsString(out, tok) {
				out = append(out, tok)
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestTokenStoreOneRequestForTheFleet(t *testing.T) {
	f := newFleetFixture(t)
	var sources []oauth2.TokenSource
	for range 4 {
		sources = append(sources, f.replica(t, f.store).TokenSource("orders/read"))
	}

	first := distinct(fleetTokens(t, sources, 100))
	assert.Equal(t, 1, f.requests(), "4 replicas x 100 goroutines, one token request")
	require.Len(t, first, 1, "one token for the fleet")
	assert.LessOrEqual(t, f.waits.Load(), int64(3), "a replica without the lease waits once, for the holder's token")

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2) // inside the margin
	fleetTokens(t, sources, 100)
	assert.Equal(t, 2, f.requests(), "one renewal for the fleet")

	f.clock.Advance(10 * time.Second) // the others look again
	fleetTokens(t, sources, 1)
	after := distinct(fleetTokens(t, sources, 100))
	require.Len(t, after, 1, "every replica has the renewed token")
	assert.NotEqual(t, first[0], after[0])
	assert.Equal(t, 2, f.requests())

	late := f.replica(t, f.store).TokenSource("orders/read")
	tok, err := late.Token()
	require.NoError(t, err)
	assert.Equal(t, after[0], tok.AccessToken, "a replica started later takes the fleet's token")
	assert.Equal(t, 2, f.requests(), "and makes no request")
}

func TestTokenStoreServesHTTPClient(t *testing.T) {
	f := newFleetFixture(t)
	api := newBearerAPI(t, nil)
	for range 3 {
		hc := f.replica(t, f.store).HTTPClient("orders/read")
		assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/orders").StatusCode)
	}
	seen := api.seen("/orders")
	require.Len(t, seen, 3)
	assert.Equal(t, []string{seen[0], seen[0], seen[0]}, seen, "the fleet's token on every replica's requests")
	assert.Equal(t, 1, f.requests())
}

func TestTokenStoreIsReadOnlyAtTheRenewPoint(t *testing.T) {
	f := newFleetFixture(t)
	ts := f.replica(t, f.store).TokenSource("orders/read")
	_, err := ts.Token()
	require.NoError(t, err)

	f.store.finds.Store(0)
	for range 1000 {
		_, err := ts.Token()
		require.NoError(t, err)
	}
	assert.Zero(t, f.store.finds.Load(), "a cached token is served from the replica's own copy")

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
	for range 1000 {
		_, err := ts.Token()
		require.NoError(t, err)
	}
	assert.Equal(t, int64(2), f.store.finds.Load(), "at the renew point: one look, and one more once the lease is taken")
	assert.Equal(t, 2, f.requests())
}

func TestTokenStoreLooksAgainOnceItHoldsTheLease(t *testing.T) {
	f := newFleetFixture(t)
	a := f.replica(t, f.store).TokenSource("orders/read")
	// B shares A's store, through a recorder of its own.
	bStore := &recordingStore{LeaseStore: f.store}
	b := f.replica(t, bStore).TokenSource("orders/read")
	_, err := a.Token()
	require.NoError(t, err)
	_, err = b.Token()
	require.NoError(t, err)
	require.Equal(t, 1, f.requests())

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
	var renewedByA *oauth2.Token
	bStore.beforeLease = func() {
		// Between B's look and B's lease, A renews for the fleet and lets
		// its lease go.
		renewedByA, err = a.Token()
		require.NoError(t, err)
	}
	tok, err := b.Token()
	require.NoError(t, err)
	require.NotNil(t, renewedByA)
	assert.Equal(t, renewedByA.AccessToken, tok.AccessToken, "B, holding the lease, finds A's token")
	assert.Equal(t, 2, f.requests(), "one renewal, not two")
}

func TestTokenStoreWithoutLeaseAtMostOneRequestPerReplica(t *testing.T) {
	f := newFleetFixture(t)
	store := scsStore{f.store}
	var sources []oauth2.TokenSource
	for range 4 {
		sources = append(sources, f.replica(t, store).TokenSource("orders/read"))
	}

	fleetTokens(t, sources, 100)
	n := f.requests()
	assert.True(t, n >= 1 && n <= 4, "at most one request per replica, made %d", n)

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
	fleetTokens(t, sources, 100)
	renewals := f.requests() - n
	assert.True(t, renewals >= 1 && renewals <= 4, "at most one renewal per replica, made %d", renewals)
	assert.Empty(t, f.store.leases, "no lease on a store without Lease")

	before := f.requests()
	_, err := f.replica(t, store).TokenSource("orders/read").Token()
	require.NoError(t, err)
	assert.Equal(t, before, f.requests(), "a replica started later takes the fleet's token")
}

func TestTokenStoreThatFailsCostsRequestsNeverTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store cognito.LeaseStore
		opts  []cognito.Option
	}{
		{"down", &downStore{}, nil},
		// The store's calls are bounded by the HTTP client's timeout here,
		// which is shorter than DefaultStoreTimeout.
		{"stalled", &stalledStore{}, []cognito.Option{cognito.WithHTTPClient(&http.Client{Timeout: 500 * time.Millisecond})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleetFixture(t)
			var sources []oauth2.TokenSource
			for range 2 {
				sources = append(sources, f.replica(t, tc.store, tc.opts...).TokenSource("orders/read"))
			}
			got := fleetTokens(t, sources, 10)
			assert.Len(t, distinct(got), 2, "each replica its own token")
			assert.Equal(t, 2, f.requests(), "one request per replica")
			assert.EqualValues(t, 2, tc.store.(interface{ count() int64 }).count(), "one store call per replica: a failed look skips the lease and the write")

			f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
			fleetTokens(t, sources, 10)
			assert.Equal(t, 4, f.requests(), "each replica renews on time")
			assert.EqualValues(t, 4, tc.store.(interface{ count() int64 }).count())
			if st, ok := tc.store.(*stalledStore); ok {
				assert.LessOrEqual(t, time.Duration(st.longest.Load()), 500*time.Millisecond,
					"a store call is given no longer than a token request")
			}
			renewed := distinct(fleetTokens(t, sources, 1))
			assert.Len(t, renewed, 2)
			assert.False(t, containsString(renewed, got[0][0]) || containsString(renewed, got[1][0]), "renewed tokens")
		})
	}
}

func TestTokenStoreEntryIsSealed(t *testing.T) {
	f := newFleetFixture(t)
	tok, err := f.replica(t, f.store).TokenSource("orders/read").Token()
	require.NoError(t, err)
	id, data := f.store.entry(t)

	payload := strings.Split(tok.AccessToken, ".")[1]
	for _, clear := range []string{
		tok.AccessToken, payload,
		base64.StdEncoding.EncodeToString([]byte(tok.AccessToken)),
		f.m2m.ClientID, "orders/read", f.m2m.ClientSecret,
	} {
		assert.NotContains(t, string(data), clear, "the entry is sealed")
		assert.NotContains(t, id, clear, "the entry's name gives nothing away")
	}
	assert.True(t, strings.HasPrefix(id, "cognito-m2m:"), id)

	// Without the secret the entry is no use: a Client with another secret
	// does not find it, and is refused by the pool.
	wrong := f.pool.ClientConfig(f.m2m)
	wrong.ClientSecret = "not-the-secret"
	c, err := cognito.NewClient(wrong, cognito.WithClock(f.clock.Now), cognito.WithTokenStore(f.store))
	require.NoError(t, err)
	_, err = c.TokenSource("orders/read").Token()
	assert.ErrorIs(t, err, cognito.ErrInvalidClient)
	assertNoSecrets(t, err, tok.AccessToken, f.m2m.ClientSecret)
}

func TestTokenStoreKeepsClientsAndScopesApart(t *testing.T) {
	f := newFleetFixture(t)
	other, err := f.pool.AddClient(cognitotest.AppClient{ClientID: "billingsvc", Scopes: []string{"orders/read"}})
	require.NoError(t, err)
	v, err := cognito.NewVerifier(f.pool.Config(), cognito.WithClientIDs(f.m2m.ClientID, other.ClientID), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	billing, err := cognito.NewClient(f.pool.ClientConfig(other), cognito.WithClock(f.clock.Now), cognito.WithTokenStore(f.store))
	require.NoError(t, err)
	orders := f.replica(t, f.store)

	for _, tc := range []struct {
		name       string
		ts         oauth2.TokenSource
		wantClient string
		wantScopes []string
	}{
		{"one client, one scope", orders.TokenSource("orders/read"), "orderssvc", []string{"orders/read"}},
		{"same client, other scopes", orders.TokenSource("orders/write", "orders/read"), "orderssvc", []string{"orders/read", "orders/write"}},
		{"other client, same scope", billing.TokenSource("orders/read"), "billingsvc", []string{"orders/read"}},
		{"the scopes in another order are the same token", orders.TokenSource("orders/read", "orders/write"), "orderssvc", []string{"orders/read", "orders/write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.ts.Token()
			require.NoError(t, err)
			at, err := v.VerifyAccessToken(context.Background(), tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, tc.wantClient, at.ClientID)
			assert.ElementsMatch(t, tc.wantScopes, at.Scopes)
		})
	}
	assert.Equal(t, 3, f.requests(), "one token per client and set of scopes")
}

func TestTokenStoreIgnoresAndReplacesAnEntryThatDoesNotOpen(t *testing.T) {
	f := newFleetFixture(t)
	_, err := f.replica(t, f.store).TokenSource("orders/read").Token()
	require.NoError(t, err)
	id, sealed := f.store.entry(t)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"junk", []byte("not an entry")},
		{"empty", []byte{}},
		{"the version and a few bytes", []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"the version, a nonce and a tag, nothing sealed", append([]byte{1}, make([]byte, 12+16)...)},
		{"truncated", sealed[:len(sealed)-1]},
		{"a bit flipped in the nonce", flip(1)},
		{"a bit flipped in the sealed token", flip(len(sealed) / 2)},
		{"a bit flipped in the tag", flip(len(sealed) - 1)},
		{"another version", append([]byte{2}, sealed[1:]...)},
		{"too large", append(bytes.Clone(sealed), make([]byte, 70<<10)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, f.store.Commit(id, tc.data, f.clock.Now().Add(time.Hour)))
			before := f.requests()
			tok, err := f.replica(t, f.store).TokenSource("orders/read").Token()
			require.NoError(t, err, "a garbled entry costs a request, never a token")
			assert.Equal(t, before+1, f.requests())

			_, replaced := f.store.entry(t)
			assert.NotEqual(t, tc.data, replaced, "overwritten")
			again, err := f.replica(t, f.store).TokenSource("orders/read").Token()
			require.NoError(t, err)
			assert.Equal(t, tok.AccessToken, again.AccessToken, "the replacement opens")
			assert.Equal(t, before+1, f.requests())
		})
	}
}

func TestTokenStoreEntryCannotMoveToAnotherName(t *testing.T) {
	f := newFleetFixture(t)
	client := f.replica(t, f.store)
	_, err := client.TokenSource("orders/write").Token()
	require.NoError(t, err)
	writeID, writeEntry := f.store.entry(t)

	// Learn the name of the orders/read entry from a store of its own.
	side := f.sideStore()
	_, err = f.replica(t, side).TokenSource("orders/read").Token()
	require.NoError(t, err)
	readID, _ := side.entry(t)
	require.NotEqual(t, writeID, readID)

	// The orders/write token, moved under the orders/read name.
	require.NoError(t, f.store.Commit(readID, writeEntry, f.clock.Now().Add(time.Hour)))
	before := f.requests()
	tok, err := f.replica(t, f.store).TokenSource("orders/read").Token()
	require.NoError(t, err)
	assert.Equal(t, before+1, f.requests(), "the moved entry does not open: a request")
	v, err := cognito.NewVerifier(f.pool.Config(), cognito.WithClientIDs(f.m2m.ClientID), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	at, err := v.VerifyAccessToken(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, []string{"orders/read"}, at.Scopes, "never another scope's token")
}

func TestTokenStoreLeaseHolderThatDies(t *testing.T) {
	t.Run("replicas with a valid token keep it until the lease expires", func(t *testing.T) {
		f := newFleetFixture(t)
		leaseID := f.leaseID(t)
		ts := f.replica(t, f.store).TokenSource("orders/read")
		first, err := ts.Token()
		require.NoError(t, err)

		f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
		// A replica took the lease, and died.
		got, err := f.store.Lease(context.Background(), leaseID, []byte("dead"), f.clock.Now().Add(20*time.Second))
		require.NoError(t, err)
		require.True(t, got)

		f.store.finds.Store(0)
		for range 100 {
			tok, err := ts.Token()
			require.NoError(t, err)
			assert.Equal(t, first.AccessToken, tok.AccessToken, "the current token while another holds the lease")
		}
		assert.Equal(t, 1, f.requests())
		assert.EqualValues(t, 1, f.store.finds.Load(), "one look, then the current token for a while")

		f.clock.Advance(20 * time.Second) // the dead holder's lease has expired
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, tok.AccessToken, "renewed once the lease expired, before the token did")
		assert.Equal(t, 2, f.requests())
	})

	t.Run("a replica without a token waits at most the lease's life", func(t *testing.T) {
		f := newFleetFixture(t)
		// The HTTP client's timeout bounds the lease's life, and so the wait:
		// 600 ms, the request's 200 and two store calls of as much.
		opts := []cognito.Option{cognito.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond})}
		leaseID := f.leaseID(t)

		got, err := f.store.Lease(context.Background(), leaseID, []byte("dead"), f.clock.Now().Add(time.Hour))
		require.NoError(t, err)
		require.True(t, got)
		before := f.requests()
		f.store.finds.Store(0)
		c := f.replica(t, f.store, opts...)
		waits := f.passWaits(t, c, nil)
		tok, err := c.TokenSource("orders/read").Token()
		require.NoError(t, err, "a dead holder costs a request, never a token")
		assert.NotEmpty(t, tok.AccessToken)
		assert.Equal(t, before+1, f.requests())
		ms := time.Millisecond
		assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 250 * ms}, *waits,
			"each wait twice the last, up to 250 ms, until the next would outlast the lease")
		assert.EqualValues(t, 1+len(*waits), f.store.finds.Load(), "the first look, and one after each wait: never a busy loop")
	})

	t.Run("a replica without a token takes the holder's once it is shared", func(t *testing.T) {
		f := newFleetFixture(t)
		// The holder's token and its entry, sealed by a replica on a store
		// apart: the holder, whose lease the fleet's store holds.
		side := f.sideStore()
		held, err := f.replica(t, side).TokenSource("orders/read").Token()
		require.NoError(t, err)
		id, entry := side.entry(t)
		got, err := f.store.Lease(context.Background(), side.leaseID(t), []byte("holder"), f.clock.Now().Add(time.Hour))
		require.NoError(t, err)
		require.True(t, got)
		before := f.requests()
		f.store.finds.Store(0)

		c := f.replica(t, f.store)
		waits := f.passWaits(t, c, func(n int) {
			if n == 3 { // the holder shares its token meanwhile
				require.NoError(t, f.store.Commit(id, entry, held.Expiry))
			}
		})
		tok, err := c.TokenSource("orders/read").Token()
		require.NoError(t, err)
		assert.Equal(t, held.AccessToken, tok.AccessToken, "the holder's token")
		assert.Equal(t, before, f.requests(), "and no request of its own")
		ms := time.Millisecond
		assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms}, *waits, "no wait once it is shared")
		assert.EqualValues(t, 4, f.store.finds.Load(), "the first look, and one after each wait")
	})
}

// TestTokenStoreLeaseLastsTheHoldersWork: the renewal lease lasts the
// holder's work, a token request and two store calls, each bounded by the
// HTTP client's timeout (DefaultHTTPTimeout for a client without one), the
// store calls by DefaultStoreTimeout too.
func TestTokenStoreLeaseLastsTheHoldersWork(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client *http.Client
		want   time.Duration
	}{
		{"the default client", nil, cognito.DefaultHTTPTimeout + 2*cognito.DefaultStoreTimeout},
		{"a client without a timeout", &http.Client{}, cognito.DefaultHTTPTimeout + 2*cognito.DefaultStoreTimeout},
		{"a client of 3 s", &http.Client{Timeout: 3 * time.Second}, 3*time.Second + 2*3*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleetFixture(t)
			var opts []cognito.Option
			if tc.client != nil {
				opts = append(opts, cognito.WithHTTPClient(tc.client))
			}
			_, err := f.replica(t, f.store, opts...).TokenSource("orders/read").Token()
			require.NoError(t, err)
			f.store.mu.Lock()
			defer f.store.mu.Unlock()
			require.Len(t, f.store.until, 1, "one lease, for the first token")
			assert.Equal(t, f.clock.Now().Add(tc.want), f.store.until[0])
		})
	}
}

func TestTokenStoreFailedRenewalIsRetriedByTheFleet(t *testing.T) {
	f := newFleetFixture(t)
	a := f.replica(t, f.store).TokenSource("orders/read")
	b := f.replica(t, f.store).TokenSource("orders/read")
	first, err := a.Token()
	require.NoError(t, err)
	_, err = b.Token()
	require.NoError(t, err)
	require.Equal(t, 1, f.requests())

	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin/2)
	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	tok, err := a.Token()
	require.NoError(t, err, "a failed renewal keeps the valid token")
	assert.Equal(t, first.AccessToken, tok.AccessToken)
	assert.Equal(t, 2, f.requests())

	tok, err = b.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, tok.AccessToken, "the failed holder let the lease go: another replica renews")
	assert.Equal(t, 3, f.requests())

	f.clock.Advance(10 * time.Second)
	again, err := a.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "and the first takes its token from the store")
	assert.Equal(t, 3, f.requests())
}

func TestTokenStoreLogsItsFaults(t *testing.T) {
	logger, logs := newLogger()
	f := newFleetFixture(t)
	tok, err := f.replica(t, &downStore{}, cognito.WithLogger(logger)).TokenSource("orders/read").Token()
	require.NoError(t, err)

	_, err = f.replica(t, f.store).TokenSource("orders/read").Token()
	require.NoError(t, err)
	id, _ := f.store.entry(t)
	require.NoError(t, f.store.Commit(id, []byte("garbled"), f.clock.Now().Add(time.Hour)))
	_, err = f.replica(t, f.store, cognito.WithLogger(logger)).TokenSource("orders/read").Token()
	require.NoError(t, err)

	assert.Equal(t, []string{
		"WARN cognito: M2M token store failed; this replica renews on its own",
		"WARN cognito: M2M token store entry ignored; it will be replaced",
	}, logs.messages(t))
	recs := logs.records(t)
	assert.Equal(t, "read", recs[0]["op"])
	assert.Contains(t, recs[0]["error"], errTokenStoreDown.Error())
	for _, secret := range []string{tok.AccessToken, f.m2m.ClientSecret, id} {
		assert.NotContains(t, logs.String(), secret)
	}
}

// panickyStore is a store whose first Find waits for release, then panics.
type panickyStore struct {
	cognito.LeaseStore
	entered, release chan struct{}
	once             sync.Once
}

func (s *panickyStore) Find(id string) ([]byte, bool, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		<-s.release
		panic("store bug")
	}
	return s.LeaseStore.Find(id)
}

// waitingInToken reports how many goroutines wait inside a source's Token
// for another caller's renewal.
func waitingInToken() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[chan receive") && strings.Contains(g, "(*m2mSource).Token(") {
			n++
		}
	}
	return n
}

func TestTokenStoreThatPanicsLeavesNoCallerWaiting(t *testing.T) {
	f := newFleetFixture(t)
	store := &panickyStore{LeaseStore: f.store, entered: make(chan struct{}), release: make(chan struct{})}
	ts := f.replica(t, store).TokenSource("orders/read")

	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = ts.Token()
	}()
	<-store.entered
	const waiters = 20
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := ts.Token()
			errs <- err
		}()
	}
	for i := 0; waitingInToken() < waiters; i++ {
		require.Less(t, i, 1_000_000, "the callers never waited for the renewal")
		runtime.Gosched()
	}
	close(store.release)

	assert.Equal(t, "store bug", <-panicked, "the store's panic reaches the caller that renewed")
	for range waiters {
		assert.ErrorIs(t, <-errs, cognito.ErrEndpointUnavailable, "those waiting get an error, not a hang")
	}
	tok, err := ts.Token()
	require.NoError(t, err, "and the source works again")
	assert.NotEmpty(t, tok.AccessToken)
}

func TestTokenStoreIgnoredWithoutASecret(t *testing.T) {
	f := newFleetFixture(t)
	public, err := f.pool.AddClient(cognitotest.AppClient{ClientID: "spa", Public: true})
	require.NoError(t, err)
	store := &downStore{}
	c, err := cognito.NewClient(f.pool.ClientConfig(public), cognito.WithTokenStore(store), cognito.WithTokenStore(nil))
	require.NoError(t, err)
	_, err = c.TokenSource().Token()
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.Zero(t, store.calls.Load(), "no store call for a client that gets no token")
}

// BenchmarkTokenSourceCached is a cached Token(): the process's own source
// beside one sharing its token through a store, which it reads only at the
// renew point.
//
//	go test -run '^$' -bench BenchmarkTokenSourceCached -benchmem
func BenchmarkTokenSourceCached(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []cognito.Option
	}{
		{"in-process", nil},
		{"memory-store", []cognito.Option{cognito.WithTokenStore(cognito.NewMemoryStore())}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pool := cognitotest.NewServer(b)
			m2m, err := pool.AddClient(cognitotest.AppClient{Scopes: []string{"orders/read"}})
			require.NoError(b, err)
			client, err := cognito.NewClient(pool.ClientConfig(m2m), tc.opts...)
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
