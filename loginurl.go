package cognito

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
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

// WithAuthParam sets any other authorize parameter, such as "lang" or
// "login_hint". It is ignored for the parameters that LoginURL or another
// option owns: response_type, client_id, redirect_uri, state, scope, nonce,
// identity_provider, code_challenge and code_challenge_method, so that it
// cannot swap the state or downgrade PKCE.
func WithAuthParam(key, value string) AuthOption {
	switch key {
	case "response_type", "client_id", "redirect_uri", "state", "scope", "nonce",
		"identity_provider", "code_challenge", "code_challenge_method":
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
