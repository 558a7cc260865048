package cognito

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// TenantResolver maps the unverified iss of a token to the Config of the
// user pool that issues it, for NewTenantVerifier: typically a lookup in the
// service's own table of tenants. It answers an error matching
// ErrInvalidIssuer for an issuer that is none of the service's pools, and any
// other error when it cannot tell (its database is down): the token is then
// refused with ErrTenantUnavailable, which RequireAccessToken answers with
// 503. It must return when ctx ends, and may be called from several
// goroutines at once (never twice at once for one issuer).
type TenantResolver func(ctx context.Context, issuer string) (Config, error)

// Bounds of a TenantVerifier.
const (
	// DefaultMaxTenants is how many pools a TenantVerifier keeps a Verifier
	// for, unless WithMaxTenants says otherwise.
	DefaultMaxTenants = 1000
	// DefaultTenantTTL is how long a TenantVerifier uses a pool's Config
	// before asking the resolver again, unless WithTenantTTL says otherwise.
	DefaultTenantTTL = 5 * time.Minute
	// TenantRefusalTTL is how long a TenantVerifier remembers that the
	// resolver refused an issuer (ErrInvalidIssuer) and refuses it again
	// without asking.
	TenantRefusalTTL = time.Minute
	// MaxTenantRefusals bounds the refused issuers a TenantVerifier
	// remembers; when full, it forgets the oldest first. With issuers of at
	// most 512 bytes that is 7 MB at most.
	MaxTenantRefusals = 10000
)

const (
	// maxIssuerBytes bounds the iss a TenantVerifier hands to its resolver:
	// Cognito's are under 100 bytes.
	maxIssuerBytes = 512
	// tenantResolveTimeout bounds each call to the resolver, whatever the
	// contexts of the requests waiting for it allow.
	tenantResolveTimeout = 10 * time.Second
	// tenantRetry is how long a pool keeps its Config after the resolver
	// failed to confirm it, before asking again.
	tenantRetry = time.Minute
)

// TenantVerifier verifies the tokens of user pools known only at run time,
// such as a SaaS service with a pool per tenant added while it runs. It reads
// a token's iss before checking anything, only to choose the pool: the
// issuer's Config comes from the TenantResolver, and a Verifier made from
// that Config with the TenantVerifier's options then runs every check of
// Verifier (signature with that pool's keys, iss, token_use, client, times,
// WithCheck rules, revocation list). A forger who names another tenant's pool
// still needs that pool's private key. Every URL fetched comes from a Config
// the resolver returned, never from a token.
//
// An iss that is not an https URL (http only to a loopback host), or that is
// longer than 512 bytes, is refused with ErrInvalidIssuer before the resolver
// is called. The resolver is called once per issuer at a time, however many
// requests wait for it, with the first request's context values, and bounded
// by 10 seconds; each request waits within its own context, so a resolver
// that hangs holds up the requests for that issuer only, until their contexts
// end (ErrTenantUnavailable). A Config whose issuer (Issuer, or either of
// Cognito's forms derived from UserPoolID) is not the token's iss is refused
// with ErrInvalidIssuer. An issuer the resolver refuses costs no network I/O
// and is refused again without asking it for TenantRefusalTTL, up to
// MaxTenantRefusals issuers (the oldest forgotten first): every distinct
// made-up issuer still costs one call, so answer issuers that are none of
// yours cheaply (an in-memory set, or the pool ID's form, before a query).
// A resolver error other than ErrInvalidIssuer, a panic, or no answer within
// the request's context fails the token with ErrTenantUnavailable and is not
// remembered.
//
// It keeps a Verifier, and so a cache of keys, for up to WithMaxTenants pools
// (DefaultMaxTenants), and drops the least recently used first (tenants used
// since the last one was added count as equally recent, which keeps
// verifications free of shared writes). A dropped pool's next token asks the
// resolver and fetches its keys again: set the bound above the number of
// tenants active at once. The verified tokens of all pools share one cache,
// bounded by WithTokenCacheSize, so that a token seen again costs what it
// costs a single Verifier.
//
// A pool's Config is used for WithTenantTTL (DefaultTenantTTL); the next
// token after that asks the resolver again, while other requests go on with
// the pool as it was. The same Config keeps the pool's keys and cached
// tokens; a different one gets a new Verifier; ErrInvalidIssuer removes the
// tenant; a resolver that fails leaves the pool as it was, asked again a
// minute later. Forget applies a change at once.
//
// Every option applies to every pool's Verifier (clock, HTTP client, leeway,
// checks, revocation list, logger, JWKS timings); Config.ClientID is each
// tenant's app client, and WithClientIDs adds clients accepted for every
// tenant. With WithLogger it also reports a resolver that fails (Warn) or
// panics (Error). It is safe for concurrent use.
type TenantVerifier struct {
	resolve TenantResolver
	s       settings // every pool's Verifier's
	max     int
	ttl     time.Duration
	cache   *tokenCache // shared by the pools' Verifiers; nil when off

	byIssuer sync.Map // string → *tenantEntry, under each issuer form its pool accepts
	epoch    atomic.Uint64
	flights  singleflight.Group

	mu      sync.Mutex
	entries map[*tenantEntry]struct{}
	gen     uint64 // counts Forget calls: a resolve that began before one is not kept
	refused refusalList
}

// tenantEntry is one pool of a TenantVerifier.
type tenantEntry struct {
	v          *Verifier
	iss        string        // the issuer it was resolved for
	key        tenantKey     // what of its Config its Verifier depends on
	used       atomic.Uint64 // the epoch of its last use: least recently used goes first
	staleAt    atomic.Int64  // unix nanoseconds: ask the resolver again from then
	refreshing atomic.Bool
	gone       atomic.Bool // dropped: find the pool again
}

// tenantKey is what of a Config a Verifier depends on; it leaves out the
// client secret, which a TenantVerifier has no use for and does not keep.
type tenantKey struct{ issuer, altIssuer, jwksURL, clientID string }

func tenantKeyOf(cfg Config) tenantKey {
	return tenantKey{cfg.issuer(), cfg.altIssuer(), cfg.jwksURL(), cfg.ClientID}
}

// issuers are the iss values the pool's Verifier accepts.
func (k tenantKey) issuers() []string {
	if k.altIssuer == "" {
		return []string{k.issuer}
	}
	return []string{k.issuer, k.altIssuer}
}

// NewTenantVerifier returns a TenantVerifier that asks resolve for the pool
// of each token's issuer and verifies the token with opts, as NewVerifier
// would with that pool's Config. It does no network I/O and calls no
// resolver. It fails with ErrInvalidConfig when resolve is nil or an option
// is malformed (an empty WithClientIDs ID, a WithJWKS document without keys).
func NewTenantVerifier(resolve TenantResolver, opts ...Option) (*TenantVerifier, error) {
	if resolve == nil {
		return nil, fmt.Errorf("%w: NewTenantVerifier needs a TenantResolver", ErrInvalidConfig)
	}
	s := newSettings(opts)
	// A stand-in pool surfaces a malformed option now rather than on every
	// tenant's first token.
	stand := Config{Issuer: "https://tenant.invalid/pool", ClientID: "client"}
	if _, err := newVerifier(stand, &s, nil); err != nil {
		return nil, err
	}
	tv := &TenantVerifier{
		resolve: resolve,
		s:       s,
		max:     DefaultMaxTenants,
		ttl:     DefaultTenantTTL,
		cache:   newTokenCache(s.tokenCacheSize),
		entries: map[*tenantEntry]struct{}{},
	}
	if s.tenants.max > 0 {
		tv.max = s.tenants.max
	}
	if s.tenants.ttl > 0 {
		tv.ttl = s.tenants.ttl
	}
	return tv, nil
}

var _ AccessTokenVerifier = (*TenantVerifier)(nil)

// VerifyIDToken verifies raw as an ID token of the pool its iss names, as
// that pool's Verifier.VerifyIDToken does.
func (tv *TenantVerifier) VerifyIDToken(ctx context.Context, raw string) (*IDToken, error) {
	v, hit, now, err := tv.pool(ctx, raw)
	if err != nil {
		return nil, err
	}
	return v.verifyIDToken(ctx, raw, hit, now)
}

// VerifyAccessToken verifies raw as an access token of the pool its iss
// names, as that pool's Verifier.VerifyAccessToken does. It is an
// AccessTokenVerifier: RequireAccessToken answers ErrTenantUnavailable with
// 503.
func (tv *TenantVerifier) VerifyAccessToken(ctx context.Context, raw string) (*AccessToken, error) {
	v, hit, now, err := tv.pool(ctx, raw)
	if err != nil {
		return nil, err
	}
	return v.verifyAccessToken(ctx, raw, hit, now)
}

// Forget drops what tv holds about issuer: its pool's Verifier (keys and
// cached tokens, under both of Cognito's issuer forms) and a remembered
// refusal, so that the next token naming it asks the resolver again. Call it
// where a tenant is added, changed or removed, with the pool's issuer
// (Config.IssuerURL): it takes effect on this process at once, and on other
// processes within WithTenantTTL (TenantRefusalTTL for an issuer refused
// before it was added). A resolve under way when Forget is called answers the
// requests waiting for it, and is not kept.
func (tv *TenantVerifier) Forget(issuer string) {
	if tv == nil {
		return
	}
	tv.mu.Lock()
	defer tv.mu.Unlock()
	tv.gen++
	if t := tv.lookup(issuer); t != nil {
		tv.drop(t)
	}
	tv.refused.remove(issuer)
	tv.flights.Forget(issuer)
}

// pool returns the Verifier of the pool raw's iss names, and, when the token
// cache holds raw, its entry and the time the clock read, for the Verifier
// to reuse.
func (tv *TenantVerifier) pool(ctx context.Context, raw string) (*Verifier, *verified, time.Time, error) {
	if tv == nil {
		return nil, nil, time.Time{}, errNilVerifier
	}
	// A token verified before names its pool's Verifier: cheaper than
	// reading its iss, and as safe, since that Verifier checks it again.
	if tv.cache != nil {
		if e := tv.cache.get(raw); e != nil && e.by != nil && e.by.tenant != nil && !e.by.tenant.gone.Load() {
			now := tv.s.now()
			t, err := tv.use(ctx, e.by.tenant, now)
			if err != nil {
				return nil, nil, time.Time{}, err
			}
			return t.v, e, now, nil
		}
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if err := checkTenantIssuer(iss); err != nil {
		return nil, nil, time.Time{}, err
	}
	t := tv.lookup(iss)
	if t == nil {
		t, err = tv.load(ctx, iss)
	} else {
		t, err = tv.use(ctx, t, tv.s.now())
	}
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return t.v, nil, time.Time{}, nil
}

// checkTenantIssuer refuses an iss that no pool's Config could have, before
// the resolver sees it.
func checkTenantIssuer(iss string) error {
	if len(iss) > maxIssuerBytes {
		return fmt.Errorf("%w: iss is longer than %d bytes", ErrInvalidIssuer, maxIssuerBytes)
	}
	if err := checkServiceURL(iss); err != nil {
		// Not echoed: it may carry a URL password.
		return fmt.Errorf("%w: iss %v", ErrInvalidIssuer, err)
	}
	return nil
}

// lookup returns the live pool for iss, or nil.
func (tv *TenantVerifier) lookup(iss string) *tenantEntry {
	if x, ok := tv.byIssuer.Load(iss); ok {
		if t := x.(*tenantEntry); !t.gone.Load() {
			return t
		}
	}
	return nil
}

// use marks t used and returns it, or what the resolver says of it now when
// its Config is due for a check. Only one caller checks; the others go on
// with t meanwhile, and so does the checking one when the resolver fails.
func (tv *TenantVerifier) use(ctx context.Context, t *tenantEntry, now time.Time) (*tenantEntry, error) {
	if ep := tv.epoch.Load(); t.used.Load() != ep {
		t.used.Store(ep)
	}
	if now.UnixNano() < t.staleAt.Load() || !t.refreshing.CompareAndSwap(false, true) {
		return t, nil
	}
	defer t.refreshing.Store(false)
	fresh, err := tv.settleShared(ctx, t.iss)
	switch {
	case errors.Is(err, ErrInvalidIssuer):
		return nil, err // the tenant is gone
	case err != nil:
		return t, nil
	}
	return fresh, nil
}

// load finds the pool of an issuer tv holds no Verifier for.
func (tv *TenantVerifier) load(ctx context.Context, iss string) (*tenantEntry, error) {
	tv.mu.Lock()
	refused := tv.refused.has(iss, tv.s.now())
	tv.mu.Unlock()
	if refused {
		return nil, fmt.Errorf("%w: iss %q was refused by the resolver within the last %s", ErrInvalidIssuer, clean(iss, 128), TenantRefusalTTL)
	}
	return tv.settleShared(ctx, iss)
}

// settleShared runs settle once for every concurrent caller about iss; each
// waits within its own context.
func (tv *TenantVerifier) settleShared(ctx context.Context, iss string) (*tenantEntry, error) {
	ch := tv.flights.DoChan(iss, func() (any, error) {
		t, err := tv.settle(ctx, iss)
		return t, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*tenantEntry), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no answer from the resolver for iss %q: %w", ErrTenantUnavailable, clean(iss, 128), ctx.Err())
	}
}

// settle asks the resolver about iss and stores what it says: a pool (new,
// changed, or confirmed), or a refusal. A resolver that fails leaves a pool
// held for iss as it was.
func (tv *TenantVerifier) settle(ctx context.Context, iss string) (*tenantEntry, error) {
	tv.mu.Lock()
	gen := tv.gen
	// A caller that found nothing just as another resolve of iss ended must
	// not ask again what that one answered.
	now := tv.s.now()
	if t := tv.lookup(iss); t != nil && now.UnixNano() < t.staleAt.Load() {
		tv.mu.Unlock()
		return t, nil
	}
	refused := tv.refused.has(iss, now)
	tv.mu.Unlock()
	if refused {
		return nil, fmt.Errorf("%w: iss %q was refused by the resolver within the last %s", ErrInvalidIssuer, clean(iss, 128), TenantRefusalTTL)
	}
	cfg, err := tv.call(ctx, iss)
	key := tenantKeyOf(cfg)
	if err == nil && iss != key.issuer && iss != key.altIssuer {
		// The Config is the resolver's and not validated yet: its issuer may
		// carry a URL password.
		err = fmt.Errorf("%w: the resolver answered the pool of iss %q", ErrInvalidIssuer, clean(redactURL(key.issuer), 128))
	}
	now = tv.s.now()

	tv.mu.Lock()
	defer tv.mu.Unlock()
	keep := gen == tv.gen // no Forget since the call began
	old := tv.lookup(iss)
	if errors.Is(err, ErrInvalidIssuer) {
		if keep {
			if old != nil {
				tv.drop(old)
			}
			tv.refused.add(iss, now)
		}
		return nil, fmt.Errorf("%w: iss %q is none of the resolver's pools: %w", ErrInvalidIssuer, clean(iss, 128), err)
	}
	if err != nil {
		err = fmt.Errorf("%w: resolving iss %q: %w", ErrTenantUnavailable, clean(iss, 128), err)
	} else if old != nil && old.key == key {
		old.staleAt.Store(now.Add(tv.ttl).UnixNano())
		return old, nil
	}
	var v *Verifier
	if err == nil {
		if v, err = newVerifier(cfg, &tv.s, tv.cache); err != nil {
			err = fmt.Errorf("cognito: the resolver's Config for iss %q: %w", clean(iss, 128), err)
		}
	}
	if err != nil {
		if l := tv.s.api.logger; l != nil {
			l.Warn("cognito: tenant resolver failed", "iss", clean(iss, 128), "error", err)
		}
		if old != nil {
			old.staleAt.Store(now.Add(min(tv.ttl, tenantRetry)).UnixNano())
			return old, nil
		}
		return nil, err
	}
	t := &tenantEntry{v: v, iss: iss, key: key}
	v.tenant = t
	t.staleAt.Store(now.Add(tv.ttl).UnixNano())
	if !keep {
		t.gone.Store(true) // it answers the requests that asked before Forget
		return t, nil
	}
	if old != nil {
		tv.drop(old)
	}
	tv.add(t)
	return t, nil
}

// call runs the resolver, bounded by tenantResolveTimeout and detached from
// the cancellation of the request that started it, which other requests may
// be waiting on too. A panic is an error.
func (tv *TenantVerifier) call(ctx context.Context, iss string) (cfg Config, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tenantResolveTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			if l := tv.s.api.logger; l != nil {
				l.Error("cognito: tenant resolver panicked", "iss", clean(iss, 128), "panic", clean(fmt.Sprint(r), 256))
			}
			cfg, err = Config{}, errors.New("cognito: the resolver panicked")
		}
	}()
	return tv.resolve(ctx, iss)
}

// add stores t under its issuers as the most recently used pool, and drops
// the least recently used ones beyond the bound. tv.mu is held.
func (tv *TenantVerifier) add(t *tenantEntry) {
	t.used.Store(tv.epoch.Add(2) - 1) // below the epoch of every later use
	for _, iss := range t.key.issuers() {
		if other := tv.lookup(iss); other != nil {
			tv.drop(other)
		}
		tv.byIssuer.Store(iss, t)
	}
	tv.entries[t] = struct{}{}
	for len(tv.entries) > tv.max {
		var oldest *tenantEntry
		for e := range tv.entries {
			if e != t && (oldest == nil || e.used.Load() < oldest.used.Load()) {
				oldest = e
			}
		}
		tv.drop(oldest)
	}
}

// drop forgets t's pool, and the tokens its Verifier cached. tv.mu is held.
func (tv *TenantVerifier) drop(t *tenantEntry) {
	t.gone.Store(true)
	for _, iss := range t.key.issuers() {
		tv.byIssuer.CompareAndDelete(iss, t)
	}
	delete(tv.entries, t)
	if tv.cache != nil {
		tv.cache.dropBy(t.v)
	}
}

// refusalList remembers the issuers the resolver refused, each for
// TenantRefusalTTL, MaxTenantRefusals at most. All live equally long, so the
// oldest is also the first to expire.
type refusalList struct {
	byIssuer map[string]*list.Element // of *refusal
	order    list.List                // oldest first
}

type refusal struct {
	iss   string
	until time.Time
}

func (l *refusalList) has(iss string, now time.Time) bool {
	el := l.byIssuer[iss]
	if el == nil {
		return false
	}
	if now.Before(el.Value.(*refusal).until) {
		return true
	}
	l.removeElement(el)
	return false
}

func (l *refusalList) add(iss string, now time.Time) {
	if l.byIssuer == nil {
		l.byIssuer = map[string]*list.Element{}
	}
	l.remove(iss)
	for el := l.order.Front(); el != nil; el = l.order.Front() {
		if l.order.Len() < MaxTenantRefusals && now.Before(el.Value.(*refusal).until) {
			break
		}
		l.removeElement(el)
	}
	l.byIssuer[iss] = l.order.PushBack(&refusal{iss: iss, until: now.Add(TenantRefusalTTL)})
}

func (l *refusalList) remove(iss string) {
	if el := l.byIssuer[iss]; el != nil {
		l.removeElement(el)
	}
}

func (l *refusalList) removeElement(el *list.Element) {
	delete(l.byIssuer, el.Value.(*refusal).iss)
	l.order.Remove(el)
}

func (l *refusalList) len() int { return l.order.Len() }
