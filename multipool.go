package cognito

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// MultiPoolVerifier verifies the tokens of several user pools, such as a
// multi-tenant service with a pool per tenant: it picks the pool's *Verifier
// by the token's iss, among the configured pools only, and that Verifier runs
// every check with its own keys, clients and options.
//
// The iss is read from the claims before the signature is checked, only to
// choose the pool. That is safe because the choice grants nothing: the chosen
// Verifier then checks the signature against that pool's keys (a forger who
// names pool B still needs B's private key) and checks iss again. An iss that
// names no configured pool is refused with ErrInvalidIssuer before any
// network I/O, so tokens cannot make the service fetch anything: the URLs
// fetched come from the configuration, never from a token. A token that one
// of the pools verified before is found in that pool's cache of verified
// tokens, under its exact text, which picks the pool without reading iss.
//
// It is safe for concurrent use. Each pool keeps one key cache, however many
// app clients it accepts (WithClientIDs on its Verifier).
type MultiPoolVerifier struct {
	byIssuer map[string]*Verifier
	pools    []*Verifier
}

// NewMultiPoolVerifier returns a verifier for the pools of the given
// Verifiers, each made by NewVerifier with that pool's Config and options. It
// does no network I/O. It fails with ErrInvalidConfig when given no Verifier,
// a nil one, or two for the same pool (give one Verifier several clients with
// WithClientIDs instead).
func NewMultiPoolVerifier(pools ...*Verifier) (*MultiPoolVerifier, error) {
	if len(pools) == 0 {
		return nil, fmt.Errorf("%w: NewMultiPoolVerifier needs at least one Verifier", ErrInvalidConfig)
	}
	m := &MultiPoolVerifier{byIssuer: map[string]*Verifier{}}
	for i, v := range pools {
		if v == nil {
			return nil, fmt.Errorf("%w: NewMultiPoolVerifier: Verifier #%d is nil", ErrInvalidConfig, i+1)
		}
		for _, iss := range []string{v.issuer, v.altIssuer} {
			if iss == "" {
				continue
			}
			if m.byIssuer[iss] != nil {
				return nil, fmt.Errorf("%w: NewMultiPoolVerifier: two Verifiers for issuer %q (use WithClientIDs for several clients of one pool)", ErrInvalidConfig, redactURL(iss))
			}
			m.byIssuer[iss] = v
		}
		m.pools = append(m.pools, v)
	}
	return m, nil
}

// VerifyIDToken verifies raw as an ID token of one of the pools, as that
// pool's Verifier.VerifyIDToken does.
func (m *MultiPoolVerifier) VerifyIDToken(ctx context.Context, raw string) (*IDToken, error) {
	v, err := m.pool(raw)
	if err != nil {
		return nil, err
	}
	return v.VerifyIDToken(ctx, raw)
}

// VerifyAccessToken verifies raw as an access token of one of the pools, as
// that pool's Verifier.VerifyAccessToken does.
func (m *MultiPoolVerifier) VerifyAccessToken(ctx context.Context, raw string) (*AccessToken, error) {
	v, err := m.pool(raw)
	if err != nil {
		return nil, err
	}
	return v.VerifyAccessToken(ctx, raw)
}

// Prefetch fetches the JWKS of every pool at once, within ctx, as
// Verifier.Prefetch does, and returns the failures joined, each naming its
// pool and wrapping ErrJWKSUnavailable.
func (m *MultiPoolVerifier) Prefetch(ctx context.Context) error {
	if m == nil {
		return errNilVerifier
	}
	errs := make([]error, len(m.pools))
	var wg sync.WaitGroup
	for i, v := range m.pools {
		wg.Go(func() {
			if err := v.Prefetch(ctx); err != nil {
				errs[i] = fmt.Errorf("pool %s: %w", redactURL(v.issuer), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// maxCacheProbes is how many pools' token caches pool looks in before it
// reads the iss instead.
const maxCacheProbes = 8

// pool returns the Verifier of the pool raw's unverified iss names.
func (m *MultiPoolVerifier) pool(raw string) (*Verifier, error) {
	if m == nil {
		return nil, errNilVerifier
	}
	// A token one pool verified before is in that pool's cache under its
	// exact text: a lookup per pool is cheaper than decoding the claims, for
	// the few pools a service has.
	if len(m.pools) <= maxCacheProbes {
		for _, v := range m.pools {
			if v.cache != nil && v.cache.get(raw) != nil {
				return v, nil
			}
		}
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, err
	}
	v := m.byIssuer[iss]
	if v == nil {
		return nil, fmt.Errorf("%w: iss %q is none of the %d configured pools", ErrInvalidIssuer, clean(iss, 128), len(m.pools))
	}
	return v, nil
}

// unverifiedIssuer reads iss from raw's claims without checking anything
// else, with the same parser and limits as the full verification.
func unverifiedIssuer(raw string) (string, error) {
	if len(raw) == 0 || len(raw) > maxTokenBytes {
		return "", fmt.Errorf("%w: token is empty or longer than %d bytes", ErrMalformedToken, maxTokenBytes)
	}
	dot1, dot2 := splitCompact(raw)
	if dot2 < 0 || strings.ContainsAny(raw, "\r\n") {
		return "", fmt.Errorf("%w: not three base64url parts separated by dots", ErrMalformedToken)
	}
	payload, err := decode([]byte(raw[dot1+1 : dot2]))
	if err != nil {
		return "", fmt.Errorf("%w: claims are not canonical base64url", ErrMalformedToken)
	}
	iss, err := issuerOf(payload)
	if err != nil {
		return "", err
	}
	return iss.String(), nil
}

// issuerOf reads the iss member of payload, a token's decoded claims,
// undecoded, checking only that payload is a JSON object without repeated
// members and that iss is a string.
func issuerOf(payload []byte) (stringClaim, error) {
	var iss stringClaim
	err := eachMember(payload, func(name, v []byte) error {
		if string(name) != "iss" {
			return nil
		}
		var err error
		iss, err = checkString(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: claims %w", ErrMalformedToken, err)
	}
	if iss == nil {
		return nil, fmt.Errorf("%w: claims have no iss", ErrInvalidIssuer)
	}
	return iss, nil
}
