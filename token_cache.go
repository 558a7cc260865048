package cognito

import (
	"hash/maphash"
	"sync"
)

// tokenCache remembers tokens whose signature and claims were verified, keyed
// by the exact token string, so that a token seen again skips the RSA check.
// It is split into shards with a lock each, so parallel verifies of different
// tokens rarely meet on a lock; when a shard is full an arbitrary entry makes
// room (Go's map iteration order is randomised), which bounds memory by count.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*verified
	_  [40]byte // keep shards on separate cache lines
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*verified)
	}
	return c
}

func (c *tokenCache) shard(raw string) *cacheShard {
	// The tail of a token is its signature: hashing it is cheap and spreads well.
	return &c.shards[maphash.String(c.seed, raw[max(0, len(raw)-16):])%cacheShards]
}

func (c *tokenCache) get(raw string) *verified {
	s := c.shard(raw)
	s.mu.RLock()
	v := s.m[raw]
	s.mu.RUnlock()
	return v
}

func (c *tokenCache) put(raw string, v *verified) {
	s := c.shard(raw)
	s.mu.Lock()
	if _, ok := s.m[raw]; !ok && len(s.m) >= c.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[raw] = v
	s.mu.Unlock()
}

func (c *tokenCache) remove(raw string) {
	s := c.shard(raw)
	s.mu.Lock()
	delete(s.m, raw)
	s.mu.Unlock()
}

// retain drops the entries whose signing key is not in set with the same
// material: a key removed or replaced in the JWKS revokes what it signed.
func (c *tokenCache) retain(set *keySet) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for raw, v := range s.m {
			if k := set.keys[v.kid]; k == nil || (k != v.key && !k.pub.Equal(v.key.pub)) {
				delete(s.m, raw)
			}
		}
		s.mu.Unlock()
	}
}

func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
