package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cognitokit/cognito"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// sessionLifetime bounds how long a session is kept: Cognito's default
// refresh token lifetime. A session whose refresh token dies earlier ends
// at its first failed refresh.
const sessionLifetime = 30 * 24 * time.Hour

// app is the web app: pages, the login flow, the API and the server-side
// session store.
type app struct {
	cfg       cognito.Config
	client    *cognito.Client
	verifier  *cognito.Verifier
	flow      *cognito.LoginFlow
	now       func() time.Time
	log       *slog.Logger
	secure    bool // cookies get Secure: the app is served over https
	cookie    string
	pages     map[string]*template.Template
	sessionMu sync.Mutex
	sessions  map[string]*session // by the session cookie's value
}

// session is one signed-in browser. mu serialises refreshes, so that two
// requests racing past an expiry do not both spend the refresh token.
type session struct {
	mu        sync.Mutex
	tokens    *cognito.Tokens
	refreshes int
	created   time.Time
}

type appSettings struct {
	now        func() time.Time
	httpClient *http.Client
	log        *slog.Logger
}

// appOption configures newApp.
type appOption func(*appSettings)

// withClock replaces time.Now for the app's token checks and session ages.
func withClock(now func() time.Time) appOption { return func(s *appSettings) { s.now = now } }

// withHTTPClient sends the app's calls to the user pool through c.
func withHTTPClient(c *http.Client) appOption { return func(s *appSettings) { s.httpClient = c } }

// withLogger sends the app's log lines to l.
func withLogger(l *slog.Logger) appOption { return func(s *appSettings) { s.log = l } }

// newApp returns the web app for cfg, which must name a user pool app client,
// its hosted UI domain and a RedirectURI whose path the app serves as its
// callback. Cookies are Secure when RedirectURI is https.
func newApp(cfg cognito.Config, opts ...appOption) (http.Handler, error) {
	s := appSettings{now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(&s)
	}
	if cfg.RedirectURI == "" {
		return nil, errors.New("webapp: the config has no RedirectURI")
	}
	callback, err := url.Parse(cfg.RedirectURI)
	if err != nil {
		return nil, fmt.Errorf("webapp: RedirectURI: %w", err)
	}
	coreOpts := []cognito.Option{cognito.WithClock(s.now), cognito.WithHTTPClient(s.httpClient)}
	client, err := cognito.NewClient(cfg, coreOpts...)
	if err != nil {
		return nil, err
	}
	verifier, err := cognito.NewVerifier(cfg, coreOpts...)
	if err != nil {
		return nil, err
	}
	a := &app{
		cfg:      cfg,
		client:   client,
		verifier: verifier,
		now:      s.now,
		log:      s.log,
		secure:   callback.Scheme == "https",
		sessions: map[string]*session{},
	}
	a.flow = &cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier, InsecureCookie: !a.secure}
	a.cookie = "session"
	if a.secure {
		a.cookie = "__Host-session"
	}
	if err := a.parseTemplates(); err != nil {
		return nil, err
	}

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	callbackPath := callback.Path
	if callbackPath == "" {
		callbackPath = "/"
	}
	api := cognito.RequireAccessToken(verifier, cognito.WithRealm("webapp"),
		cognito.WithErrorHook(func(r *http.Request, err error) {
			a.log.Info("API request refused", "path", r.URL.Path, "reason", err)
		}))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET "+callbackPath, a.callback)
	mux.HandleFunc("GET /profile", a.profile)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("GET /api/me", api(http.HandlerFunc(a.apiMe)))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	// POST /logout changes state: refuse it from other sites. The session
	// cookie's SameSite=Lax already keeps it out of cross-site POSTs; this
	// covers same-site, cross-origin ones.
	// Form submissions may lead only here and, through the sign-out
	// redirect, to the hosted UI.
	csp := "default-src 'self'; frame-ancestors 'none'; form-action 'self' " + origin(cfg.Domain)
	return securityHeaders(csp, http.NewCrossOriginProtection().Handler(mux)), nil
}

func (a *app) parseTemplates() error {
	a.pages = map[string]*template.Template{}
	for _, name := range []string{"home", "profile", "error"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return err
		}
		a.pages[name] = t
	}
	return nil
}

// origin is the scheme and host of a URL such as Config.Domain.
func origin(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// securityHeaders keeps pages out of frames and shared caches, and allows
// only the app's own script and styles.
func securityHeaders(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title       string
	SignedIn    bool
	Email       string
	Message     string
	ID          *cognito.IDToken
	AccessToken string
	APIURL      string
	ExpiresIn   time.Duration
	Refreshes   int
}

func (a *app) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.pages[name].ExecuteTemplate(w, name+".html", p); err != nil {
		a.log.Error("rendering a page", "page", name, "err", err)
	}
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Home"}
	if _, sess := a.session(r); sess != nil {
		if id, _, err := a.current(r, sess); err == nil {
			p.SignedIn, p.Email = true, id.Email
		}
	}
	a.render(w, http.StatusOK, "home", p)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if err := a.flow.Start(w, r); err != nil {
		a.log.Error("starting a login", "err", err)
		a.render(w, http.StatusInternalServerError, "error", page{Title: "Sign-in is not set up", Message: "The app's user pool configuration is incomplete; see the server's log."})
	}
}

func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	tokens, _, err := a.flow.Finish(w, r)
	if err != nil {
		a.log.Warn("sign-in failed", "err", err)
		status, msg := http.StatusBadRequest, "Sign-in failed."
		var ae *cognito.AuthorizeError
		switch {
		case errors.Is(err, cognito.ErrAccessDenied):
			msg = "Sign-in was cancelled or refused."
		case errors.Is(err, cognito.ErrInvalidState):
			msg = "This sign-in has expired or was already completed. Please sign in again."
		case errors.Is(err, cognito.ErrEndpointUnavailable), errors.Is(err, cognito.ErrJWKSUnavailable):
			status, msg = http.StatusServiceUnavailable, "The user pool cannot be reached right now. Please try again shortly."
		case errors.As(err, &ae):
			msg = "The sign-in page reported an error: " + ae.Code + "."
		}
		a.render(w, status, "error", page{Title: "Sign-in failed", Message: msg})
		return
	}
	// A fresh session ID at every sign-in, so that a session ID planted
	// before it (session fixation) is worth nothing.
	if old, _ := a.session(r); old != "" {
		a.dropSession(old)
	}
	id := cognito.GenerateVerifier() // 32 random bytes, base64url
	now := a.now()
	a.sessionMu.Lock()
	for k, s := range a.sessions {
		if now.Sub(s.created) > sessionLifetime {
			delete(a.sessions, k)
		}
	}
	a.sessions[id] = &session{tokens: tokens, created: now}
	a.sessionMu.Unlock()
	http.SetCookie(w, a.sessionCookie(id, 0))
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (a *app) scheme() string {
	if a.secure {
		return "https"
	}
	return "http"
}

func (a *app) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: a.cookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// session returns the request's session ID and session, if it has one.
func (a *app) session(r *http.Request) (string, *session) {
	c, err := r.Cookie(a.cookie)
	if err != nil {
		return "", nil
	}
	a.sessionMu.Lock()
	defer a.sessionMu.Unlock()
	s := a.sessions[c.Value]
	if s == nil {
		return "", nil
	}
	return c.Value, s
}

func (a *app) dropSession(id string) *session {
	a.sessionMu.Lock()
	defer a.sessionMu.Unlock()
	s := a.sessions[id]
	delete(a.sessions, id)
	return s
}

// current returns the session's verified ID token and its tokens, refreshing
// them first when the ID token has expired.
func (a *app) current(r *http.Request, s *session) (*cognito.IDToken, *cognito.Tokens, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := a.verifier.VerifyIDToken(r.Context(), s.tokens.IDToken)
	if !errors.Is(err, cognito.ErrTokenExpired) {
		return id, s.tokens, err
	}
	fresh, err := a.client.Refresh(r.Context(), s.tokens.RefreshToken)
	if err != nil {
		return nil, nil, err
	}
	if id, err = a.verifier.VerifyIDToken(r.Context(), fresh.IDToken); err != nil {
		return nil, nil, err
	}
	s.tokens = fresh
	s.refreshes++
	a.log.Info("tokens refreshed", "user", id.Username)
	return id, fresh, nil
}

func (a *app) profile(w http.ResponseWriter, r *http.Request) {
	sid, sess := a.session(r)
	if sess == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	id, tokens, err := a.current(r, sess)
	switch {
	case errors.Is(err, cognito.ErrEndpointUnavailable), errors.Is(err, cognito.ErrJWKSUnavailable):
		a.log.Warn("user pool unavailable", "err", err)
		a.render(w, http.StatusServiceUnavailable, "error", page{Title: "Try again shortly", Message: "The user pool cannot be reached right now.", SignedIn: true})
		return
	case err != nil:
		// The refresh token expired or was revoked (ErrInvalidGrant), or the
		// tokens no longer verify: the user signs in again.
		a.log.Info("session ended", "err", err)
		a.dropSession(sid)
		http.SetCookie(w, a.sessionCookie("", -1))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	sess.mu.Lock()
	refreshes := sess.refreshes
	sess.mu.Unlock()
	a.render(w, http.StatusOK, "profile", page{
		Title:       "Profile",
		SignedIn:    true,
		ID:          id,
		AccessToken: tokens.AccessToken,
		APIURL:      a.scheme() + "://" + r.Host + "/api/me",
		ExpiresIn:   id.Expiry.Sub(a.now()).Round(time.Second),
		Refreshes:   refreshes,
	})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	sid, _ := a.session(r)
	if sess := a.dropSession(sid); sess != nil {
		sess.mu.Lock()
		refresh := sess.tokens.RefreshToken
		sess.mu.Unlock()
		// Revoking ends the refresh token, and Cognito's own endpoints
		// (refresh, userInfo) refuse the access tokens issued with it. A JWT
		// check elsewhere, /api/me's included, still accepts a copied access
		// token until its exp; cognito.WithRevocationList closes that gap
		// for this library's verifiers.
		if err := a.client.Revoke(r.Context(), refresh); err != nil {
			a.log.Warn("revoking the refresh token", "err", err)
		}
	}
	http.SetCookie(w, a.sessionCookie("", -1))
	// The hosted UI's own session ends at its /logout, which sends the browser
	// back to LogoutURI.
	http.Redirect(w, r, a.cfg.LogoutURL(), http.StatusSeeOther)
}

// apiMe answers who the bearer of the access token is.
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	tok, _ := cognito.AccessTokenFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sub":        tok.Subject,
		"username":   tok.Username,
		"groups":     nonNil(tok.Groups),
		"scopes":     nonNil(tok.Scopes),
		"expires_at": tok.Expiry.UTC().Format(time.RFC3339),
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
