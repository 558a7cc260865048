package cognito

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ClientCredentials gets an access token for the app client itself, with the
// client_credentials grant (RFC 6749 section 4.4), for machine-to-machine
// calls. The app client must have a secret and the grant enabled, and scopes
// must be resource-server scopes of the client ("orders/read"); with none,
// Cognito grants every such scope the client is allowed. The token has no
// user: its sub and client_id are the client ID. Tokens.Expiry says when it
// expires; there is no ID or refresh token. An unknown scope is the
// endpoint's *OAuthError with Code "invalid_scope" (which matches
// ErrInvalidRequest). Config.Scopes is not used: its default scopes are a
// user's (openid, email, profile), which this grant never issues. Services
// that call APIs all the time want TokenSource, which caches the token.
func (c *Client) ClientCredentials(ctx context.Context, scopes ...string) (*Tokens, error) {
	if c.cfg.ClientSecret == "" {
		return nil, fmt.Errorf("%w: ClientSecret is empty (the client_credentials grant needs a confidential app client)", ErrInvalidConfig)
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return nil, fmt.Errorf("%w: scope %q is empty or has a space, quote or backslash", ErrInvalidRequest, clean(s, 64))
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	body, err := c.tokenAnswer(ctx, form)
	if err != nil {
		return nil, err
	}
	return parseTokens(body, false, false, "", c.now())
}

// TokenSource returns an oauth2.TokenSource of M2M access tokens for scopes,
// for every SDK that takes one. To call an API, use HTTPClient, which wraps
// the source in an *http.Client (oauth2.NewClient would lose the renew
// margin). The source is safe for many goroutines and caches the token:
// callers get the cached one until the renew margin before its expiry
// (WithRenewMargin, at most half the token's lifetime). Then the first caller
// renews it with ClientCredentials, and waits for that one request, while
// every other caller keeps getting the cached token, which is still valid;
// callers that have no valid token wait for the one request.
//
// A renewal that fails leaves callers with the old token while it is still
// valid when the renewal returns (and is retried after a few seconds, not on
// every call); once it has expired, Token returns the renewal's error: an
// *OAuthError, or an error matching ErrEndpointUnavailable when the endpoint
// failed or did not answer.
//
// Token has no context, so it never uses a caller's: each request runs on a
// background context bounded by the HTTP client's timeout (DefaultHTTPTimeout
// when it has none). A caller that gave up never spoils the source for the
// others (x/oauth2's issue 388).
//
// With WithTokenStore, the source looks in the store before it asks the
// endpoint, and one replica of the fleet renews for all.
func (c *Client) TokenSource(scopes ...string) oauth2.TokenSource {
	return c.newM2MSource(scopes)
}

func (c *Client) newM2MSource(scopes []string) *m2mSource {
	timeout := c.http.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	s := &m2mSource{client: c, scopes: slices.Clone(scopes), timeout: timeout}
	if c.fleet != nil {
		s.shared = c.fleet.entry(s.scopes, timeout)
	}
	return s
}

// renewRetryDelay is how long a source whose renewal failed serves its still
// valid token before it asks the endpoint again.
const renewRetryDelay = 5 * time.Second

// m2mSource is the TokenSource of TokenSource.
type m2mSource struct {
	client  *Client
	scopes  []string
	timeout time.Duration
	shared  *sharedToken // WithTokenStore: the fleet's entry; nil: this process alone

	mu         sync.Mutex
	tok        *Tokens
	renewAt    time.Time // when tok is due for renewal
	retryAfter time.Time // after a failed renewal, or one left to another replica: no new attempt before it
	flight     *renewal  // the renewal under way, if any
}

// renewal is one renewal under way, which callers without a valid token wait
// for.
type renewal struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// errRenewalAbandoned is what a renewal that panicked leaves its waiters.
var errRenewalAbandoned = fmt.Errorf("%w: the M2M token renewal did not finish", ErrEndpointUnavailable)

// Token returns the cached token, or renews it as TokenSource says.
func (s *m2mSource) Token() (*oauth2.Token, error) {
	now := s.client.now()
	s.mu.Lock()
	valid := s.tok != nil && now.Before(s.tok.Expiry)
	if valid && (s.flight != nil || now.Before(s.renewAt) || now.Before(s.retryAfter)) {
		t := toOAuth2(s.tok)
		s.mu.Unlock()
		return t, nil
	}
	if f := s.flight; f != nil {
		s.mu.Unlock()
		<-f.done
		return f.result()
	}
	f := &renewal{done: make(chan struct{}), err: errRenewalAbandoned}
	s.flight = f
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	f.tok, f.err = s.renew()
	return f.result()
}

// result gives each caller its own copy of the renewal's token.
func (f *renewal) result() (*oauth2.Token, error) {
	if f.err != nil {
		return nil, f.err
	}
	t := *f.tok
	return &t, nil
}

// renew gets a token, from the fleet's store or the endpoint, and caches it.
func (s *m2mSource) renew() (*oauth2.Token, error) {
	if s.shared != nil {
		return s.renewShared()
	}
	tok, now, err := s.request()
	return s.settle(tok, now, err)
}

// request asks the endpoint for a token on a background context bounded by
// the source's timeout. now is the clock read after the request returned: a
// slow failure may have outlived the cached token, which must not be judged
// valid by the clock read before it.
func (s *m2mSource) request() (tok *Tokens, now time.Time, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	tok, err = s.client.ClientCredentials(ctx, s.scopes...) // its Expiry is at least 1 s ahead
	return tok, s.client.now(), err
}

// settle caches the outcome of a request that returned at now: the new token,
// or after a failure the cached one while it is still valid.
func (s *m2mSource) settle(tok *Tokens, now time.Time, err error) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.tok != nil && now.Before(s.tok.Expiry) {
			s.retryAfter = now.Add(renewRetryDelay)
			if s.client.log != nil {
				s.client.log.Warn("cognito: M2M token renewal failed; serving the current token until it expires",
					"expires", s.tok.Expiry, "error", err)
			}
			return toOAuth2(s.tok), nil
		}
		return nil, err
	}
	s.keepLocked(tok, now)
	return toOAuth2(tok), nil
}

// keepLocked caches tok, issued at iat, due for renewal the renew margin
// before its expiry, or at half its lifetime when that comes later. s.mu is
// held.
func (s *m2mSource) keepLocked(tok *Tokens, iat time.Time) {
	margin := min(s.client.renew, tok.Expiry.Sub(iat)/2)
	s.tok, s.renewAt, s.retryAfter = tok, tok.Expiry.Add(-margin), time.Time{}
}

func toOAuth2(t *Tokens) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}
}

// logTokenFailure reports a failed token request: the grant, and the
// endpoint's status and code or the transport's error, never the form's
// values.
func (c *Client) logTokenFailure(form url.Values, err error) {
	if c.log == nil {
		return
	}
	attrs := []any{"grant_type", form.Get("grant_type")}
	var oe *OAuthError
	if errors.As(err, &oe) {
		attrs = append(attrs, "status", oe.StatusCode, "code", oe.Code)
	}
	c.log.Log(context.Background(), tokenFailureLevel(form, err), "cognito: token request failed", append(attrs, "error", err)...)
}
