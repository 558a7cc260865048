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
	"golang.org/x/sync/singleflight"
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
// for oauth2.NewClient and every SDK that takes one. It is safe for many
// goroutines and caches the token: callers get the cached one until the renew
// margin before its expiry (WithRenewMargin, at most half the token's
// lifetime), and then one of them renews it with ClientCredentials, however
// many arrive at once, while the others wait for that one request.
//
// A renewal that fails leaves callers with the old token while it is still
// valid (and is retried after a few seconds, not on every call); once it has
// expired, Token returns the renewal's error: an *OAuthError, or an error
// matching ErrEndpointUnavailable when the endpoint failed or did not answer.
//
// Token has no context, so it never uses a caller's: each request runs on a
// background context bounded by the HTTP client's timeout (DefaultHTTPTimeout
// when it has none). A caller that gave up never spoils the source for the
// others (x/oauth2's issue 388).
func (c *Client) TokenSource(scopes ...string) oauth2.TokenSource {
	timeout := c.http.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	return &m2mSource{client: c, scopes: slices.Clone(scopes), timeout: timeout}
}

// renewRetryDelay is how long a source whose renewal failed serves its still
// valid token before it asks the endpoint again.
const renewRetryDelay = 5 * time.Second

// m2mSource is the TokenSource of TokenSource.
type m2mSource struct {
	client  *Client
	scopes  []string
	timeout time.Duration
	flight  singleflight.Group

	mu         sync.Mutex
	tok        *Tokens
	renewAt    time.Time // when tok is due for renewal
	retryAfter time.Time // after a failed renewal: no request before it
}

// Token returns the cached token, or renews it as TokenSource says.
func (s *m2mSource) Token() (*oauth2.Token, error) {
	now := s.client.now()
	if t, due := s.cached(now); !due {
		return t, nil
	}
	v, err, _ := s.flight.Do("token", func() (any, error) {
		// A caller that found the token due just as another renewal ended
		// must not renew again.
		now := s.client.now()
		if t, due := s.cached(now); !due {
			return t, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		tok, err := s.client.ClientCredentials(ctx, s.scopes...) // its Expiry is at least 1 s ahead
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
		s.tok, s.retryAfter = tok, time.Time{}
		margin := min(s.client.renew, tok.Expiry.Sub(now)/2)
		s.renewAt = tok.Expiry.Add(-margin)
		return toOAuth2(tok), nil
	})
	if err != nil {
		return nil, err
	}
	t := *v.(*oauth2.Token) // each caller its own copy, as from cached
	return &t, nil
}

// cached returns the cached token and whether a renewal is due: the token is
// missing, expired, or inside its renew margin with no failed renewal
// holding the next one back.
func (s *m2mSource) cached(now time.Time) (*oauth2.Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.tok == nil || !now.Before(s.tok.Expiry):
		return nil, true
	case now.Before(s.renewAt) || now.Before(s.retryAfter):
		return toOAuth2(s.tok), false
	}
	return nil, true
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
