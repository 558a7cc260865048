package cognito

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"
)

// Defaults of Sessions.
const (
	// DefaultSessionCookieName names the session cookie when it is Secure:
	// the __Host- prefix stops a sibling subdomain from planting a session
	// of its choosing (RFC 6265bis section 4.1.3.2).
	DefaultSessionCookieName = "__Host-cognito-session"
	// DefaultInsecureSessionCookieName names it over plain http.
	DefaultInsecureSessionCookieName = "cognito-session"
	// DefaultRefreshMargin is how long before the ID or access token expires
	// Require refreshes them, so that the access token a handler gets stays
	// valid for at least that long (or half the tokens' lifetime, when that
	// is shorter).
	DefaultRefreshMargin = 5 * time.Minute
	// DefaultSessionIdleTimeout ends a session unused for this long.
	DefaultSessionIdleTimeout = 24 * time.Hour
	// DefaultSessionLifetime ends a session this long after sign-in,
	// however much it is used: Cognito's default refresh token lifetime.
	DefaultSessionLifetime = 30 * 24 * time.Hour
	// DefaultRefreshTokenLifetime is the app client's refresh token
	// lifetime that Sessions assumes unless told: Cognito's default.
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	// DefaultRefreshRaceWait is how long, once a session's tokens have
	// expired, a refresh waits for another replica's (WithRefreshRaceWait).
	DefaultRefreshRaceWait = 2 * time.Second
	// DefaultStoreTimeout bounds each call to a store that takes a context
	// (scs's CtxStore methods).
	DefaultStoreTimeout = 5 * time.Second
	// DefaultLoginPath is where Require sends page navigations of
	// signed-out users: the path of the Login handler.
	DefaultLoginPath = "/login"
)

// Limits of what Sessions accepts and stores.
const (
	maxReturnTo     = 2048 // bytes of a return_to path
	sessionKeyLabel = "cognito-session:"
)

// Sessions keeps users signed in, on one process or many: steps 5 to 7 of
// the flow. Login and Callback sign a user in through a LoginFlow and keep
// the tokens in a SessionStore; Require lets only signed-in users through,
// refreshing the tokens shortly before they expire and sending the user back
// to sign in when the refresh token dies; Logout signs out.
//
// The browser holds only a cookie with the session's random ID (256 bits from
// crypto/rand): HttpOnly, SameSite=Lax, Path=/, Secure with the __Host-
// prefix unless the flow's InsecureCookie is set or its RedirectURI is plain
// http on a loopback host. The store holds the tokens under the SHA-256 of
// that ID, so a dump of the store yields no cookie that works. Every sign-in
// gets a new ID (no fixation).
//
// Refreshes are shared: however many requests of one session arrive at
// once, one process refreshes once and the others wait for its result.
// Across replicas, a store with Lease (LeaseStore, as MemoryStore and
// redisstore have) lets one replica refresh a session while the others
// serve its tokens until they expire, and then wait for the new ones, so
// that a rotating refresh token is spent once. With a store without it,
// refresh token rotation and no retry grace period, a replica whose refresh
// Cognito refuses serves the session's tokens while they work and takes the
// tokens another replica stores; it ends the session only once the tokens
// have expired and the store, read again, still holds the refused refresh
// token.
//
// Failures keep sessions: a store, token endpoint or JWKS that fails answers
// 503 and the session works again once it is back. The tokens of a refresh
// that the store failed to take (with rotation, the refresh token is spent)
// are kept in memory and stored in the background as soon as the store
// takes writes again, retried at least once a second; with a LeaseStore, the
// session's refresh lease is kept meanwhile, so that other replicas wait
// for them rather than spend the dead refresh token. A session whose ID
// token was signed by a key the pool has since retired from its JWKS is
// refreshed at once, for tokens a current key signed. An unknown, expired,
// malformed or tampered session ID is a signed-out user.
//
// Sessions is safe for concurrent use.
type Sessions struct {
	flow  *LoginFlow
	store SessionStore
	sessionSettings
	secure  bool
	group   singleflight.Group
	pending pendingCommits
	backoff refreshBackoffs
	hooks   refreshHooks
	cop     *http.CrossOriginProtection
}

// NewSessions returns Sessions that sign users in with flow and keep their
// tokens in store (NewMemoryStore for one process; a shared store such as
// Redis for several replicas). flow needs Config, Client and Verifier, and a
// loopback Domain when InsecureEmulator is set (ErrInvalidConfig otherwise).
// It does no I/O.
func NewSessions(flow *LoginFlow, store SessionStore, opts ...SessionOption) (*Sessions, error) {
	if flow == nil || flow.Client == nil || flow.Verifier == nil {
		return nil, fmt.Errorf("%w: NewSessions needs a LoginFlow with a Client and a Verifier", ErrInvalidConfig)
	}
	if store == nil {
		return nil, fmt.Errorf("%w: NewSessions needs a SessionStore", ErrInvalidConfig)
	}
	if err := flow.Config.validateFor("NewSessions", "Domain", "RedirectURI"); err != nil {
		return nil, err
	}
	if err := flow.checkEmulator(); err != nil {
		return nil, err
	}
	if err := flow.checkCookies(); err != nil {
		return nil, err
	}
	s := &Sessions{
		flow:  flow,
		store: store,
		sessionSettings: sessionSettings{
			now:             flow.Verifier.now,
			margin:          DefaultRefreshMargin,
			idle:            DefaultSessionIdleTimeout,
			lifetime:        DefaultSessionLifetime,
			refreshLifetime: DefaultRefreshTokenLifetime,
			raceWait:        DefaultRefreshRaceWait,
			storeTimeout:    DefaultStoreTimeout,
			loginPath:       DefaultLoginPath,
		},
		secure: flow.secureCookies(),
		hooks:  refreshHooks{sleep: sleep, goFlush: goFlush},
		cop:    http.NewCrossOriginProtection(),
	}
	s.pending.startFlusher = func() { s.hooks.goFlush(s.flush) }
	for _, o := range opts {
		if o != nil {
			o.applySession(&s.sessionSettings)
		}
	}
	s.lifetime = min(s.lifetime, s.refreshLifetime)
	if err := checkAuthOptions(s.authOpts); err != nil {
		return nil, err
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if safeReturnTo(s.loginPath) != s.loginPath || s.loginPath == "/" || strings.ContainsAny(s.loginPath, "?#") {
		return nil, fmt.Errorf("%w: the login path %q is not a path of this site", ErrInvalidConfig, clean(s.loginPath, 64))
	}
	if s.cookieName == "" {
		s.cookieName = DefaultSessionCookieName
		if !s.secure {
			s.cookieName = DefaultInsecureSessionCookieName
		}
	}
	// Its return cookies add "-return-" and base64url characters to the name.
	if err := checkCookieName("the session cookie name", s.cookieName, "/", s.secure); err != nil {
		return nil, err
	}
	return s, nil
}

// plainLoopback reports whether raw is an http URL on a loopback host: an app
// served there cannot have Secure cookies in every client.
func plainLoopback(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && isLoopback(u.Hostname())
}

// Session is a signed-in user, as Require leaves it in the request's
// context: the verified ID token and an access token valid until Expiry, at
// least the refresh margin ahead when Require let the request through.
// Printed with fmt or slog, it shows the subject and expiry, never the access
// token.
type Session struct {
	IDToken     *IDToken  // verified
	AccessToken string    // valid until Expiry, for calling APIs
	Expiry      time.Time // when the ID or access token expires, whichever is first
}

// Format prints the session without its access token.
func (s Session) Format(f fmt.State, _ rune) {
	sub := ""
	if s.IDToken != nil {
		sub = s.IDToken.Subject
	}
	fmt.Fprintf(f, "cognito.Session{Subject: %q, Expiry: %s}", sub, s.Expiry.UTC().Format(time.RFC3339))
}

// LogValue logs the session without its access token.
func (s Session) LogValue() slog.Value {
	sub := ""
	if s.IDToken != nil {
		sub = s.IDToken.Subject
	}
	return slog.GroupValue(slog.String("sub", sub), slog.Time("expiry", s.Expiry))
}

type sessionContextKey struct{}

// SessionFromContext returns the session that Require put in ctx, and whether
// there is one.
func SessionFromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionContextKey{}).(*Session)
	return s, ok && s != nil
}

// Login starts a sign-in (LoginFlow.Start): it redirects to the hosted UI,
// and remembers the ?return_to= path, where Callback sends the user back.
// return_to must be a path of this site ("/orders?id=1"): another origin,
// "//host", a backslash, a scheme or a control character makes it "/".
func (s *Sessions) Login(w http.ResponseWriter, r *http.Request) {
	s.startLogin(w, r, safeReturnTo(r.URL.Query().Get("return_to")), nil)
}

// startLogin redirects to the hosted UI with the login options, remembering
// returnTo and, for a step-up (step not nil), the step the sign-in must meet,
// both under the login's state.
func (s *Sessions) startLogin(w http.ResponseWriter, r *http.Request, returnTo string, step *StepUp, extra ...AuthOption) {
	rec := &headerRecorder{header: http.Header{}}
	opts := append(s.authOpts[:len(s.authOpts):len(s.authOpts)], extra...)
	if err := s.flow.Start(rec, r, opts...); err != nil {
		s.log.ErrorContext(r.Context(), "cognito: cannot start a sign-in", "err", err)
		plainError(w, http.StatusInternalServerError)
		return
	}
	loc := rec.header.Get("Location")
	u, err := url.Parse(loc)
	state := ""
	if err == nil {
		state = u.Query().Get("state")
	}
	if !isSecret(state) {
		s.log.ErrorContext(r.Context(), "cognito: the login flow redirected without a state")
		plainError(w, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	for _, c := range rec.header.Values("Set-Cookie") {
		h.Add("Set-Cookie", c)
	}
	maxAge := int(s.flow.maxAge().Seconds())
	if returnTo != "/" {
		http.SetCookie(w, s.returnCookie(state, base64.RawURLEncoding.EncodeToString([]byte(returnTo)), maxAge))
	}
	if step != nil {
		http.SetCookie(w, s.stepUpCookie(state, step.encode(), maxAge))
	}
	h.Set("Cache-Control", "no-store")
	http.Redirect(w, r, loc, http.StatusFound)
}

// returnCookie carries a login's return_to path, named after its state as
// the login cookie is, so that logins in several tabs keep their own.
func (s *Sessions) returnCookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName + "-return-" + state[:stateKeyLen],
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   s.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// takeReturnTo reads, deletes and checks again the return_to path of the
// callback's login.
func (s *Sessions) takeReturnTo(w http.ResponseWriter, r *http.Request) string {
	state := r.URL.Query().Get("state")
	if !isSecret(state) {
		return "/"
	}
	c, err := r.Cookie(s.returnCookie(state, "", 0).Name)
	if err != nil {
		return "/"
	}
	http.SetCookie(w, s.returnCookie(state, "", -1))
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "/"
	}
	return safeReturnTo(string(b))
}

// safeReturnTo returns p when it is a path of this site, and "/" otherwise.
func safeReturnTo(p string) string {
	if p == "" || len(p) > maxReturnTo || p[0] != '/' || strings.HasPrefix(p, "//") ||
		strings.ContainsRune(p, '\\') || !utf8.ValidString(p) {
		return "/"
	}
	for _, r := range p {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return p
}

// Callback finishes the sign-in (LoginFlow.Finish), starts a session under a
// new ID (deleting the session the browser had, if any) and redirects to the
// login's return_to path. The sign-in of a step-up (RequireStepUp) that came
// back below its StepUp gets the step-up failure page instead (403; see
// WithStepUpFailedHandler), so that the page does not send the user round
// again. A sign-in that fails gets a page with a link to
// sign in again: 400 for a refused or replayed callback, 503 when Cognito,
// its keys or the store are unavailable.
func (s *Sessions) Callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	returnTo := s.takeReturnTo(w, r)
	step, stepUp := s.takeStepUp(w, r)
	tokens, id, err := s.flow.Finish(w, r)
	if err != nil {
		s.log.WarnContext(ctx, "cognito: sign-in failed", "err", err)
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrEndpointUnavailable), errors.Is(err, ErrJWKSUnavailable), errors.Is(err, ErrRevocationListUnavailable):
			status = http.StatusServiceUnavailable
		case errors.Is(err, ErrInvalidConfig):
			status = http.StatusInternalServerError
		}
		s.signInPage(w, status)
		return
	}
	now := s.now()
	rec := &sessionRecord{created: now, lastSeen: now}
	rec.setTokens(tokens, now)
	rec.setSignIn(id)
	sid := GenerateVerifier()
	if err := s.commit(ctx, sessionKey(sid), rec); err != nil {
		// The session the browser had, if any, is left as it was.
		s.log.ErrorContext(ctx, "cognito: cannot store a new session", "sub", id.Subject, "err", err)
		s.signInPage(w, http.StatusServiceUnavailable)
		return
	}
	if old, ok := s.cookieID(r); ok {
		s.endOld(ctx, sessionKey(old))
	}
	http.SetCookie(w, s.cookie(sid, s.expiryOf(rec).Sub(now)))
	w.Header().Set("Cache-Control", "no-store")
	if stepUp && s.stepUpFellShort(w, r, step, id, rec, returnTo) {
		return
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// endOld ends the session a browser had before signing in again: its refresh
// token is revoked and its entry deleted, so that the old ID is worth nothing.
func (s *Sessions) endOld(ctx context.Context, key string) {
	rec, err := s.find(ctx, key)
	if err != nil || rec == nil {
		return
	}
	if err := s.flow.Client.Revoke(ctx, rec.refreshToken); err != nil {
		s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token of a replaced session", "err", err)
	}
	if err := s.delete(ctx, key); err != nil {
		s.log.ErrorContext(ctx, "cognito: cannot delete a replaced session", "err", err)
	}
	s.forget(ctx, key, rec.refreshToken)
}

// signInPage answers a failed sign-in with a link to try again.
func (s *Sessions) signInPage(w http.ResponseWriter, status int) {
	msg := "Sign-in failed."
	if status == http.StatusServiceUnavailable {
		msg = "Sign-in is unavailable right now."
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><p>%s <a href=\"%s\">Sign in again</a></p>\n",
		http.StatusText(status), msg, html.EscapeString(s.loginPath))
}

// Logout signs the user out, on POST only (405 otherwise) and only from a
// page of this site (403 for a cross-origin request, judged by
// Sec-Fetch-Site or Origin as http.CrossOriginProtection does). It revokes
// the session's refresh token at Cognito (a failure is logged and does not
// stop the sign-out), lists the session's tokens on the flow Verifier's
// revocation list when it has one, deletes the session, clears the cookie
// and redirects (303) to the hosted UI's /logout, which ends the hosted UI's
// own session and returns to Config.LogoutURI. With the flow's
// InsecureEmulator set, it redirects to LogoutURI (or "/") directly. When the
// store or the revocation list fails it answers 503 and keeps the cookie and
// the session, so that the user can try again: a sign-out must end the
// session on the server, and on every replica, too.
func (s *Sessions) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plainError(w, http.StatusMethodNotAllowed)
		return
	}
	if err := s.cop.Check(r); err != nil {
		s.log.WarnContext(r.Context(), "cognito: refused a cross-origin sign-out", "err", err)
		plainError(w, http.StatusForbidden)
		return
	}
	ctx := r.Context()
	if sid, ok := s.cookieID(r); ok {
		key := sessionKey(sid)
		rec, err := s.find(ctx, key)
		if err != nil {
			s.log.ErrorContext(ctx, "cognito: cannot read the session to sign out", "err", err)
			plainError(w, http.StatusServiceUnavailable)
			return
		}
		if rec != nil {
			if err := s.flow.Client.Revoke(ctx, rec.refreshToken); err != nil {
				s.log.WarnContext(ctx, "cognito: cannot revoke the refresh token at sign-out", "err", err)
			}
			if err := s.flow.Verifier.listRevoked(ctx, rec.idToken, rec.accessToken); err != nil {
				// Deleting the session now would tell the user they are
				// signed out while every replica keeps accepting the access
				// token until it expires: keep it, so that a retry lists it.
				s.log.ErrorContext(ctx, "cognito: cannot list the signed-out tokens as revoked", "err", err)
				plainError(w, http.StatusServiceUnavailable)
				return
			}
			if err := s.delete(ctx, key); err != nil {
				s.log.ErrorContext(ctx, "cognito: cannot delete the session at sign-out", "err", err)
				plainError(w, http.StatusServiceUnavailable)
				return
			}
			s.forget(ctx, key, rec.refreshToken) // and revoke a successor the store never took
		}
	}
	http.SetCookie(w, s.cookie("", -1))
	w.Header().Set("Cache-Control", "no-store")
	target := s.flow.Config.LogoutURL()
	if s.flow.InsecureEmulator && s.flow.checkEmulator() == nil { // never against a real pool
		target = s.flow.Config.LogoutURI
		if target == "" {
			target = "/"
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Require returns middleware that lets only signed-in users through, with
// their Session in the request's context (SessionFromContext). It refreshes
// the tokens when they are within the refresh margin of expiry, and writes
// the session back to the store only when it changed: new tokens, or a use
// that moves the idle deadline by a sixteenth of the idle timeout or more
// (not in the minute before a refresh is due, which records the use itself).
//
// A signed-out user (no cookie, an unknown, expired or malformed session, a
// refresh token that died, tokens on the revocation list or refused by a rule
// of WithCheck) is redirected
// (303) to the login path with return_to when the request is a page
// navigation (Sec-Fetch-Mode: navigate, or without Sec-Fetch-Mode a GET
// whose Accept has text/html), and answered 401 otherwise. A store, token
// endpoint, JWKS or revocation list that fails is answered 503 and the
// session kept; while the token endpoint fails, tokens that have not expired
// yet keep being served, and the session's next refresh attempt waits 10 s.
func (s *Sessions) Require(next http.Handler) http.Handler {
	return s.serve(next, s.signedOut, nil)
}

// Optional returns middleware for pages that serve everyone, such as a home
// page that greets a signed-in user: a request with a live session reaches
// next with it in the context (SessionFromContext), loaded and refreshed
// exactly as Require does; a signed-out user, or one whose session just
// ended (refresh token dead or revoked, lifetime over, tokens refused), reaches
// next with none, and an ended session's cookie is deleted. It never
// redirects. As with Require, a store, token endpoint, JWKS or revocation
// list that fails is answered 503 only when the session's tokens can no
// longer be served: never as a signed-out page, which would look like a
// sign-out to a user who is still signed in.
func (s *Sessions) Optional(next http.Handler) http.Handler {
	return s.serve(next, nil, nil)
}

// serve is the one loading core of Require, Optional and RequireStepUp, as
// scs's LoadAndSave is for every page: it loads the session (load) and hands
// the request on with it. A signed-out request goes to signedOut, or on
// without a session when signedOut is nil. A loaded session goes through
// gate, when there is one, which answers the request itself when it returns
// false.
func (s *Sessions) serve(next http.Handler, signedOut http.HandlerFunc, gate func(http.ResponseWriter, *http.Request, *Session) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.load(w, r)
		switch {
		case err == nil:
			if gate == nil || gate(w, r, sess) {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionContextKey{}, sess)))
			}
		case !errors.Is(err, errSignedOut):
			plainError(w, http.StatusServiceUnavailable)
		case signedOut != nil:
			signedOut(w, r)
		default:
			if len(w.Header().Values("Set-Cookie")) > 0 {
				// load deleted an ended session's cookie: a shared cache
				// that kept this public page would delete everyone's.
				w.Header().Set("Cache-Control", "no-store")
			}
			next.ServeHTTP(w, r)
		}
	})
}

// errSignedOut: the request has no live session.
var errSignedOut = errors.New("cognito: signed out")

// load finds, refreshes and verifies the request's session. It fails with
// errSignedOut, or with an error that is worth a 503.
func (s *Sessions) load(w http.ResponseWriter, r *http.Request) (*Session, error) {
	ctx := r.Context()
	sid, ok := s.cookieID(r)
	if !ok {
		if _, err := r.Cookie(s.cookieName); err == nil {
			http.SetCookie(w, s.cookie("", -1)) // malformed: forget it
		}
		return nil, errSignedOut
	}
	key := sessionKey(sid)
	rec, err := s.find(ctx, key)
	if err != nil {
		s.log.ErrorContext(ctx, "cognito: cannot read a session", "err", err)
		return nil, err
	}
	if rec == nil {
		s.forget(ctx, key, "") // the store let it expire, or another replica ended it
		http.SetCookie(w, s.cookie("", -1))
		return nil, errSignedOut
	}
	now := s.now()
	if !now.Before(s.expiryOf(rec)) {
		s.end(ctx, w, key, "the session's idle or absolute lifetime is over")
		return nil, errSignedOut
	}
	extend := false // the idle deadline moved: the cookie must outlive it too
	if s.needsRefresh(rec, now) && !(now.Before(rec.expiry) && s.backoff.holds(key, now)) {
		fresh, err := s.refresh(ctx, key)
		switch {
		case err == nil:
			rec = fresh // the refresh stored it
			s.backoff.clear(key)
			extend = true
		case errors.Is(err, errSignedOut):
			http.SetCookie(w, s.cookie("", -1))
			return nil, errSignedOut
		case now.Before(rec.expiry):
			// Cognito or the store is down, but the tokens still work: serve
			// them, and let the next requests do the same for a while
			// without waiting on another attempt.
			s.backoff.start(key, now.Add(refreshBackoff), now)
			s.logRefreshFailure(ctx, err, true)
		default:
			s.logRefreshFailure(ctx, err, false)
			return nil, err
		}
	}
	id, err := s.flow.Verifier.VerifyIDToken(ctx, rec.idToken)
	if errors.Is(err, ErrUnknownKey) {
		var fresh *sessionRecord
		if fresh, id, err = s.refreshRetiredKey(ctx, key, rec, now, err); fresh != nil {
			rec, extend = fresh, true
		} else if errors.Is(err, errSignedOut) {
			http.SetCookie(w, s.cookie("", -1))
			return nil, err
		}
	}
	if err != nil {
		if !endsSession(err) {
			s.log.ErrorContext(ctx, "cognito: cannot verify a session's ID token now", "err", err)
			return nil, err
		}
		s.end(ctx, w, key, "the session's ID token no longer verifies: "+err.Error())
		return nil, errSignedOut
	}
	if now.Sub(rec.lastSeen) >= s.idle/16 && now.Before(s.refreshAt(rec).Add(-touchGuard)) {
		if err := s.touch(ctx, key, now); err != nil {
			// Only the idle deadline was to move: serve the request.
			s.log.WarnContext(ctx, "cognito: cannot record a session's use", "sub", id.Subject, "err", err)
		} else {
			rec.lastSeen, extend = now, true
		}
	}
	if extend {
		// The cookie was set to die at the idle deadline of its sign-in;
		// without this, a browser would drop it a day after sign-in however
		// busy the user.
		// no-store, as every answer that sets it: no shared cache may keep
		// a session ID for another user. The handler may say otherwise.
		http.SetCookie(w, s.cookie(sid, s.expiryOf(rec).Sub(now)))
		w.Header().Set("Cache-Control", "no-store")
	}
	return &Session{IDToken: rec.withSignIn(id), AccessToken: rec.accessToken, Expiry: rec.expiry}, nil
}

// touchGuard keeps touches away from refreshes: a touch writes the whole
// session back, and one that landed just after another replica's refresh
// would put back the refresh token that the refresh spent.
const touchGuard = time.Minute

// touch records a use of the session, moving its idle deadline. It re-reads
// the session and writes back what it read, so that a refresh stored by
// another replica since the request read it stands.
func (s *Sessions) touch(ctx context.Context, key string, now time.Time) error {
	cur, err := s.find(ctx, key)
	if err != nil || cur == nil {
		return err
	}
	cur.lastSeen = now
	return s.commit(ctx, key, cur)
}

// endsSession reports whether a stored ID token that fails verification with
// err ends its session: it was signed out, it is not a token of this app
// client (the configuration changed), or a rule of WithCheck refused it.
// Anything else (keys unavailable or stale, the revocation list down, a rule
// that could not decide, clocks apart) keeps the session: the token came from
// the token endpoint, and the next request may pass.
func endsSession(err error) bool {
	if errors.Is(err, ErrCheckFailed) {
		// A refusal stands until the rule changes its mind; answering 503
		// meanwhile would say "try again" to a user who cannot get in.
		return !errors.Is(err, ErrEndpointUnavailable)
	}
	for _, e := range []error{
		ErrTokenRevoked, ErrInvalidSignature, ErrMalformedToken, ErrUnsupportedAlgorithm,
		ErrInvalidIssuer, ErrInvalidAudience, ErrInvalidTokenUse,
	} {
		if errors.Is(err, e) {
			return !errors.Is(err, ErrJWKSUnavailable) && !errors.Is(err, ErrRevocationListUnavailable)
		}
	}
	return false
}

// end deletes a session that is over, and forgets the cookie.
func (s *Sessions) end(ctx context.Context, w http.ResponseWriter, key, why string) {
	s.log.InfoContext(ctx, "cognito: session ended", "reason", why)
	if err := s.delete(ctx, key); err != nil {
		s.log.ErrorContext(ctx, "cognito: cannot delete an ended session", "err", err)
	}
	s.forget(ctx, key, "")
	http.SetCookie(w, s.cookie("", -1))
}

// signedOut sends a page navigation to sign in, and answers anything else 401.
func (s *Sessions) signedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !isNavigation(r) {
		plainError(w, http.StatusUnauthorized)
		return
	}
	target := s.loginPath
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if rt := safeReturnTo(r.URL.RequestURI()); rt != "/" {
			target += "?" + url.Values{"return_to": {rt}}.Encode()
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// isNavigation reports whether r is a browser loading a page, which can be
// redirected to sign in, rather than a script or API call, which gets 401.
func isNavigation(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/html") {
			return true
		}
	}
	return false
}

// expiryOf is when rec's session ends if unused: the idle or the absolute
// deadline, whichever comes first.
func (s *Sessions) expiryOf(rec *sessionRecord) time.Time {
	idle, abs := rec.lastSeen.Add(s.idle), rec.created.Add(s.lifetime)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// find reads and decodes the session under key: nil when there is none or it
// is garbage (which is logged), an ErrSessionStoreUnavailable error when the
// store fails.
func (s *Sessions) find(ctx context.Context, key string) (*sessionRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	data, found, err := findIn(ctx, s.store, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSessionStoreUnavailable, err)
	}
	if !found {
		return nil, nil
	}
	rec, err := decodeSession(data)
	if err != nil {
		s.log.ErrorContext(ctx, "cognito: the store holds garbage for a session; treating it as signed out", "err", err)
		return nil, nil
	}
	return rec, nil
}

// commit writes rec under key, to expire with the session.
func (s *Sessions) commit(ctx context.Context, key string, rec *sessionRecord) error {
	ctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	if err := commitTo(ctx, s.store, key, rec.encode(), s.expiryOf(rec)); err != nil {
		return fmt.Errorf("%w: %w", ErrSessionStoreUnavailable, err)
	}
	return nil
}

// delete removes the session under key.
func (s *Sessions) delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	if err := deleteFrom(ctx, s.store, key); err != nil {
		return fmt.Errorf("%w: %w", ErrSessionStoreUnavailable, err)
	}
	return nil
}

// cookieID returns the request's session ID, if it has a well-formed one.
func (s *Sessions) cookieID(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.cookieName)
	if err != nil || !isSecret(c.Value) {
		return "", false
	}
	return c.Value, true
}

// cookie is the session cookie with id, living maxAge (deleting it when
// negative).
func (s *Sessions) cookie(id string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     s.cookieName,
		Value:    id,
		Path:     "/",
		Secure:   s.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   -1,
	}
	if maxAge >= 0 {
		c.MaxAge = max(1, int(maxAge.Seconds()))
	}
	return c
}

// sessionKey is the store key of session ID id: a hash, so that the store's
// keys are no use as cookies.
func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return sessionKeyLabel + base64.RawURLEncoding.EncodeToString(h[:])
}

// headerRecorder catches what LoginFlow.Start writes, so that Login can add
// its cookie to the redirect.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// plainError answers status with its text and no caching.
func plainError(w http.ResponseWriter, status int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}
