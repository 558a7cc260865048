package cognito

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuthOption adds a parameter to the hosted UI's authorize request built by
// Config.LoginURL.
type AuthOption interface{ applyAuth(url.Values) }

type authParam struct{ key, value string }

func (p authParam) applyAuth(v url.Values) {
	if p.key != "" {
		v.Set(p.key, p.value)
	}
}

// WithPKCE adds the S256 code_challenge of verifier and code_challenge_method
// (RFC 7636 section 4.2). Keep the verifier with the login (a short-lived
// cookie, for instance) and pass it to ExchangeCode with WithCodeVerifier.
func WithPKCE(verifier string) AuthOption {
	sum := sha256.Sum256([]byte(verifier))
	return pkce(base64.RawURLEncoding.EncodeToString(sum[:]))
}

type pkce string

func (p pkce) applyAuth(v url.Values) {
	v.Set("code_challenge", string(p))
	v.Set("code_challenge_method", "S256")
}

// WithNonce adds nonce, which Cognito copies into the ID token; compare
// IDToken.Nonce with it on the callback to tie the token to this login.
func WithNonce(nonce string) AuthOption { return authParam{"nonce", nonce} }

// WithIdentityProvider sends the user straight to a federated identity
// provider (a SAML or OIDC provider's name, or "Google", "COGNITO", ...)
// instead of the hosted UI's sign-in page.
func WithIdentityProvider(name string) AuthOption {
	return authParam{"identity_provider", name}
}

// WithScopes replaces Config.Scopes for this login.
func WithScopes(scopes ...string) AuthOption {
	return authParam{"scope", strings.Join(scopes, " ")}
}

// WithACRValues asks the hosted UI for a sign-in that reaches one of the
// authentication levels values, in order of preference: Cognito's level URIs
// such as "urn:cognito:loa:2" (acr_values, OpenID Connect Core 1.0 section
// 3.1.2.1). The tokens then say in acr and amr which level the user reached
// and how (IDToken.ACR, IDToken.AMR): check them, as the hosted UI may sign a
// user in below the level asked for. It needs a pool on the Essentials or
// Plus feature plan; other pools ignore it.
//
// Each value must be non-empty, at most 128 bytes of UTF-8, without spaces
// or control characters, and there must be one to eight: otherwise the
// option is refused, as an option cannot return an error. LoginURL then
// leaves acr_values out, and LoginFlow.Start and NewSessions (through
// WithLoginOptions) fail with ErrInvalidConfig, so that a typo cannot turn a
// step-up into an ordinary sign-in unnoticed.
func WithACRValues(values ...string) AuthOption {
	if err := checkACRValues(values); err != nil {
		return refusedAuthOption{fmt.Errorf("%w: WithACRValues: %w", ErrInvalidConfig, err)}
	}
	return authParam{"acr_values", strings.Join(values, " ")}
}

// WithMaxAge asks the hosted UI for a sign-in no older than d: one that
// happened longer ago makes the user sign in again (max_age, OpenID Connect
// Core 1.0 section 3.1.2.1), and the tokens' auth_time (IDToken.AuthTime)
// says when it happened. d is sent in whole seconds, rounded down (0 asks
// for a sign-in now). A negative d is refused as WithACRValues refuses a bad
// value: LoginURL leaves max_age out, and LoginFlow.Start and NewSessions
// fail with ErrInvalidConfig.
func WithMaxAge(d time.Duration) AuthOption {
	if d < 0 {
		return refusedAuthOption{fmt.Errorf("%w: WithMaxAge: %s is negative", ErrInvalidConfig, d)}
	}
	return authParam{"max_age", strconv.FormatInt(int64(d/time.Second), 10)}
}

// refusedAuthOption is an AuthOption built from bad input: it adds nothing,
// and says why to those that can return an error (checkAuthOptions).
type refusedAuthOption struct{ err error }

func (refusedAuthOption) applyAuth(url.Values) {}

// checkAuthOptions returns the error of the first refused option of opts.
func checkAuthOptions(opts []AuthOption) error {
	for _, o := range opts {
		if r, ok := o.(refusedAuthOption); ok {
			return r.err
		}
	}
	return nil
}

// WithAuthParam sets any other authorize parameter, such as "lang" or
// "login_hint". It is ignored for the parameters that LoginURL or another
// option owns: response_type, client_id, redirect_uri, state, scope, nonce,
// identity_provider, code_challenge, code_challenge_method, acr_values and
// max_age, so that it cannot swap the state, downgrade PKCE or weaken a
// step-up.
func WithAuthParam(key, value string) AuthOption {
	switch key {
	case "response_type", "client_id", "redirect_uri", "state", "scope", "nonce",
		"identity_provider", "code_challenge", "code_challenge_method", "acr_values", "max_age":
		return authParam{}
	}
	return authParam{key, value}
}

// LoginURL returns the hosted UI's authorize URL, <Domain>/oauth2/authorize,
// asking for an authorization code for RedirectURI with the configured scopes
// and state. Every value is query-escaped. Call Validate once beforehand:
// LoginURL does not report a malformed Config.
func (c Config) LoginURL(state string, opts ...AuthOption) string {
	v := url.Values{
		"response_type": {"code"},
		"client_id":     {c.ClientID},
		"redirect_uri":  {c.RedirectURI},
		"scope":         {strings.Join(c.scopes(), " ")},
		"state":         {state},
	}
	for _, o := range opts {
		if o != nil {
			o.applyAuth(v)
		}
	}
	return c.domain() + "/oauth2/authorize?" + v.Encode()
}

// LogoutURL returns the hosted UI's sign-out URL,
// <Domain>/logout?client_id=...&logout_uri=..., which ends the user's hosted
// UI session and sends them to LogoutURI.
func (c Config) LogoutURL() string {
	v := url.Values{"client_id": {c.ClientID}}
	if c.LogoutURI != "" {
		v.Set("logout_uri", c.LogoutURI)
	}
	return c.domain() + "/logout?" + v.Encode()
}

// GenerateVerifier returns a fresh PKCE code verifier (RFC 7636 section 4.1):
// 32 bytes from crypto/rand, base64url-encoded to 43 characters. It is also
// fit for state and nonce values.
func GenerateVerifier() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails; it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b[:])
}
