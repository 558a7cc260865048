package cognitotest

import (
	"log/slog"
	"slices"
	"time"
)

// Defaults of the fake pool's app client, used unless an Option replaces them.
const (
	DefaultPoolID       = "us-east-1_TestPool1"
	DefaultClientID     = "cognitotest0client0id00000"
	DefaultClientSecret = "cognitotest0client0secret0000000000000000000000000000"
	// DefaultRedirectURI has no port: a test hands the callback's code to its
	// handler itself instead of letting a client follow the redirect.
	DefaultRedirectURI = "http://localhost/callback"
	DefaultLogoutURI   = "http://localhost/signed-out"

	DefaultTokenLifetime   = time.Hour           // of ID and access tokens
	DefaultRefreshLifetime = 30 * 24 * time.Hour // of refresh tokens
	CodeLifetime           = 5 * time.Minute     // of authorization codes, as in Cognito
)

// DefaultScopes are the scopes the app client may request unless
// WithAllowedScopes replaces them: Cognito's built-in ones.
var DefaultScopes = []string{"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}

// Option configures a Server made by NewServer or Start.
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	addr            string
	clock           func() time.Time
	poolID          string
	clientID        string
	clientSecret    string
	redirectURIs    []string
	logoutURIs      []string
	scopes          []string
	rotateRefresh   bool
	retryGrace      time.Duration
	pkce            *bool
	tokenLifetime   time.Duration
	refreshLifetime time.Duration
	logger          *slog.Logger
}

func newSettings(opts []Option) settings {
	s := settings{
		addr:            "127.0.0.1:0",
		clock:           time.Now,
		poolID:          DefaultPoolID,
		clientID:        DefaultClientID,
		clientSecret:    DefaultClientSecret,
		redirectURIs:    []string{DefaultRedirectURI},
		logoutURIs:      []string{DefaultLogoutURI},
		scopes:          slices.Clone(DefaultScopes),
		tokenLifetime:   DefaultTokenLifetime,
		refreshLifetime: DefaultRefreshLifetime,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	return s
}

// WithAddr makes the server listen on addr, such as "127.0.0.1:9229", instead
// of a free port on 127.0.0.1. Only loopback addresses are accepted. Programs
// that embed a pool through Start use it to keep a stable URL.
func WithAddr(addr string) Option {
	return optionFunc(func(s *settings) { s.addr = addr })
}

// WithClock replaces time.Now for everything the server dates: iat, exp and
// auth_time of tokens, and the expiry of codes and refresh tokens. A nil now
// is ignored. A Clock's Now, shared with the code under test, lets the test
// move time for both.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(s *settings) {
		if now != nil {
			s.clock = now
		}
	})
}

// WithPoolID sets the user pool ID, which is also the last element of the
// issuer. It must look like Cognito's ("us-east-1_AbC123") or an emulator's
// ("local_abc"). Default DefaultPoolID.
func WithPoolID(id string) Option {
	return optionFunc(func(s *settings) { s.poolID = id })
}

// WithClientID sets the app client ID. Default DefaultClientID.
func WithClientID(id string) Option {
	return optionFunc(func(s *settings) { s.clientID = id })
}

// WithClientSecret sets the app client's secret. Default DefaultClientSecret.
func WithClientSecret(secret string) Option {
	return optionFunc(func(s *settings) { s.clientSecret = secret })
}

// WithPublicClient makes the app client public: it has no secret, the token
// endpoint refuses one, and it must use PKCE (see WithPKCERequired).
func WithPublicClient() Option {
	return optionFunc(func(s *settings) { s.clientSecret = "" })
}

// WithPKCERequired says whether /oauth2/authorize refuses requests without a
// code_challenge. By default it is required for a public client only: Cognito
// does not require it, but a public client without it is open to code
// interception, and the fake should catch that before production does.
func WithPKCERequired(required bool) Option {
	return optionFunc(func(s *settings) { s.pkce = &required })
}

// WithRedirectURI sets the callback URLs the app client allows; redirect_uri
// must equal one of them exactly, as in Cognito. Config uses the first.
// Default DefaultRedirectURI.
func WithRedirectURI(uris ...string) Option {
	return optionFunc(func(s *settings) { s.redirectURIs = slices.Clone(uris) })
}

// WithLogoutURI sets the sign-out URLs the app client allows at /logout.
// Config uses the first. Default DefaultLogoutURI.
func WithLogoutURI(uris ...string) Option {
	return optionFunc(func(s *settings) { s.logoutURIs = slices.Clone(uris) })
}

// WithAllowedScopes sets the scopes the app client may request, replacing
// DefaultScopes. Scopes with a slash ("api/read") are resource-server scopes,
// the only ones the client_credentials grant issues, as in Cognito.
func WithAllowedScopes(scopes ...string) Option {
	return optionFunc(func(s *settings) { s.scopes = slices.Clone(scopes) })
}

// WithRefreshTokenRotation makes every refresh_token grant return a new
// refresh token and invalidate the one it was given, as Cognito does when
// refresh token rotation is on. Off by default: the refresh token is reused.
func WithRefreshTokenRotation(on bool) Option {
	return optionFunc(func(s *settings) { s.rotateRefresh = on })
}

// WithTokenLifetimes sets how long ID and access tokens (idAccess) and refresh
// tokens (refresh) stay valid. Values <= 0 keep the defaults,
// DefaultTokenLifetime and DefaultRefreshLifetime.
func WithTokenLifetimes(idAccess, refresh time.Duration) Option {
	return optionFunc(func(s *settings) {
		if idAccess > 0 {
			s.tokenLifetime = idAccess
		}
		if refresh > 0 {
			s.refreshLifetime = refresh
		}
	})
}

// MaxRetryGracePeriod is the longest retry grace period Cognito allows.
const MaxRetryGracePeriod = 60 * time.Second

// WithRetryGracePeriod sets how long a refresh token rotated out by
// WithRefreshTokenRotation keeps working, as the app client's
// RetryGracePeriodSeconds does in Cognito (0 to 60 s, on the server's
// clock): within it, the old token may be used again (each use returns
// tokens and another new refresh token); from then on it is refused with
// invalid_grant. Default 0: the old token is refused at once. Durations
// outside 0 to MaxRetryGracePeriod make NewServer and Start fail.
func WithRetryGracePeriod(d time.Duration) Option {
	return optionFunc(func(s *settings) { s.retryGrace = d })
}

// WithLogger makes the server log each request to its token endpoint on l,
// once answered, at level Info: the grant_type asked for, the client_id
// that authenticated or tried to, the answer's status and, for a refusal,
// Cognito's error code and description. It never logs a code, a token, a
// refresh token or a secret. A nil l, the default, logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) { s.logger = l })
}
