package cognito

import (
	"sync"
	"sync/atomic"
)

// tokenCache remembers tokens whose signature and claims were verified, keyed
// by the exact token string, so that a token seen again skips the RSA check.
//
// It is a sync.Map, whose lookups of present keys take no lock and write no
// shared memory, so hits scale with cores, and whose stores lock only the part
// of its trie they change. A count bounds it: a store that finds it full
// first evicts an arbitrary entry (the first the map's hash order yields, and
// the hash is seeded per process).
type tokenCache struct {
	size  int64
	count atomic.Int64
	m     sync.Map // string → *verified
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	return &tokenCache{size: int64(size)}
}

func (c *tokenCache) get(raw string) *verified {
	if v, ok := c.m.Load(raw); ok {
		return v.(*verified)
	}
	return nil
}

func (c *tokenCache) put(raw string, v *verified) {
	if _, loaded := c.m.Swap(raw, v); loaded || c.count.Add(1) <= c.size {
		return
	}
	c.m.Range(func(k, _ any) bool { // full: stop after evicting one other entry
		return k.(string) == raw || !c.removed(k.(string))
	})
}

// removed deletes raw and reports whether this call was the one that did.
func (c *tokenCache) removed(raw string) bool {
	if _, ok := c.m.LoadAndDelete(raw); ok {
		c.count.Add(-1)
		return true
	}
	return false
}

func (c *tokenCache) remove(raw string) { c.removed(raw) }

// retain drops the entries of by whose signing key is not in set with the
// same material: a key removed or replaced in the JWKS revokes what it
// signed. The entries of other Verifiers sharing the cache are left alone.
func (c *tokenCache) retain(by *Verifier, set *keySet) {
	c.m.Range(func(k, v any) bool {
		e := v.(*verified)
		if e.by != by {
			return true
		}
		if key := set.keys[e.kid]; key == nil || (key != e.key && !key.pub.Equal(e.key.pub)) {
			c.removed(k.(string))
		}
		return true
	})
}

// dropBy drops every entry of by, a Verifier that leaves the cache's users.
func (c *tokenCache) dropBy(by *Verifier) {
	c.m.Range(func(k, v any) bool {
		if v.(*verified).by == by {
			c.removed(k.(string))
		}
		return true
	})
}

func (c *tokenCache) len() int { return int(c.count.Load()) }
