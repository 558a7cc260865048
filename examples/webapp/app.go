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
	"time"

	"github.com/cognitokit/cognito"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// app is the web app: pages, cognito.Sessions for sign-in, sign-out and the
// signed-in pages, and an API behind cognito.RequireAccessToken.
type app struct {
	sessions *cognito.Sessions
	now      func() time.Time
	log      *slog.Logger
	secure   bool // the app is served over https
	pages    map[string]*template.Template
}

type appSettings struct {
	now         func() time.Time
	httpClient  *http.Client
	log         *slog.Logger
	emulator    bool
	store       cognito.SessionStore
	sessionOpts []cognito.SessionOption
}

// appOption configures newApp.
type appOption func(*appSettings)

// withClock replaces time.Now for the app's token checks and session ages.
func withClock(now func() time.Time) appOption { return func(s *appSettings) { s.now = now } }

// withHTTPClient sends the app's calls to the user pool through c.
func withHTTPClient(c *http.Client) appOption { return func(s *appSettings) { s.httpClient = c } }

// withLogger sends the app's log lines to l.
func withLogger(l *slog.Logger) appOption { return func(s *appSettings) { s.log = l } }

// withEmulator runs the app against a local emulator that lacks the nonce,
// revocation and the hosted UI's /logout (cognito.LoginFlow.InsecureEmulator).
func withEmulator() appOption { return func(s *appSettings) { s.emulator = true } }

// withStore keeps the sessions and the revocation list in store (Redis, to
// share them with other replicas) instead of this process's memory.
func withStore(store cognito.SessionStore) appOption {
	return func(s *appSettings) { s.store = store }
}

// withSessionOptions passes opts to cognito.NewSessions.
func withSessionOptions(opts ...cognito.SessionOption) appOption {
	return func(s *appSettings) { s.sessionOpts = append(s.sessionOpts, opts...) }
}

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
	store, list := s.store, s.store
	if store == nil {
		// Two MemoryStores: a full one drops the entries closest to their
		// expiry, and sign-ins must not push sign-outs out of the list.
		store, list = &cognito.MemoryStore{Now: s.now}, &cognito.MemoryStore{Now: s.now}
	}
	coreOpts := []cognito.Option{cognito.WithClock(s.now), cognito.WithHTTPClient(s.httpClient)}
	client, err := cognito.NewClient(cfg, coreOpts...)
	if err != nil {
		return nil, err
	}
	// With Redis, the revocation list shares the sessions' store: a sign-out
	// on any replica lists the session's tokens there, and every replica's
	// API refuses them from then on.
	verifier, err := cognito.NewVerifier(cfg, append(coreOpts, cognito.WithRevocationList(list))...)
	if err != nil {
		return nil, err
	}
	a := &app{now: s.now, log: s.log, secure: callback.Scheme == "https"}
	flow := &cognito.LoginFlow{
		Config: cfg, Client: client, Verifier: verifier,
		InsecureCookie: !a.secure, InsecureEmulator: s.emulator,
	}
	a.sessions, err = cognito.NewSessions(flow, store,
		append([]cognito.SessionOption{cognito.WithSessionLogger(s.log)}, s.sessionOpts...)...)
	if err != nil {
		return nil, err
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
	mux.Handle("GET /{$}", a.sessions.Optional(http.HandlerFunc(a.home)))
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET "+callbackPath, a.sessions.Callback)
	mux.Handle("GET /profile", a.sessions.Require(http.HandlerFunc(a.profile)))
	mux.Handle("GET /settings", a.sessions.RequireStepUp(settingsStepUp)(http.HandlerFunc(a.settings)))
	mux.HandleFunc("POST /logout", a.sessions.Logout)
	mux.Handle("GET /api/me", api(http.HandlerFunc(a.apiMe)))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	// Form submissions may lead only here and, through the sign-out
	// redirect, to the hosted UI. Sessions.Logout refuses cross-origin
	// POSTs itself.
	csp := "default-src 'self'; frame-ancestors 'none'; form-action 'self' " + origin(cfg.Domain)
	return securityHeaders(csp, mux), nil
}

func (a *app) parseTemplates() error {
	a.pages = map[string]*template.Template{}
	for _, name := range []string{"home", "profile", "settings"} {
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
	ID          *cognito.IDToken
	AccessToken string
	APIURL      string
	Expiry      time.Time
	ExpiresIn   time.Duration
	StepUp      cognito.StepUp
	SignedInAgo time.Duration
}

func (a *app) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.pages[name].ExecuteTemplate(w, name+".html", p); err != nil {
		a.log.Error("rendering a page", "page", name, "err", err)
	}
}

// home is public, behind Sessions.Optional: it greets a signed-in user and
// links a signed-out one to sign in.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Home"}
	if sess, ok := cognito.SessionFromContext(r.Context()); ok {
		p.SignedIn, p.ID = true, sess.IDToken
	}
	a.render(w, http.StatusOK, "home", p)
}

// settingsStepUp is what the security settings page needs: a sign-in that
// reached urn:cognito:loa:2, a level above a password alone, no older than
// five minutes.
var settingsStepUp = cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}, MaxAge: 5 * time.Minute}

// settings is behind Sessions.RequireStepUp(settingsStepUp): the session's
// sign-in reached the level, recently.
func (a *app) settings(w http.ResponseWriter, r *http.Request) {
	sess, _ := cognito.SessionFromContext(r.Context())
	a.render(w, http.StatusOK, "settings", page{
		Title:       "Security settings",
		SignedIn:    true,
		ID:          sess.IDToken,
		StepUp:      settingsStepUp,
		SignedInAgo: a.now().Sub(sess.IDToken.AuthTime).Round(time.Second),
	})
}

// login is Sessions.Login, which sends the user back to its return_to
// path after sign-in; without one, that is the profile page.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if !r.URL.Query().Has("return_to") {
		q := r.URL.Query()
		q.Set("return_to", "/profile")
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
	}
	a.sessions.Login(w, r)
}

// profile is behind Sessions.Require: the session is there, its tokens
// refreshed if they were about to expire.
func (a *app) profile(w http.ResponseWriter, r *http.Request) {
	sess, _ := cognito.SessionFromContext(r.Context())
	scheme := "http"
	if a.secure {
		scheme = "https"
	}
	a.render(w, http.StatusOK, "profile", page{
		Title:       "Profile",
		SignedIn:    true,
		ID:          sess.IDToken,
		AccessToken: sess.AccessToken,
		APIURL:      scheme + "://" + r.Host + "/api/me",
		Expiry:      sess.Expiry,
		ExpiresIn:   sess.Expiry.Sub(a.now()).Round(time.Second),
	})
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
