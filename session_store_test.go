package cognito_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

func TestMemoryStoreFindCommitDelete(t *testing.T) {
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now}

	_, found, err := m.Find("a")
	require.NoError(t, err)
	assert.False(t, found)

	data := []byte("session a")
	require.NoError(t, m.Commit("a", data, clock.Now().Add(time.Minute)))
	data[0] = 'X' // the store keeps its own copy
	got, found, err := m.Find("a")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "session a", string(got))
	got[0] = 'Y' // and hands out copies
	got, _, _ = m.Find("a")
	assert.Equal(t, "session a", string(got))

	require.NoError(t, m.Commit("a", []byte("replaced"), clock.Now().Add(time.Minute)))
	got, _, _ = m.Find("a")
	assert.Equal(t, "replaced", string(got))
	assert.Equal(t, 1, m.Len())

	require.NoError(t, m.Delete("a"))
	_, found, _ = m.Find("a")
	assert.False(t, found)
	assert.NoError(t, m.Delete("a"), "deleting an unknown ID is no error")
	assert.Zero(t, m.Len())
}

func TestMemoryStoreExpiry(t *testing.T) {
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now}
	require.NoError(t, m.Commit("a", []byte("x"), clock.Now().Add(time.Minute)))

	clock.Advance(time.Minute - time.Nanosecond)
	_, found, _ := m.Find("a")
	assert.True(t, found)
	clock.Advance(time.Nanosecond)
	_, found, _ = m.Find("a")
	assert.False(t, found, "gone at its expiry")
	assert.Zero(t, m.Len(), "and dropped")

	require.NoError(t, m.Commit("b", []byte("x"), clock.Now()))
	_, found, _ = m.Find("b")
	assert.False(t, found, "an expiry not in the future stores nothing")
	require.NoError(t, m.Commit("b", []byte("x"), clock.Now().Add(time.Hour)))
	require.NoError(t, m.Commit("b", []byte("x"), clock.Now().Add(-time.Hour)))
	_, found, _ = m.Find("b")
	assert.False(t, found, "and deletes what was there")
}

func TestMemoryStoreIsBounded(t *testing.T) {
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: 10 * (1024 + 200)}
	value := make([]byte, 1024)
	now := clock.Now()

	// Ten entries fit; the eleventh evicts the one closest to expiry.
	for i := range 10 {
		require.NoError(t, m.Commit(fmt.Sprint("k", i), value, now.Add(time.Duration(10+i)*time.Minute)))
	}
	require.Equal(t, 10, m.Len())
	require.NoError(t, m.Commit("new", value, now.Add(time.Hour)))
	assert.Equal(t, 10, m.Len())
	_, found, _ := m.Find("k0")
	assert.False(t, found, "the entry closest to its expiry went")
	_, found, _ = m.Find("new")
	assert.True(t, found)

	// Expired entries go first, all of them.
	clock.Advance(15 * time.Minute) // k1..k5 expired
	for i := range 5 {
		require.NoError(t, m.Commit(fmt.Sprint("n", i), value, clock.Now().Add(time.Hour)))
	}
	assert.Equal(t, 10, m.Len())
	for i := 6; i < 10; i++ {
		_, found, _ := m.Find(fmt.Sprint("k", i))
		assert.True(t, found, "live entries stay while expired ones can go")
	}

	// An entry larger than the bound is not kept.
	require.NoError(t, m.Commit("huge", make([]byte, 20*1024), clock.Now().Add(time.Hour)))
	_, found, _ = m.Find("huge")
	assert.False(t, found)
	assert.Equal(t, 10, m.Len(), "and evicts nothing")
}

func TestMemoryStoreStaysBoundedUnderLoad(t *testing.T) {
	clock := newTestClock()
	const maxBytes = 64 << 10
	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: maxBytes}
	value := make([]byte, 500)
	for i := range 5000 {
		require.NoError(t, m.Commit(fmt.Sprint("k", i), value, clock.Now().Add(time.Duration(i%97+1)*time.Minute)))
	}
	assert.LessOrEqual(t, m.Len()*(500+2), maxBytes)
	assert.Greater(t, m.Len(), 64, "it evicts one entry at a time, not everything")
}

func TestMemoryStoreDefaults(t *testing.T) {
	m := cognito.NewMemoryStore()
	require.NoError(t, m.Commit("a", []byte("x"), time.Now().Add(time.Hour)))
	_, found, err := m.Find("a")
	require.NoError(t, err)
	assert.True(t, found, "judged by the real clock")
	var zero cognito.MemoryStore
	require.NoError(t, zero.Commit("a", []byte("x"), time.Now().Add(time.Hour)), "the zero value works")
}

func TestMemoryStoreConcurrentUse(t *testing.T) {
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: 32 << 10}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				id := fmt.Sprint(g, "-", i%20)
				_ = m.Commit(id, []byte(id), clock.Now().Add(time.Minute))
				if data, found, err := m.Find(id); err == nil && found {
					assert.Equal(t, id, string(data))
				}
				if i%7 == 0 {
					_ = m.Delete(id)
				}
			}
		})
	}
	wg.Wait()
}

func TestMemoryStoreLease(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: 1 << 10}
	var _ cognito.LeaseStore = m

	got, err := m.Lease(ctx, "l", []byte("first"), clock.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, got, "an empty id is leased")
	got, err = m.Lease(ctx, "l", []byte("second"), clock.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, got, "a live lease is not taken again")
	data, _, _ := m.Find("l")
	assert.Equal(t, "first", string(data), "a refused lease leaves the holder's data")

	clock.Advance(time.Minute)
	got, err = m.Lease(ctx, "l", []byte("third"), clock.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, got, "a lease whose expiry passed is taken")
	data, _, _ = m.Find("l")
	assert.Equal(t, "third", string(data))

	require.NoError(t, m.Delete("l"))
	got, _ = m.Lease(ctx, "l", []byte("fourth"), clock.Now().Add(time.Minute))
	assert.True(t, got, "Delete ends a lease")

	got, _ = m.Lease(ctx, "past", []byte("x"), clock.Now())
	assert.False(t, got, "an expiry not in the future takes no lease")
	got, _ = m.Lease(ctx, "huge", make([]byte, 2<<10), clock.Now().Add(time.Minute))
	assert.False(t, got, "data that can never fit takes no lease")
	_, found, _ := m.Find("huge")
	assert.False(t, found)
}

func TestMemoryStoreLeaseHasOneWinner(t *testing.T) {
	clock := newTestClock()
	m := &cognito.MemoryStore{Now: clock.Now}
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 50 {
		wg.Go(func() {
			if ok, err := m.Lease(context.Background(), "l", []byte("x"), clock.Now().Add(time.Second)); err == nil && ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}

// memoryEntrySize is what an entry of a one-byte ID and 100 bytes of data
// costs a MemoryStore: the ID, the data and its bookkeeping (96 bytes).
const memoryEntrySize = 1 + 100 + 96

// TestMemoryStoreExactFit: MaxBytes is a bound the entries may reach: an
// entry as large as the bound is kept, entries that fill the store exactly
// are all kept and make no room (an expired one stays until room is
// needed), and an entry that overflows a full store by one entry's worth
// evicts one entry, not two.
func TestMemoryStoreExactFit(t *testing.T) {
	clock := newTestClock()
	data := make([]byte, 100)
	hour := clock.Now().Add(time.Hour)

	one := &cognito.MemoryStore{Now: clock.Now, MaxBytes: memoryEntrySize}
	require.NoError(t, one.Commit("a", data, hour))
	_, found, _ := one.Find("a")
	assert.True(t, found, "an entry as large as the bound")

	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: 3 * memoryEntrySize}
	require.NoError(t, m.Commit("a", data, clock.Now().Add(time.Second)))
	require.NoError(t, m.Commit("b", data, clock.Now().Add(2*time.Hour)))
	clock.Advance(time.Second) // a expired
	require.NoError(t, m.Commit("c", data, hour))
	assert.Equal(t, 3, m.Len(), "the store is exactly full: nothing made room, a expired is still held")
	for _, id := range []string{"b", "c"} {
		_, found, _ := m.Find(id)
		assert.True(t, found, id)
	}
	_, found, _ = m.Find("a")
	assert.False(t, found, "a expired")
	assert.Equal(t, 2, m.Len(), "and Find dropped it")

	require.NoError(t, m.Commit("d", data, hour))
	require.NoError(t, m.Commit("e", data, hour))
	assert.Equal(t, 3, m.Len(), "one evicted for one added")
	_, found, _ = m.Find("e")
	assert.True(t, found)
}

// TestMemoryStoreSweepsOncePerInterval: when a full store needs room, it
// drops every expired entry, at most once a sweep interval (a minute):
// exactly a minute after the last sweep it sweeps again, dropping two
// expired entries for one new one.
func TestMemoryStoreSweepsOncePerInterval(t *testing.T) {
	clock := newTestClock()
	data := make([]byte, 100)
	m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: 4 * memoryEntrySize}
	t0 := clock.Now().Add(time.Second)
	require.NoError(t, m.Commit("z", data, t0))
	require.NoError(t, m.Commit("a", data, t0.Add(30*time.Second)))
	require.NoError(t, m.Commit("b", data, t0.Add(40*time.Second)))
	require.NoError(t, m.Commit("c", data, t0.Add(2*time.Hour)))
	clock.Advance(time.Second) // t0: z expired
	require.NoError(t, m.Commit("d", data, t0.Add(2*time.Hour)))
	require.Equal(t, 4, m.Len(), "the first sweep dropped z")

	clock.Advance(time.Minute) // a and b expired, a minute after that sweep
	require.NoError(t, m.Commit("e", data, t0.Add(2*time.Hour)))
	assert.Equal(t, 3, m.Len(), "the sweep dropped a and b")
	for _, id := range []string{"c", "d", "e"} {
		_, found, _ := m.Find(id)
		assert.True(t, found, id)
	}
}

// TestMemoryStoreEvictsFromASample: a Commit into a store full of live
// entries evicts the entry closest to its expiry among a sample of 16, not
// among every entry, so that its cost does not grow with the store. Across
// 40 full stores of 64 entries, each expiring a minute after the one before:
//   - the soonest entry is not always the one evicted (a full scan would
//     always evict it; a sample holds it a quarter of the time, so 40 rounds
//     of it would come by chance about once in 10^24);
//   - the evicted entry is close to the front: the soonest of 16 averages
//     about the third (the test allows up to the 8th), where a sample of one
//     averages past the 16th (Go's map order is not quite uniform).
func TestMemoryStoreEvictsFromASample(t *testing.T) {
	clock := newTestClock()
	data := make([]byte, 100)
	const rounds, entries = 40, 64
	soonest, ranks := 0, 0
	for range rounds {
		// Three-byte IDs: each entry costs memoryEntrySize+2 bytes.
		m := &cognito.MemoryStore{Now: clock.Now, MaxBytes: entries * (memoryEntrySize + 2)}
		for i := range entries { // k00 expires first
			require.NoError(t, m.Commit(fmt.Sprintf("k%02d", i), data, clock.Now().Add(time.Duration(i+1)*time.Minute)))
		}
		require.NoError(t, m.Commit("new", data, clock.Now().Add(2*time.Hour)))
		require.Equal(t, entries, m.Len(), "one evicted for one added")
		for i := range entries {
			if _, found, _ := m.Find(fmt.Sprintf("k%02d", i)); !found {
				ranks += i
				if i == 0 {
					soonest++
				}
			}
		}
	}
	assert.Less(t, soonest, rounds, "each eviction compared a sample, not the whole store")
	assert.Less(t, ranks, rounds*8, "and evicted the soonest of that sample")
	t.Logf("the soonest entry was evicted in %d of %d rounds; the evicted one's rank averaged %.1f", soonest, rounds, float64(ranks)/rounds)
}
