package cognito

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// HTTPClient returns an *http.Client that adds the app client's
// client_credentials access token for scopes to every request
// (Authorization: Bearer), from a source of its own that works as
// TokenSource's does: the token is cached, and renewed WithRenewMargin before
// it expires by one request however many goroutines send at once. The caller
// never touches a token.
// Make one per set of scopes and keep it: each call starts with no token.
//
// Use it rather than oauth2.NewClient(ctx, client.TokenSource(...)).
// oauth2.NewClient wraps the source in x/oauth2's ReuseTokenSource, which
// keeps a token until 10 s before its expiry and asks the source for a new one
// only then, so the source never sees the renew margin: the renewal happens
// 10 s before expiry, on the request path, and a slow or failed token request
// then leaves no valid token to fall back on.
//
// Requests go through the transport of the Client's HTTP client
// (WithHTTPClient; http.DefaultTransport for the default one), within its
// timeout and with its cookie jar. A request made when no valid token can be
// had fails with the source's error (an *OAuthError, or one matching
// ErrEndpointUnavailable) inside net/http's *url.Error, and reaches no server.
//
// Redirects are followed as net/http follows them by default (at most 10),
// but the token goes only to the scheme, host and port of the request the
// caller made: a redirect to another origin, or from https to http, is
// followed without it. (x/oauth2's Transport adds the token again on every
// hop, so the Authorization header that net/http drops on a redirect to
// another host comes back: an open redirect on the API would hand the token
// to anyone.) The Client's own refusal of redirects guards its token
// requests, which would resend the client secret; it is not needed here. To
// follow none, set CheckRedirect on the returned client to return
// http.ErrUseLastResponse.
func (c *Client) HTTPClient(scopes ...string) *http.Client {
	base := c.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{
		Transport: &m2mTransport{auth: oauth2.Transport{Source: c.newM2MSource(scopes), Base: base}},
		Timeout:   c.http.Timeout,
		Jar:       c.http.Jar,
	}
}

// m2mTransport is an oauth2.Transport that adds the token only to requests
// to the origin of the request the caller made.
type m2mTransport struct {
	auth oauth2.Transport
}

// RoundTrip sends req with the token, or, when req follows a redirect to
// another origin, without it.
func (t *m2mTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Response != nil { // a redirect the client follows
		if first := firstRequest(req); first == nil || !sameOrigin(first.URL, req.URL) {
			return t.auth.Base.RoundTrip(req)
		}
	}
	return t.auth.RoundTrip(req)
}

// firstRequest returns the request the caller made, which req's redirect
// chain leads back to, or nil when a transport that does not set
// Response.Request broke the chain (and the token is then withheld).
func firstRequest(req *http.Request) *http.Request {
	for req.Response != nil {
		if req = req.Response.Request; req == nil {
			return nil
		}
	}
	return req
}

// sameOrigin reports whether a and b have the same scheme, host and port, a
// missing port being the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return a != nil && b != nil &&
		strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		originPort(a) == originPort(b)
}

func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
