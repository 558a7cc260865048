package cognito

import (
	"context"
	"fmt"
	"slices"
)

// Prefetch fetches the pool's JWKS now, within ctx and the fetch timeout, so
// that the first request does not wait for it: call it at start-up, or from a
// readiness probe. It fetches only when no keys are held or they are due for
// a refresh (WithJWKSRefreshInterval), and shares a fetch already under way,
// so frequent probes cost nothing while the keys are fresh. It returns an
// error wrapping ErrJWKSUnavailable when the keys cannot be fetched; keys
// fetched earlier stay in use. A Verifier given WithJWKS never fetches, and
// Prefetch returns nil.
func (v *Verifier) Prefetch(ctx context.Context) error {
	if v == nil {
		return errNilVerifier
	}
	if v.keys.pinned {
		return nil
	}
	if _, err := v.keys.fetch(ctx, ""); err != nil {
		return fmt.Errorf("%w: %w", ErrJWKSUnavailable, err)
	}
	return nil
}

// pin makes data, a JWKS document, the cache's only keys for good.
func (c *jwksCache) pin(data []byte) error {
	if len(data) > maxBodyBytes {
		return fmt.Errorf("%w: WithJWKS: the document is larger than %d bytes", ErrInvalidConfig, maxBodyBytes)
	}
	keys, err := parseJWKS(data)
	if err != nil {
		return fmt.Errorf("%w: WithJWKS: the document %w", ErrInvalidConfig, err)
	}
	c.pinned = true
	c.current.Store(&keySet{keys: keys, fetchedAt: c.now()})
	return nil
}

// logFetched reports a fetched key set, and which kids came and went since
// the previous one.
func (c *jwksCache) logFetched(old, set *keySet) {
	if c.log == nil {
		return
	}
	c.log.Info("cognito: JWKS fetched", "url", redactURL(c.url), "keys", len(set.keys))
	if old == nil {
		return
	}
	var added, removed []string
	for kid := range set.keys {
		if old.keys[kid] == nil {
			added = append(added, kid)
		}
	}
	for kid := range old.keys {
		if set.keys[kid] == nil {
			removed = append(removed, kid)
		}
	}
	if len(added)+len(removed) > 0 {
		slices.Sort(added)
		slices.Sort(removed)
		c.log.Info("cognito: JWKS keys rotated", "url", redactURL(c.url), "added", added, "removed", removed)
	}
}
