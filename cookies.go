package cognito

import (
	"fmt"
	"net/http"
	"strings"
)

// The login cookies (LoginFlow) and the session cookie (Sessions) follow one
// rule, which the LoginFlow decides:
//
//   - They are Secure unless LoginFlow.InsecureCookie is set or the
//     Config's RedirectURI is plain http on a loopback host (localhost,
//     127.0.0.0/8, [::1]): an app served there cannot have Secure cookies in
//     every client, and loopback traffic leaves no machine.
//   - A Secure cookie on path "/" is named with the __Host- prefix, which
//     makes browsers refuse the cookie from anywhere but this host over
//     https, without a Domain and with Path=/: a sibling subdomain cannot
//     plant a login or a session of its choosing (RFC 6265bis section
//     4.1.3.2). The session cookie's path is always "/".
//   - A Secure login cookie on another path (LoginFlow.CookiePath), where
//     __Host- cannot be used, is named with the __Secure- prefix, the next
//     best: only a secure origin can set it.
//   - A cookie that is not Secure has neither prefix: browsers refuse to
//     store it.
//
// The default names follow the rule. A name given with
// WithSessionCookieName or LoginFlow.CookieName that breaks it is refused
// with ErrInvalidConfig, rather than silently losing the prefix's
// protection: "__Host-myapp" is a fine name for a Secure session cookie,
// "myapp" is not.

const (
	hostPrefix   = "__Host-"
	securePrefix = "__Secure-"
)

// secureCookies reports whether the flow's login cookies, and the session
// cookie of Sessions built on it, are Secure.
func (f *LoginFlow) secureCookies() bool {
	return !f.InsecureCookie && !plainLoopback(f.Config.RedirectURI)
}

// checkCookieName returns an ErrInvalidConfig error when name, the name of
// a cookie with this path and Secure attribute (what says where the name was
// set, for the message), breaks the rule above or is not a valid cookie
// name.
func checkCookieName(what, name, path string, secure bool) error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %q "+format, append([]any{ErrInvalidConfig, what, clean(name, 64)}, args...)...)
	}
	bare := name
	for _, p := range []string{hostPrefix, securePrefix} {
		if len(bare) >= len(p) && strings.EqualFold(bare[:len(p)], p) {
			bare = bare[len(p):]
		}
	}
	switch {
	case (&http.Cookie{Name: name, Value: "x"}).Valid() != nil:
		return invalid("is not a valid cookie name")
	case !secure && bare != name:
		return invalid("has a prefix that needs a Secure cookie, which this one is not (InsecureCookie, or a plain-http loopback RedirectURI): browsers would not store it")
	case secure && path == "/" && !strings.HasPrefix(name, hostPrefix):
		return invalid("lacks the %s prefix, without which a sibling subdomain can plant this Secure cookie on path \"/\": name it %q", hostPrefix, clean(hostPrefix+bare, 64))
	case secure && path != "/" && !strings.HasPrefix(name, securePrefix):
		return invalid("lacks the %s prefix that a Secure cookie on path %q can have (%s needs path \"/\"): name it %q", securePrefix, clean(path, 64), hostPrefix, clean(securePrefix+bare, 64))
	}
	return nil
}

// checkCookies refuses a CookieName that breaks the rule for the login
// cookies as the flow sets them. Their names add "-" and base64url
// characters to it, which keep a valid name valid.
func (f *LoginFlow) checkCookies() error {
	return checkCookieName("LoginFlow.CookieName", f.cookiePrefix(), f.cookiePath(), f.secureCookies())
}
