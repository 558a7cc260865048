package cognito

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Defaults of the options below.
const (
	DefaultHTTPTimeout          = 30 * time.Second // of the default *http.Client
	DefaultJWKSFetchTimeout     = 10 * time.Second
	DefaultJWKSRefreshInterval  = time.Hour
	DefaultJWKSMinRefetchPeriod = time.Minute
	DefaultTokenCacheSize       = 4096
)

// Option configures a Client or a Verifier. Options that concern only one of
// them are ignored by the other.
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	api            apiSettings // the options of APIs and services, below
	httpClient     *http.Client
	now            func() time.Time
	leeway         time.Duration
	jwksTimeout    time.Duration
	jwksRefresh    time.Duration
	jwksMinRefetch time.Duration
	tokenCacheSize int
	revocations    SessionStore
	tenants        tenantSettings // the options of NewTenantVerifier, at the end
}

// defaultHTTPClient follows no redirect: a redirected POST would resend the
// code, refresh token or client secret, and a redirected JWKS fetch could
// leave https. A 3xx answer is an error instead.
var defaultHTTPClient = &http.Client{
	Timeout:       DefaultHTTPTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func newSettings(opts []Option) settings {
	s := settings{
		httpClient:     defaultHTTPClient,
		now:            time.Now,
		jwksTimeout:    DefaultJWKSFetchTimeout,
		jwksRefresh:    DefaultJWKSRefreshInterval,
		jwksMinRefetch: DefaultJWKSMinRefetchPeriod,
		tokenCacheSize: DefaultTokenCacheSize,
		api:            apiSettings{renewMargin: DefaultRenewMargin},
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	return s
}

// WithHTTPClient makes NewClient and NewVerifier send their requests through c
// instead of the default client, which has a DefaultHTTPTimeout timeout and
// follows no redirect. Give c a CheckRedirect that returns
// http.ErrUseLastResponse too: a followed redirect resends a token request's
// body, credentials included. A nil c is ignored.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(s *settings) {
		if c != nil {
			s.httpClient = c
		}
	})
}

// WithClock replaces time.Now: the Verifier checks exp, nbf and iat against it,
// and the Client computes Tokens.Expiry from it. Tests inject a fake clock
// here instead of sleeping. A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(s *settings) {
		if now != nil {
			s.now = now
		}
	})
}

// WithLeeway lets the Verifier accept tokens up to d past exp or before nbf,
// to absorb clock skew. The default is none; negative values count as none.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(s *settings) { s.leeway = max(d, 0) })
}

// WithJWKSFetchTimeout bounds each fetch of the JWKS, whatever the callers'
// contexts allow. Default DefaultJWKSFetchTimeout; values <= 0 are ignored.
func WithJWKSFetchTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d > 0 {
			s.jwksTimeout = d
		}
	})
}

// WithJWKSRefreshInterval sets how old the cached keys may grow before the
// Verifier fetches them again. One verifying caller does the fetch, waiting
// for it within its context and the fetch timeout; the others go on with the
// keys held, which also stay in use if the fetch fails.
// Default DefaultJWKSRefreshInterval; values <= 0 are ignored.
func WithJWKSRefreshInterval(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d > 0 {
			s.jwksRefresh = d
		}
	})
}

// WithJWKSMinRefetchInterval sets how long, after a fetch that failed or that
// still lacked a token's kid, tokens with unknown kids fail at once with
// ErrUnknownKey instead of fetching again. Default DefaultJWKSMinRefetchPeriod;
// values < 0 are ignored.
func WithJWKSMinRefetchInterval(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d >= 0 {
			s.jwksMinRefetch = d
		}
	})
}

// WithTokenCacheSize bounds the Verifier's cache of verified tokens to n
// entries (about 3 KiB each for typical Cognito tokens). A token found there
// skips the signature check but not the exp, nbf and iat checks; entries signed
// by a key that leaves the JWKS are dropped when the keys are refreshed. n <= 0
// turns the cache off. Default DefaultTokenCacheSize.
func WithTokenCacheSize(n int) Option {
	return optionFunc(func(s *settings) { s.tokenCacheSize = max(n, 0) })
}

// Defaults of the options of APIs and services.
const (
	// DefaultRenewMargin is how long before its expiry a TokenSource renews
	// an M2M token: long enough for one slow token request and ordinary
	// clock skew (x/oauth2 uses 10 s, which a slow request can overrun).
	DefaultRenewMargin = time.Minute
)

// apiSettings are the settings of the options below, kept apart from the
// older ones so that each family reads as a block.
type apiSettings struct {
	clientIDs   []string
	jwks        []byte // WithJWKS: the only keys, never fetched
	hasJWKS     bool
	checks      []func(context.Context, VerifiedToken) error
	logger      *slog.Logger
	tokenStore  SessionStore
	renewMargin time.Duration
}

// WithClientIDs makes a Verifier accept the tokens of any of these app
// clients of the pool, besides Config.ClientID when it is set: an ID token's
// aud (with the azp rule for several audiences), or an access token's
// client_id, must be one of them. With it, Config.ClientID may be empty for
// NewVerifier (Config.Validate alone still asks for it, and NewClient needs
// it). The verified token names its client in IDToken.Audience or
// AccessToken.ClientID. However many clients, the pool's keys are fetched
// and cached once. An empty ID makes NewVerifier fail with ErrInvalidConfig.
// Several WithClientIDs add up. NewClient ignores it.
func WithClientIDs(ids ...string) Option {
	ids = slices.Clone(ids)
	return optionFunc(func(s *settings) { s.api.clientIDs = append(s.api.clientIDs, ids...) })
}

// WithJWKS gives a Verifier the pool's keys as a JWKS document (the body of
// the pool's /.well-known/jwks.json), for services that must not reach
// Cognito at run time (air-gapped hosts, pinned keys in tests). The Verifier
// then never fetches: a token whose kid is not in jwks fails with
// ErrUnknownKey, and Prefetch does nothing. A document without a usable RSA
// signing key makes NewVerifier fail with ErrInvalidConfig. Keys rotate in
// Cognito only when an administrator rotates them; a service pinned this way
// must be redeployed with the new document then.
func WithJWKS(jwks []byte) Option {
	jwks = slices.Clone(jwks)
	return optionFunc(func(s *settings) { s.api.jwks, s.api.hasJWKS = jwks, true })
}

// WithCheck adds a rule of the caller's to every verification by a Verifier:
// after every built-in check has passed (on every call, cache hits included,
// so a rule whose answer changes takes effect at once), fn gets the request's
// context and the verified *IDToken or *AccessToken, and refuses the token by
// returning an error. The verify then fails with an error that matches both
// ErrCheckFailed and fn's error with errors.Is (return one wrapping
// ErrEndpointUnavailable when the rule could not be decided, and
// RequireAccessToken answers 503 instead of 401). fn must not keep or change
// the token. Checks run in the order given; a nil fn is ignored.
func WithCheck(fn func(ctx context.Context, t VerifiedToken) error) Option {
	return optionFunc(func(s *settings) {
		if fn != nil {
			s.api.checks = append(s.api.checks, fn)
		}
	})
}

// WithLogger makes a Verifier and a Client report to l what an operator needs
// to see: the JWKS fetched (Info), a JWKS fetch failed (Warn), the keys rotated
// (Info), a quiet period entered after a failed or useless fetch (Warn), a
// token request refused or failed (Warn; Info for a refresh token refused
// with invalid_grant, which is ordinary: it expired, was revoked, or another
// replica spent it a moment earlier), an M2M token renewal that failed while
// the old token was still served (Warn), a WithTokenStore call that failed or
// an entry there that did not open (Warn). It logs no token, code, client
// secret or claim. Without it, or with a nil l, the package logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) { s.api.logger = l })
}

// WithRenewMargin sets how long before its expiry a Client's TokenSource
// renews an M2M token: callers get the cached token until then; the first
// caller after it renews the token and waits for that one request, while the
// others keep getting the old one, which is still valid, without waiting.
// The margin is at most half the token's lifetime, so a short-lived token is
// not renewed on every call. Default DefaultRenewMargin; values < 0 are
// ignored.
func WithRenewMargin(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d >= 0 {
			s.api.renewMargin = d
		}
	})
}

// WithTokenStore shares a Client's client_credentials tokens (TokenSource,
// HTTPClient) with every replica using the same store and app client: one
// token request per renewal for the whole fleet. A store that fails costs
// token requests, never tokens.
//
// A source looks in the store only when it has no token or its token is due
// (WithRenewMargin), never on every call: it keeps the token until its own
// renew point. A replica that starts while the fleet's token is fresh makes
// no request. With a LeaseStore (MemoryStore, redisstore's Store), the first
// replica to take a short lease renews for all while the others keep using
// their current token and look for the new one a few seconds later; a
// replica with no valid token waits for the holder's token while the lease
// lasts (the HTTP client's timeout and two store calls), then requests its
// own, so a holder that dies blocks no one past the lease's expiry. With any
// other SessionStore (an scs store), each replica whose token is due requests
// one: at most one request per replica per renewal.
//
// The store holds a bearer credential, so each entry is sealed with
// AES-256-GCM under a key derived (HKDF-SHA256) from the client secret, and
// kept under a name that is an HMAC of the pool, the client ID and the sorted
// scopes, bound into the seal: a store dump yields no token without the
// secret, two app clients never read each other's tokens, and an entry moved
// to another name does not open. An entry that does not open (garbled, or
// sealed with another secret) is ignored and replaced at the next renewal.
// Keys start with "cognito-m2m", so the sessions' store may serve as well.
//
// Every store call is bounded by DefaultStoreTimeout or the HTTP client's
// timeout, whichever is shorter (waiting longer for the store than for a
// token request saves nothing), on stores with scs's context variants
// (FindCtx, CommitCtx, DeleteCtx) and for Lease; a store without them must
// bound its own. A call that fails or runs out of time makes the replica
// request a token of its own for that renewal. Replicas judge the token's
// expiry by their own clocks, which should agree within the renew margin.
//
// A Client without a ClientSecret, which gets no M2M token, ignores the
// store, as does NewVerifier. A nil store is ignored.
func WithTokenStore(store SessionStore) Option {
	return optionFunc(func(s *settings) {
		if store != nil {
			s.api.tokenStore = store
		}
	})
}

// WithRevocationList makes a Verifier refuse, with ErrTokenRevoked, every
// token whose sign-in (its origin_jti claim, or its jti when it has none) is
// listed in store; Sessions.Logout lists the session's tokens there when the
// flow's Verifier has this option, each entry until the token's exp. Share
// one store between every replica (the sessions' store will do: the keys do
// not collide), so that a sign-out on one is refused by all at once.
//
// The check runs after every other check, on cache hits too: one store Find
// per verified token. A store that fails makes the token fail with
// ErrRevocationListUnavailable (RequireAccessToken answers 503): an unknown
// answer never lets a token through. Calls to a store with scs's context
// variants are bounded by DefaultStoreTimeout; a store without them must
// bound its own. The list sees only sign-outs made
// through Sessions; a revocation made elsewhere (the AWS console,
// GlobalSignOut, another app's Revoke) is enforced by Cognito's own endpoints
// alone, and its tokens pass a JWT check until they expire. A nil store is
// ignored.
//
// A MemoryStore that fills up evicts the entries closest to their expiry,
// which are the list's (an hour at most) before the sessions' (a day): give
// the list a MemoryStore of its own rather than the sessions' one, so that
// sign-ins cannot push sign-outs out of it.
func WithRevocationList(store SessionStore) Option {
	return optionFunc(func(s *settings) {
		if store != nil {
			s.revocations = store
		}
	})
}

// The options of NewTenantVerifier; other constructors ignore them. Their
// zero values mean the defaults.
type tenantSettings struct {
	max int
	ttl time.Duration
}

// WithMaxTenants bounds the pools a TenantVerifier keeps a Verifier (and so
// a cache of keys) for to n: when one more is resolved, the least recently
// used is dropped, and its next token asks the resolver and fetches its keys
// again. Set it above the number of tenants active at once. Default
// DefaultMaxTenants; values <= 0 are ignored.
func WithMaxTenants(n int) Option {
	return optionFunc(func(s *settings) {
		if n > 0 {
			s.tenants.max = n
		}
	})
}

// WithTenantTTL sets how long a TenantVerifier uses the Config the resolver
// gave for a pool before asking it again, which bounds how long a tenant
// removed or changed elsewhere (on another replica, in the database) is
// served as it was. Asking again keeps the pool's keys and cached tokens when
// the Config is the same. Default DefaultTenantTTL; values <= 0 are ignored.
func WithTenantTTL(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d > 0 {
			s.tenants.ttl = d
		}
	})
}
