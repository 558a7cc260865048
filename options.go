package cognito

import (
	"net/http"
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
	httpClient     *http.Client
	now            func() time.Time
	leeway         time.Duration
	jwksTimeout    time.Duration
	jwksRefresh    time.Duration
	jwksMinRefetch time.Duration
	tokenCacheSize int
	revocations    SessionStore
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
// answer never lets a token through. The list sees only sign-outs made
// through Sessions; a revocation made elsewhere (the AWS console,
// GlobalSignOut, another app's Revoke) is enforced by Cognito's own endpoints
// alone, and its tokens pass a JWT check until they expire. A nil store is
// ignored.
func WithRevocationList(store SessionStore) Option {
	return optionFunc(func(s *settings) {
		if store != nil {
			s.revocations = store
		}
	})
}
