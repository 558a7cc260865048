package cognito

import (
	"context"
	"sync"
	"time"
)

// SessionStore keeps opaque session data by ID. Its method set is exactly
// that of github.com/alexedwards/scs/v2's Store, so every scs store (Redis,
// Postgres, MySQL, SQLite, DynamoDB, ...) fits with no adapter. Stores that
// also have scs's ctx variants (FindCtx, CommitCtx, DeleteCtx, as scs's
// CtxStore) get the request's context instead.
//
// Find reports found=false, with a nil error, for an ID it does not hold or
// whose expiry has passed; err is for failures of the store itself. Commit
// adds or replaces the data, which the store may drop after expiry. Delete of
// an unknown ID is not an error. A store must be safe for concurrent use.
//
// Sessions and the revocation list (WithRevocationList) keep their entries
// under prefixes of their own, so one store may serve both.
type SessionStore interface {
	Find(id string) (data []byte, found bool, err error)
	Commit(id string, data []byte, expiry time.Time) error
	Delete(id string) error
}

// LeaseStore is a SessionStore that can also add an entry only where there
// is none, atomically for every client of the store, as Redis's SET with NX
// does. With a shared store that has it, one replica takes a lease before an
// expensive call that every replica would otherwise make at once (renewing
// the M2M token of WithTokenStore, refreshing a session) while the others keep
// serving what they have. A store without it still works: each replica then
// makes the call itself.
//
// MemoryStore and redisstore's Store implement it.
type LeaseStore interface {
	SessionStore
	// Lease commits data under id until expiry, unless id holds an entry
	// whose expiry has not passed, and reports whether it did. Of many
	// callers at once, across every client of the store, at most one gets
	// true. An expiry not in the future commits nothing and reports false.
	// The lease ends at expiry, or earlier with Delete.
	Lease(ctx context.Context, id string, data []byte, expiry time.Time) (bool, error)
}

// The ctx variants of scs's CtxStore, used when a store has them.
type (
	ctxFinder interface {
		FindCtx(ctx context.Context, id string) ([]byte, bool, error)
	}
	ctxCommitter interface {
		CommitCtx(ctx context.Context, id string, data []byte, expiry time.Time) error
	}
	ctxDeleter interface {
		DeleteCtx(ctx context.Context, id string) error
	}
)

func findIn(ctx context.Context, s SessionStore, id string) ([]byte, bool, error) {
	if c, ok := s.(ctxFinder); ok {
		return c.FindCtx(ctx, id)
	}
	return s.Find(id)
}

func commitTo(ctx context.Context, s SessionStore, id string, data []byte, expiry time.Time) error {
	if c, ok := s.(ctxCommitter); ok {
		return c.CommitCtx(ctx, id, data, expiry)
	}
	return s.Commit(id, data, expiry)
}

func deleteFrom(ctx context.Context, s SessionStore, id string) error {
	if c, ok := s.(ctxDeleter); ok {
		return c.DeleteCtx(ctx, id)
	}
	return s.Delete(id)
}

// DefaultMemoryStoreMaxBytes bounds a MemoryStore whose MaxBytes is zero:
// about 15,000 sessions of typical Cognito tokens (4 KiB each, most of it
// the refresh token), or a million revocation-list entries.
const DefaultMemoryStoreMaxBytes = 64 << 20

// memoryEntryOverhead is what an entry costs beyond its ID and data: the map
// slot, the entry and the slice headers, roughly.
const memoryEntryOverhead = 96

// MemoryStore is a SessionStore in the process's memory: sessions and
// revocations are lost when the process ends and are not shared with other
// replicas (use a store such as Redis for those). It is bounded: when its
// entries would exceed MaxBytes, it drops the expired ones, then those
// closest to their expiry (among a sample), so memory stays bounded whatever
// the load. Find never returns an expired entry, and drops it. It is safe for
// concurrent use; set its fields, if at all, before first use.
type MemoryStore struct {
	// MaxBytes bounds the IDs, data and bookkeeping the store holds.
	// Default DefaultMemoryStoreMaxBytes.
	MaxBytes int64
	// Now replaces time.Now for judging expiry; tests inject a clock here.
	Now func() time.Time

	mu        sync.Mutex
	entries   map[string]memoryEntry
	bytes     int64
	lastSweep time.Time
}

type memoryEntry struct {
	data   []byte
	expiry time.Time
}

func (e memoryEntry) size(id string) int64 {
	return int64(len(id) + len(e.data) + memoryEntryOverhead)
}

// NewMemoryStore returns an empty MemoryStore with the default bound.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func (m *MemoryStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *MemoryStore) maxBytes() int64 {
	if m.MaxBytes <= 0 {
		return DefaultMemoryStoreMaxBytes
	}
	return m.MaxBytes
}

// Find returns a copy of the data committed under id, unless it expired.
func (m *MemoryStore) Find(id string) ([]byte, bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	if !ok {
		return nil, false, nil
	}
	if !now.Before(e.expiry) {
		m.remove(id)
		return nil, false, nil
	}
	return append([]byte(nil), e.data...), true, nil
}

// Commit stores a copy of data under id until expiry, replacing what was
// there. An expiry not after the store's clock deletes id instead.
func (m *MemoryStore) Commit(id string, data []byte, expiry time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commitLocked(id, data, expiry, now)
	return nil
}

// commitLocked replaces id's entry with a copy of data until expiry, and
// reports whether it now holds one: an expiry not after now, or data that
// could never fit, leaves id empty. m.mu is held.
func (m *MemoryStore) commitLocked(id string, data []byte, expiry, now time.Time) bool {
	m.remove(id)
	if !now.Before(expiry) {
		return false
	}
	e := memoryEntry{data: append([]byte(nil), data...), expiry: expiry}
	size := e.size(id)
	if size > m.maxBytes() {
		return false // could never fit: as if it had expired at once
	}
	if m.bytes+size > m.maxBytes() {
		m.makeRoom(size, now)
	}
	if m.entries == nil {
		m.entries = map[string]memoryEntry{}
	}
	m.entries[id] = e
	m.bytes += size
	return true
}

// Lease commits a copy of data under id until expiry, unless id holds an
// entry that has not expired, and reports whether it did (LeaseStore). A
// lease counts against MaxBytes like any entry; one that could never fit is
// not taken.
func (m *MemoryStore) Lease(_ context.Context, id string, data []byte, expiry time.Time) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && now.Before(e.expiry) {
		return false, nil
	}
	return m.commitLocked(id, data, expiry, now), nil
}

// Delete removes id; an unknown id is not an error.
func (m *MemoryStore) Delete(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(id)
	return nil
}

// Len reports how many entries the store holds, expired ones not yet dropped
// included.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *MemoryStore) remove(id string) {
	if e, ok := m.entries[id]; ok {
		m.bytes -= e.size(id)
		delete(m.entries, id)
	}
}

// evictionSample is how many entries makeRoom compares to find the one
// closest to expiry, as Redis approximates its eviction policies: a full
// scan per Commit would cost linear time once the store is full.
const evictionSample = 16

// sweepInterval spaces makeRoom's full scans for expired entries, so that a
// store kept full by live entries does not scan at every Commit.
const sweepInterval = time.Minute

// makeRoom frees at least size bytes: first every expired entry (at most
// once per sweepInterval), then, one at a time, the entry closest to its
// expiry among a random sample.
func (m *MemoryStore) makeRoom(size int64, now time.Time) {
	if now.Sub(m.lastSweep) >= sweepInterval || now.Before(m.lastSweep) {
		m.lastSweep = now
		for id, e := range m.entries {
			if !now.Before(e.expiry) {
				m.remove(id)
			}
		}
	}
	for m.bytes+size > m.maxBytes() && len(m.entries) > 0 {
		victim, n := "", 0
		var soonest time.Time
		for id, e := range m.entries { // map order is random: a sample
			if victim == "" || e.expiry.Before(soonest) {
				victim, soonest = id, e.expiry
			}
			if n++; n == evictionSample {
				break
			}
		}
		m.remove(victim)
	}
}
