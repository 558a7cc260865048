package cognito

import (
	"log/slog"
	"net/http"
	"time"
)

// SessionOption configures NewSessions.
type SessionOption interface{ applySession(*sessionSettings) }

type sessionOptionFunc func(*sessionSettings)

func (f sessionOptionFunc) applySession(s *sessionSettings) { f(s) }

type sessionSettings struct {
	now                       func() time.Time
	log                       *slog.Logger
	margin, idle, lifetime    time.Duration
	refreshLifetime, raceWait time.Duration
	storeTimeout              time.Duration
	loginPath, cookieName     string
	authOpts                  []AuthOption
	stepUpFailed              http.Handler
}

// WithSessionClock replaces the clock Sessions judges token expiry, idle and
// absolute lifetimes by. Default: the flow Verifier's clock (WithClock).
// A nil now is ignored.
func WithSessionClock(now func() time.Time) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if now != nil {
			s.now = now
		}
	})
}

// WithSessionLogger makes Sessions log what it does not show the browser:
// failed sign-ins, store and endpoint failures, ended sessions, garbage in
// the store. Records carry the reason and, once known, the user's sub; never
// a token, a code or a session ID. Default: no logging.
func WithSessionLogger(l *slog.Logger) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) { s.log = l })
}

// WithRefreshMargin makes Require refresh the tokens d before the ID or
// access token expires (at most half their lifetime before). Default
// DefaultRefreshMargin; values < 0 are ignored.
func WithRefreshMargin(d time.Duration) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if d >= 0 {
			s.margin = d
		}
	})
}

// WithSessionLifetime ends a session unused for idle, and one signed in
// longer than absolute ago whatever its use. The absolute lifetime is cut to
// the refresh token's (WithRefreshTokenLifetime). Defaults
// DefaultSessionIdleTimeout and DefaultSessionLifetime; values <= 0 keep
// them.
func WithSessionLifetime(idle, absolute time.Duration) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if idle > 0 {
			s.idle = idle
		}
		if absolute > 0 {
			s.lifetime = absolute
		}
	})
}

// WithRefreshTokenLifetime tells Sessions the app client's refresh token
// lifetime, which bounds a session's. Default DefaultRefreshTokenLifetime;
// values <= 0 are ignored.
func WithRefreshTokenLifetime(d time.Duration) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if d > 0 {
			s.refreshLifetime = d
		}
	})
}

// WithRefreshRaceWait sets how long, once a session's tokens have expired,
// a refresh waits for another replica's. With a LeaseStore, it waits for the
// replica that holds the session's refresh lease to store its tokens, and
// answers 503 after. Without one, a refresh that Cognito refused with
// invalid_grant re-reads the store for that long before it ends the
// session: with refresh token rotation, another replica may have spent the
// refresh token a moment earlier and be about to store its successor. A
// replica whose store failed to take the tokens it refreshed stores them in
// the background, retrying at least once a second: a race wait of a second
// or more sees them once the store is back. While the tokens still work, no
// refresh waits: they are served. Default DefaultRefreshRaceWait; 0 re-reads
// once; values < 0 are ignored.
func WithRefreshRaceWait(d time.Duration) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if d >= 0 {
			s.raceWait = d
		}
	})
}

// WithStoreTimeout bounds each call to the store, when the store takes a
// context (FindCtx, CommitCtx, DeleteCtx): a store that stalls is then
// answered 503 within d. A store without those methods must bound its own
// calls. Default DefaultStoreTimeout; values <= 0 are ignored.
func WithStoreTimeout(d time.Duration) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) {
		if d > 0 {
			s.storeTimeout = d
		}
	})
}

// WithLoginPath sets the path of the Login handler, where Require sends the
// page navigations of signed-out users (with ?return_to= added, so the path
// has no query). Default DefaultLoginPath.
func WithLoginPath(path string) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) { s.loginPath = path })
}

// WithSessionCookieName names the session cookie. Default
// DefaultSessionCookieName, or DefaultInsecureSessionCookieName when the
// cookie is not Secure (see LoginFlow for the one rule of both cookies). A
// Secure session cookie's name must have the __Host- prefix, such as
// "__Host-myapp-session", and one that is not Secure must have neither
// __Host- nor __Secure-: NewSessions refuses other names with
// ErrInvalidConfig.
func WithSessionCookieName(name string) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) { s.cookieName = name })
}

// WithLoginOptions adds opts (WithIdentityProvider, WithScopes,
// WithACRValues, ...) to every login that Login starts. An option refused
// for bad input (WithACRValues, WithMaxAge) makes NewSessions fail with
// ErrInvalidConfig.
func WithLoginOptions(opts ...AuthOption) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) { s.authOpts = append(s.authOpts, opts...) })
}

// WithStepUpFailedHandler sets what answers a step-up sign-in
// (RequireStepUp) that came back still short of its StepUp, in place of the
// default page (403, the reason, and a link to try again). h is called on the
// callback's request with the new session in its context (SessionFromContext)
// and a StepUpFailure (StepUpFailureFromContext); the session cookie is set
// already. Answer 403, and do not redirect to the page that asked for the
// step-up: it would send the user round again. A nil h keeps the default.
func WithStepUpFailedHandler(h http.Handler) SessionOption {
	return sessionOptionFunc(func(s *sessionSettings) { s.stepUpFailed = h })
}
