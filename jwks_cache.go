package cognito

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"golang.org/x/sync/singleflight"
)

// RSA moduli outside this range are skipped: shorter ones are breakable,
// longer ones make every verify slow for no security Cognito offers.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// publicKey is one usable signing key of the pool.
type publicKey struct {
	pub *rsa.PublicKey
	alg string // the JWK's alg; empty when the JWK has none
}

// keySet is an immutable snapshot of the pool's keys.
type keySet struct {
	keys      map[string]*publicKey // by kid
	fetchedAt time.Time
}

// jwksCache holds the pool's keys. Readers load the current snapshot with one
// atomic load and a map lookup; fetches are shared by concurrent callers.
//
// Fetch policy: the first use fetches (and a failed first fetch is retried on
// the next use); an unknown kid refetches at once; a fetch that fails, or that
// still lacks the kid it was made for, starts a quiet period of minRefetch
// during which unknown kids fail without touching the network; keys older than
// refresh are refetched by one caller while the others go on with the old keys,
// which stay in use when the refetch fails.
type jwksCache struct {
	url        string
	client     *http.Client
	now        func() time.Time
	timeout    time.Duration
	refresh    time.Duration
	minRefetch time.Duration
	onChange   func(*keySet) // called after a new snapshot is stored
	log        *slog.Logger  // nil: silent
	pinned     bool          // WithJWKS: the keys never change and are never fetched

	current    atomic.Pointer[keySet]
	quietUntil atomic.Int64 // unix nanoseconds
	refreshing atomic.Bool
	fetches    singleflight.Group
}

// key returns the key named kid, fetching the JWKS when the policy allows.
func (c *jwksCache) key(ctx context.Context, kid string) (*publicKey, error) {
	set := c.current.Load()
	if set == nil {
		var err error
		if set, err = c.fetch(ctx, kid); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrJWKSUnavailable, err)
		}
	} else if !c.pinned && c.refreshDue(set) && c.refreshing.CompareAndSwap(false, true) {
		fresh, err := c.fetch(ctx, "")
		c.refreshing.Store(false)
		if err == nil {
			set = fresh
			if set.keys[kid] == nil {
				c.startQuiet() // this call's own refetch lacks the kid: no second one
			}
		}
	}
	if k := set.keys[kid]; k != nil {
		return k, nil
	}
	if c.pinned || c.quiet() {
		return nil, fmt.Errorf("%w: kid %q is not in the JWKS", ErrUnknownKey, clean(kid, 64))
	}
	set, err := c.fetch(ctx, kid)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %q is not in the cached JWKS, and %w: %w", ErrUnknownKey, clean(kid, 64), ErrJWKSUnavailable, err)
	}
	if k := set.keys[kid]; k != nil {
		return k, nil
	}
	c.startQuiet()
	return nil, fmt.Errorf("%w: kid %q is not in the JWKS", ErrUnknownKey, clean(kid, 64))
}

// ready returns the key named kid when key would return it without a
// fetch: the keys are fetched, hold kid and are not due for a refresh. It
// returns nil otherwise.
func (c *jwksCache) ready(kid string) *publicKey {
	set := c.current.Load()
	if set == nil || (!c.pinned && c.refreshDue(set)) {
		return nil
	}
	return set.keys[kid]
}

// refreshDue reports whether set is old enough to refetch and no quiet
// period holds the refetch back.
func (c *jwksCache) refreshDue(set *keySet) bool { return c.refreshDueAt(set, c.now()) }

func (c *jwksCache) refreshDueAt(set *keySet, now time.Time) bool {
	return now.Sub(set.fetchedAt) >= c.refresh && !c.quietAt(now)
}

// vouches reports whether a verified-token cache entry signed by key under
// kid may still be served at now: key is the current set's for kid, and the
// set is not due for a refresh. Otherwise the hit takes the full path once,
// which refreshes the keys and drops the cached tokens of a key that left the
// JWKS.
func (c *jwksCache) vouches(kid string, key *publicKey, now time.Time) bool {
	set := c.current.Load()
	return set != nil && set.keys[kid] == key && (c.pinned || !c.refreshDueAt(set, now))
}

func (c *jwksCache) quiet() bool { return c.quietAt(c.now()) }

func (c *jwksCache) quietAt(now time.Time) bool { return now.UnixNano() < c.quietUntil.Load() }

func (c *jwksCache) startQuiet() {
	wasQuiet := c.quiet()
	c.quietUntil.Store(c.now().Add(c.minRefetch).UnixNano())
	// Every caller that shared a fetch lands here: one line per quiet period.
	if c.log != nil && c.minRefetch > 0 && !wasQuiet {
		c.log.Warn("cognito: JWKS quiet period: unknown kids fail without a fetch", "url", redactURL(c.url), "for", c.minRefetch.String())
	}
}

// fetch downloads the JWKS once for all concurrent callers. The download runs
// to its own timeout even when the caller that started it gives up; each
// caller stops waiting when its own context ends. A download that fails, or
// that lacks wantKid (when not empty), starts the quiet period before any
// waiting caller returns, so a flood of unknown kids causes one fetch.
func (c *jwksCache) fetch(ctx context.Context, wantKid string) (*keySet, error) {
	ch := c.fetches.DoChan("jwks", func() (any, error) {
		// A caller that decided to fetch just as another fetch ended must
		// not fetch again when that fetch already answered it.
		if set := c.current.Load(); set != nil && c.answered(set, wantKid) {
			return set, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		set, err := c.download(fctx)
		if err != nil {
			if c.log != nil {
				c.log.Warn("cognito: JWKS fetch failed", "url", redactURL(c.url), "error", err)
			}
			c.startQuiet()
			return nil, err
		}
		c.logFetched(c.current.Load(), set)
		c.current.Store(set)
		if c.onChange != nil {
			c.onChange(set)
		}
		if wantKid != "" && set.keys[wantKid] == nil {
			c.startQuiet()
		}
		return set, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*keySet), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// answered reports whether set makes a fetch for wantKid pointless: it has
// the kid, or lacks it during the quiet period; for a refresh (wantKid
// empty), it is younger than the refresh interval.
func (c *jwksCache) answered(set *keySet, wantKid string) bool {
	if wantKid == "" {
		return c.now().Sub(set.fetchedAt) < c.refresh
	}
	return set.keys[wantKid] != nil || c.quiet()
}

func (c *jwksCache) download(ctx context.Context) (*keySet, error) {
	shown := redactURL(c.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		// Its *url.Error would quote the URL, password included.
		return nil, fmt.Errorf("GET %s: the URL does not parse", shown)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %d", shown, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", shown, err)
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", shown, maxBodyBytes)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return &keySet{keys: keys, fetchedAt: c.now()}, nil
}

// parseJWKS keeps the RSA signing keys of a JWKS document. A key that does
// not parse, is not RSA, is not for signatures, is too short or too long, or
// shares its kid with another is skipped, so one bad key never poisons the set.
func parseJWKS(body []byte) (map[string]*publicKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("is not a JWKS document")
	}
	keys := make(map[string]*publicKey, len(doc.Keys))
	dup := map[string]bool{}
	for _, raw := range doc.Keys {
		kid, k := parseJWK(raw)
		switch {
		case k == nil:
		case dup[kid] || keys[kid] != nil:
			delete(keys, kid) // ambiguous: trust neither
			dup[kid] = true
		default:
			keys[kid] = k
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("has no usable RSA signing key")
	}
	return keys, nil
}

func parseJWK(raw []byte) (string, *publicKey) {
	k, err := jwk.ParseKey(raw)
	if err != nil || k.KeyType() != jwa.RSA() {
		return "", nil
	}
	kid, _ := k.KeyID()
	if kid == "" {
		return "", nil
	}
	if use, ok := k.KeyUsage(); ok && use != "sig" {
		return "", nil
	}
	if ops, ok := k.KeyOps(); ok && !hasVerifyOp(ops) {
		return "", nil
	}
	pk, err := k.PublicKey()
	if err != nil {
		return "", nil
	}
	var pub rsa.PublicKey
	if err := jwk.Export(pk, &pub); err != nil || pub.N == nil {
		return "", nil
	}
	if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits || pub.E < 3 || pub.E%2 == 0 {
		return "", nil
	}
	var alg string
	if a, ok := k.Algorithm(); ok {
		alg = a.String()
	}
	return kid, &publicKey{pub: &pub, alg: alg}
}

func hasVerifyOp(ops jwk.KeyOperationList) bool {
	for _, op := range ops {
		if op == jwk.KeyOpVerify {
			return true
		}
	}
	return false
}
