package cognito

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of LoginFlow's cookie.
const (
	// DefaultLoginCookieName names the login cookie when it is Secure and its
	// path is "/": the __Host- prefix stops a sibling subdomain from planting
	// a login of its own choosing (RFC 6265bis section 4.1.3.2).
	DefaultLoginCookieName = "__Host-cognito-login"
	// DefaultSecureLoginCookieName names the login cookie when it is Secure
	// but its path (LoginFlow.CookiePath) is not "/", where __Host- cannot
	// be used: the __Secure- prefix at least keeps origins that are not
	// secure from setting it.
	DefaultSecureLoginCookieName = "__Secure-cognito-login"
	// DefaultInsecureLoginCookieName names the login cookie when it is not
	// Secure.
	DefaultInsecureLoginCookieName = "cognito-login"
	// DefaultLoginMaxAge is how long a started login may take; Cognito's
	// authorization codes live five minutes, the hosted UI form longer.
	DefaultLoginMaxAge = 10 * time.Minute
)

// LoginFlow signs users in through the hosted UI for a server-rendered app:
// Start redirects the browser to LoginURL with a fresh state, PKCE verifier
// and nonce, and Finish, on the callback, checks the state, exchanges the
// code with the verifier, verifies the ID token and compares its nonce.
//
// Between the two, the login lives in a cookie of its own, named after its
// state, so that logins started in several tabs do not clobber each other.
// The cookie is HttpOnly, SameSite=Lax (sent on the hosted UI's redirect back,
// not on cross-site subrequests), and expires after MaxAge; Finish deletes it
// whatever the outcome, so a callback URL works once.
//
// The login cookie, and the session cookie of Sessions built on the flow,
// follow one rule. They are Secure unless InsecureCookie is set or
// Config.RedirectURI is plain http on a loopback host (http://localhost,
// 127.0.0.0/8, [::1]), where an app cannot have Secure cookies in every
// client. A Secure cookie on path "/" has the __Host- prefix, which keeps a
// sibling subdomain from planting it; a Secure login cookie on another
// CookiePath has the __Secure- prefix, since __Host- needs path "/"; a
// cookie that is not Secure has neither, since browsers would refuse it. The
// default names follow the rule, and Start, Finish and NewSessions refuse a
// CookieName or WithSessionCookieName that breaks it with ErrInvalidConfig.
//
// Every Start sets a cookie of its own, which lives MaxAge unless Finish
// deletes it. A page that sends a browser to Start over and over can
// therefore pile up login cookies until the browser drops its oldest cookies
// for the site. Serve Start only to users who asked to sign in, and keep
// MaxAge short.
//
// Set Config, Client and Verifier; the other fields have defaults. A
// LoginFlow is safe for concurrent use once set up.
type LoginFlow struct {
	Config   Config    // the app client; Start needs Domain, ClientID and RedirectURI
	Client   *Client   // exchanges the code
	Verifier *Verifier // verifies the ID token

	// CookieName is the prefix of the login cookies' names. Default
	// DefaultLoginCookieName; DefaultSecureLoginCookieName when CookiePath
	// is not "/"; DefaultInsecureLoginCookieName when the cookie is not
	// Secure. A name of your own must follow the same rule (see above): with
	// a Secure cookie on path "/", "__Host-myapp-login", not "myapp-login".
	CookieName string
	// CookiePath is the login cookies' Path. Default "/".
	CookiePath string
	// InsecureCookie drops the Secure attribute of the login and session
	// cookies, for development over plain http on a host that is not
	// loopback. Over plain http on a loopback RedirectURI they drop it
	// without this field. Never set it in production.
	InsecureCookie bool
	// MaxAge bounds how long a started login may take. Default DefaultLoginMaxAge.
	MaxAge time.Duration

	// InsecureEmulator runs the flow against a local emulator that drops the
	// nonce, such as cognito-local 5.3.0, whose ID tokens carry no nonce claim.
	// It skips exactly one check: Finish accepts an ID token without a nonce.
	// A nonce that is present must still be this login's, and every other
	// check (state, PKCE, signature, issuer, audience, expiry) still runs.
	// Sessions built on such a flow also sign out without the hosted UI's
	// /logout, which emulators lack. Start and Finish refuse it with
	// ErrInvalidConfig unless Config.Domain is a loopback URL (localhost,
	// 127.0.0.0/8 or [::1]), so it cannot be left on against a real user pool.
	InsecureEmulator bool
}

// The state, verifier and nonce are GenerateVerifier values: 43 base64url
// characters. The cookie is named after the state's first stateKeyLen ones.
const (
	secretLen   = 43
	stateKeyLen = 16
)

func (f *LoginFlow) cookiePath() string {
	if f.CookiePath == "" {
		return "/"
	}
	return f.CookiePath
}

// cookiePrefix is CookieName, or the default name under the rule.
func (f *LoginFlow) cookiePrefix() string {
	switch {
	case f.CookieName != "":
		return f.CookieName
	case !f.secureCookies():
		return DefaultInsecureLoginCookieName
	case f.cookiePath() != "/":
		return DefaultSecureLoginCookieName
	}
	return DefaultLoginCookieName
}

func (f *LoginFlow) cookieName(state string) string {
	return f.cookiePrefix() + "-" + state[:stateKeyLen]
}

func (f *LoginFlow) maxAge() time.Duration {
	if f.MaxAge <= 0 {
		return DefaultLoginMaxAge
	}
	return f.MaxAge
}

// Start begins a login: it makes a fresh state, PKCE verifier and nonce,
// keeps them in a login cookie, and redirects (302) to Config.LoginURL with
// them and opts (WithIdentityProvider, WithScopes, ...). It returns an error,
// having written nothing, when Config cannot make a login URL or an option
// was refused (WithACRValues, WithMaxAge).
func (f *LoginFlow) Start(w http.ResponseWriter, r *http.Request, opts ...AuthOption) error {
	if err := f.Config.validateFor("LoginFlow.Start", "Domain", "RedirectURI"); err != nil {
		return err
	}
	if err := f.checkEmulator(); err != nil {
		return err
	}
	if err := f.checkCookies(); err != nil {
		return err
	}
	if err := checkAuthOptions(opts); err != nil {
		return err
	}
	state, verifier, nonce := GenerateVerifier(), GenerateVerifier(), GenerateVerifier()
	http.SetCookie(w, &http.Cookie{
		Name:     f.cookieName(state),
		Value:    state + "." + verifier + "." + nonce,
		Path:     f.cookiePath(),
		MaxAge:   max(1, int(f.maxAge().Seconds())),
		Secure:   f.secureCookies(),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	// The PKCE and nonce options come last so that opts cannot replace them.
	opts = append(opts[:len(opts):len(opts)], WithPKCE(verifier), WithNonce(nonce))
	http.Redirect(w, r, f.Config.LoginURL(state, opts...), http.StatusFound)
	return nil
}

// Finish completes the login on the callback request r (the RedirectURI) and
// returns the tokens with the verified ID token. It deletes the login cookie
// first, whatever follows. It fails, wrapping:
//   - ErrInvalidState when the state parameter matches no login cookie (it
//     expired, the callback is replayed, or the login was not started in this
//     browser). The state is checked before anything else in the URL is read;
//   - ErrLoginFailed, with an *AuthorizeError, when the hosted UI sent an error
//     (ErrAccessDenied when the user or pool refused the sign-in);
//   - the Client's errors when the code exchange fails (ErrInvalidGrant for a
//     used or expired code), and the Verifier's when the ID token does not
//     verify;
//   - ErrInvalidNonce when the ID token's nonce is not this login's.
//
// No error carries the code, a token, the verifier or the nonce. The caller
// decides what the browser sees; typically a page with a link to sign in again.
func (f *LoginFlow) Finish(w http.ResponseWriter, r *http.Request) (*Tokens, *IDToken, error) {
	if err := f.checkEmulator(); err != nil {
		return nil, nil, err
	}
	if err := f.checkCookies(); err != nil {
		return nil, nil, err
	}
	q := r.URL.Query()
	state := q.Get("state")
	if !isSecret(state) {
		return nil, nil, fmt.Errorf("%w: the callback has no well-formed state", ErrInvalidState)
	}
	name := f.cookieName(state)
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: f.cookiePath(), MaxAge: -1,
		Secure: f.secureCookies(), HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	c, err := r.Cookie(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: no login cookie for the callback's state (expired, already used, or started elsewhere)", ErrInvalidState)
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || !isSecret(parts[0]) || !isSecret(parts[1]) || !isSecret(parts[2]) {
		return nil, nil, fmt.Errorf("%w: the login cookie is malformed", ErrInvalidState)
	}
	if subtle.ConstantTimeCompare([]byte(parts[0]), []byte(state)) != 1 {
		return nil, nil, fmt.Errorf("%w: the callback's state differs from the login cookie's", ErrInvalidState)
	}
	verifier, nonce := parts[1], parts[2]

	if q.Has("error") {
		return nil, nil, &AuthorizeError{Code: clean(q.Get("error"), 64), Description: clean(q.Get("error_description"), 256)}
	}
	code := q.Get("code")
	if code == "" {
		return nil, nil, fmt.Errorf("%w: the callback has neither code nor error", ErrLoginFailed)
	}
	if f.Client == nil || f.Verifier == nil {
		return nil, nil, fmt.Errorf("%w: LoginFlow needs a Client and a Verifier", ErrInvalidConfig)
	}
	tokens, err := f.Client.ExchangeCode(r.Context(), code, WithCodeVerifier(verifier))
	if err != nil {
		return nil, nil, err
	}
	if tokens.IDToken == "" {
		return nil, nil, fmt.Errorf("%w: the token endpoint sent no ID token; LoginFlow needs the openid scope", ErrInvalidConfig)
	}
	id, err := f.Verifier.VerifyIDToken(r.Context(), tokens.IDToken)
	if err != nil {
		return nil, nil, err
	}
	if id.Nonce == "" && f.InsecureEmulator {
		return tokens, id, nil // the emulator dropped the nonce (see InsecureEmulator)
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) != 1 {
		return nil, nil, fmt.Errorf("%w: the ID token's nonce is not the one this login sent", ErrInvalidNonce)
	}
	return tokens, id, nil
}

// checkEmulator refuses InsecureEmulator unless the hosted UI is on a
// loopback host, where only a local emulator can be.
func (f *LoginFlow) checkEmulator() error {
	if !f.InsecureEmulator {
		return nil
	}
	if u, err := url.Parse(f.Config.domain()); err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("%w: LoginFlow.InsecureEmulator needs a loopback Domain, not %q", ErrInvalidConfig, redactURL(f.Config.Domain))
	}
	return nil
}

// isSecret reports whether s looks like a GenerateVerifier value.
func isSecret(s string) bool {
	if len(s) != secretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !base64URLChars[s[i]] {
			return false
		}
	}
	return true
}

// base64URLChars marks the bytes of the base64url alphabet.
var base64URLChars = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()
