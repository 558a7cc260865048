package cognito

import (
	"context"
	"fmt"
	"time"
)

// The revocation list keeps one entry per signed-out sign-in, under
// revokedKeyPrefix and the origin_jti that Cognito gives every token of one
// sign-in (and keeps across refreshes), or the token's own jti for tokens
// without one. The entry's data is only its format's version.
const revokedKeyPrefix = "cognito-revoked:"

var revokedEntry = []byte{1}

// revocationKey is the list's key for a token with these claims, or "" when
// it has neither origin_jti nor jti and cannot be listed.
func (c *claims) revocationKey() string {
	if id := c.originJTI.String(); id != "" {
		return revokedKeyPrefix + id
	}
	if id := c.jti.String(); id != "" {
		return revokedKeyPrefix + "jti:" + id
	}
	return ""
}

// checkRevoked fails when key is on the revocation list, or when the list
// cannot say.
func (v *Verifier) checkRevoked(ctx context.Context, key string) error {
	if v.revocations == nil || key == "" {
		return nil
	}
	if _, ok := v.revocations.(ctxFinder); ok {
		var cancel context.CancelFunc
		ctx, cancel = storeContext(ctx)
		defer cancel()
	}
	_, found, err := findIn(ctx, v.revocations, key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRevocationListUnavailable, err)
	}
	if found {
		return fmt.Errorf("%w: its sign-in was signed out", ErrTokenRevoked)
	}
	return nil
}

// storeContext bounds calls to the revocation list's store by
// DefaultStoreTimeout, whatever the caller's context allows: a request's
// context has no deadline by default, and a store that stalls must be
// answered with ErrRevocationListUnavailable, not hold the request.
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, DefaultStoreTimeout)
}

// listRevoked puts the sign-ins of raws (ID or access tokens that this
// library stored itself, so their signatures are not checked again) on the
// revocation list until the latest of their exp, plus the leeway.
func (v *Verifier) listRevoked(ctx context.Context, raws ...string) error {
	if v.revocations == nil {
		return nil
	}
	until := map[string]time.Time{}
	for _, raw := range raws {
		c, ok := unverifiedClaims(raw)
		if !ok {
			continue
		}
		key := c.revocationKey()
		if key == "" {
			continue
		}
		if exp := c.exp.Add(v.leeway); exp.After(until[key]) {
			until[key] = exp
		}
	}
	now := v.now()
	ctx, cancel := storeContext(ctx)
	defer cancel()
	for key, exp := range until {
		if !exp.After(now) {
			continue // expired tokens fail anyway
		}
		if err := commitTo(ctx, v.revocations, key, revokedEntry, exp); err != nil {
			return fmt.Errorf("%w: %w", ErrRevocationListUnavailable, err)
		}
	}
	return nil
}

// unverifiedClaims reads the claims of a token without checking its
// signature; only for tokens this library received from the token endpoint
// and stored itself.
func unverifiedClaims(raw string) (claims, bool) {
	dot1, dot2 := splitCompact(raw)
	if dot2 < 0 {
		return claims{}, false
	}
	payload, err := decode([]byte(raw[dot1+1 : dot2]))
	if err != nil {
		return claims{}, false
	}
	c, err := parseClaims(payload, "")
	return c, err == nil
}
