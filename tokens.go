package cognito

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// maxBodyBytes bounds every response body this package reads.
	maxBodyBytes = 1 << 20
	// maxExpiresIn bounds expires_in, in seconds, well inside time.Duration.
	maxExpiresIn = 10 * 365 * 24 * 3600
)

// Client calls the user pool's OAuth 2.0 endpoints under Config.Domain:
// /oauth2/token, /oauth2/revoke and /oauth2/userInfo. It is safe for
// concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	now    func() time.Time
	domain string
	log    *slog.Logger // nil: silent
	renew  time.Duration
	fleet  *tokenFleet // WithTokenStore; nil: none
}

// Tokens is what the token endpoint returns.
type Tokens struct {
	IDToken, AccessToken, RefreshToken, TokenType string
	Expiry                                        time.Time // when the ID and access tokens expire
}

// ExchangeOption configures ExchangeCode.
type ExchangeOption interface{ applyExchange(url.Values) }

type codeVerifier string

func (c codeVerifier) applyExchange(v url.Values) { v.Set("code_verifier", string(c)) }

// WithCodeVerifier sends the PKCE code verifier whose challenge went to
// LoginURL with WithPKCE. An empty verifier makes ExchangeCode fail with
// ErrInvalidRequest before any request: it is what a lost or never-started
// login yields, and sending it would let a code issued without PKCE through.
func WithCodeVerifier(verifier string) ExchangeOption { return codeVerifier(verifier) }

// NewClient returns a Client for cfg, which must validate and have a Domain.
// It does no network I/O.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.validateFor("NewClient", "Domain"); err != nil {
		return nil, err
	}
	s := newSettings(opts)
	c := &Client{cfg: cfg, http: s.httpClient, now: s.now, domain: cfg.domain(), log: s.api.logger, renew: s.api.renewMargin}
	if s.api.tokenStore != nil && cfg.ClientSecret != "" {
		fleet, err := newTokenFleet(s.api.tokenStore, cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: deriving the token store's keys: %w", ErrInvalidConfig, err)
		}
		c.fleet = fleet
	}
	return c, nil
}

// ExchangeCode trades the authorization code from the hosted UI's redirect for
// tokens (grant_type=authorization_code). A code is single use, so a failed
// exchange is never retried; ErrInvalidGrant means the code is expired, used,
// or was issued for another redirect URI or PKCE verifier. The returned tokens
// are not verified: pass the ID token to Verifier.VerifyIDToken. An empty
// code or an empty WithCodeVerifier is refused with ErrInvalidRequest before
// any request.
func (c *Client) ExchangeCode(ctx context.Context, code string, opts ...ExchangeOption) (*Tokens, error) {
	if c.cfg.RedirectURI == "" {
		return nil, fmt.Errorf("%w: RedirectURI is empty (ExchangeCode needs it)", ErrInvalidConfig)
	}
	if code == "" {
		return nil, fmt.Errorf("%w: empty authorization code", ErrInvalidRequest)
	}
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {c.cfg.RedirectURI},
	}
	for _, o := range opts {
		if o != nil {
			o.applyExchange(form)
		}
	}
	if v, ok := form["code_verifier"]; ok && v[0] == "" {
		return nil, fmt.Errorf("%w: empty PKCE code verifier (was the login lost?)", ErrInvalidRequest)
	}
	return c.token(ctx, form, "")
}

// Refresh trades a refresh token for new ID and access tokens
// (grant_type=refresh_token). The result's RefreshToken is the new one when
// the pool rotates refresh tokens and refreshToken otherwise, so a caller can
// always store it. ErrInvalidGrant means the refresh token expired or was
// revoked: send the user back to LoginURL. With rotation on, a refresh token
// works once, so refresh each session's tokens one at a time.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: empty refresh token", ErrInvalidRequest)
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	return c.token(ctx, form, refreshToken)
}

// Revoke revokes a refresh token at /oauth2/revoke. The app client must have
// token revocation enabled.
//
// Cognito then refuses the refresh token, and the access tokens issued with
// it, at its own endpoints: a refresh, /oauth2/userInfo and the user pool API.
// The tokens are signed JWTs, though, so a check of signature and exp
// elsewhere, this package's Verifier and RequireAccessToken included, keeps
// accepting an access or ID token issued before the revocation until its exp
// (an hour by default). To refuse them sooner in this library's verifiers,
// opt in to a revocation list with WithRevocationList, which Sessions fills
// at sign-out.
func (c *Client) Revoke(ctx context.Context, refreshToken string) error {
	if refreshToken == "" {
		return fmt.Errorf("%w: empty refresh token", ErrInvalidRequest)
	}
	form := url.Values{"token": {refreshToken}}
	res, err := c.post(ctx, "revoke", "/oauth2/revoke", form)
	if err != nil {
		return err
	}
	_, err = c.readOK("revoke", res, form)
	return err
}

// UserInfo is what the user pool's /oauth2/userInfo endpoint says of the
// user an access token was issued to.
type UserInfo struct {
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	raw           json.RawMessage
}

// Claims decodes every attribute the endpoint returned into v, as
// encoding/json does (custom attributes appear as "custom:<name>").
func (u *UserInfo) Claims(v any) error {
	if err := json.Unmarshal(u.raw, v); err != nil {
		return fmt.Errorf("%w: decoding userInfo claims: %w", ErrMalformedToken, err)
	}
	return nil
}

// UserInfo fetches the attributes of the user an access token belongs to, at
// /oauth2/userInfo. A refused token yields an *OAuthError matching ErrInvalidToken.
func (c *Client) UserInfo(ctx context.Context, accessToken string) (*UserInfo, error) {
	if accessToken == "" {
		return nil, fmt.Errorf("%w: empty access token", ErrInvalidRequest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.domain+"/oauth2/userInfo", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: building userInfo request: %w", ErrInvalidConfig, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	res, err := c.do(req, "userInfo")
	if err != nil {
		return nil, err
	}
	secrets := url.Values{"access_token": {accessToken}}
	body, err := c.readOK("userInfo", res, secrets)
	if err != nil {
		return nil, err
	}
	var wire struct {
		Sub           string   `json:"sub"`
		Username      string   `json:"username"`
		Email         string   `json:"email"`
		EmailVerified flexBool `json:"email_verified"`
		Name          string   `json:"name"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("%w: userInfo answer is not the expected JSON object: %w", ErrEndpointUnavailable, jsonError(err))
	}
	if wire.Sub == "" {
		return nil, fmt.Errorf("%w: userInfo answer has no sub", ErrEndpointUnavailable)
	}
	return &UserInfo{
		Subject:       wire.Sub,
		Username:      wire.Username,
		Email:         wire.Email,
		EmailVerified: bool(wire.EmailVerified),
		Name:          wire.Name,
		raw:           body,
	}, nil
}

// flexBool accepts true/false and the strings "true"/"false", which Cognito's
// userInfo sends in some pools.
type flexBool bool

// UnmarshalJSON accepts a boolean or its string form.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return errors.New("email_verified is neither a boolean nor \"true\"/\"false\"")
	}
	return nil
}

// token posts form to /oauth2/token and decodes the tokens. keepRefresh is
// returned as RefreshToken when the answer carries none (a refresh without
// rotation).
func (c *Client) token(ctx context.Context, form url.Values, keepRefresh string) (*Tokens, error) {
	body, err := c.tokenAnswer(ctx, form)
	if err != nil {
		return nil, err
	}
	return parseTokenResponse(body, slices.Contains(c.cfg.scopes(), "openid"), keepRefresh, c.now())
}

// tokenAnswer posts form to /oauth2/token and returns the body of a 2xx
// answer; a failure is logged (WithLogger) and returned.
func (c *Client) tokenAnswer(ctx context.Context, form url.Values) ([]byte, error) {
	res, err := c.post(ctx, "token", "/oauth2/token", form)
	if err == nil {
		var body []byte
		if body, err = c.readOK("token", res, form); err == nil {
			return body, nil
		}
	}
	c.logTokenFailure(form, err)
	return nil, err
}

// tokenFailureLevel is the level a failed token request is logged at: a
// refresh token refused with invalid_grant expired, was revoked, or was
// spent a moment ago by another replica (rotation), which is ordinary and
// Info; anything else is a warning.
func tokenFailureLevel(form url.Values, err error) slog.Level {
	if form.Get("grant_type") == "refresh_token" && errors.Is(err, ErrInvalidGrant) {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// parseTokenResponse decodes a 2xx answer of the token endpoint. needID says
// whether it must carry an ID token (the openid scope was asked for);
// keepRefresh is returned as RefreshToken when it carries none (a refresh
// without rotation); now dates Expiry.
func parseTokenResponse(body []byte, needID bool, keepRefresh string, now time.Time) (*Tokens, error) {
	return parseTokens(body, needID, keepRefresh == "", keepRefresh, now)
}

// parseTokens is parseTokenResponse for any grant: needRefresh says whether
// the answer must carry a refresh token (client_credentials answers never do).
func parseTokens(body []byte, needID, needRefresh bool, keepRefresh string, now time.Time) (*Tokens, error) {
	var wire struct {
		IDToken      string `json:"id_token"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("%w: token answer is not the expected JSON object: %w", ErrEndpointUnavailable, jsonError(err))
	}
	var missing []string
	if wire.AccessToken == "" {
		missing = append(missing, "access_token")
	}
	if wire.IDToken == "" && needID {
		missing = append(missing, "id_token")
	}
	if wire.RefreshToken == "" && needRefresh {
		missing = append(missing, "refresh_token")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: token answer lacks %s", ErrEndpointUnavailable, strings.Join(missing, ", "))
	}
	if wire.TokenType != "" && !strings.EqualFold(wire.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: token_type %q is not Bearer", ErrEndpointUnavailable, clean(wire.TokenType, 32))
	}
	if wire.ExpiresIn <= 0 || wire.ExpiresIn > maxExpiresIn {
		return nil, fmt.Errorf("%w: token answer has no expires_in between 1 s and 10 years", ErrEndpointUnavailable)
	}
	t := &Tokens{
		IDToken:      wire.IDToken,
		AccessToken:  wire.AccessToken,
		RefreshToken: wire.RefreshToken,
		TokenType:    "Bearer",
		Expiry:       now.Add(time.Duration(wire.ExpiresIn) * time.Second),
	}
	if t.RefreshToken == "" {
		t.RefreshToken = keepRefresh
	}
	return t, nil
}

// post sends form to path with the client's credentials: HTTP Basic with
// form-escaped values when there is a secret (RFC 6749 section 2.3.1), and
// client_id in the body always, as Cognito accepts and emulators require.
func (c *Client) post(ctx context.Context, endpoint, path string, form url.Values) (*http.Response, error) {
	body := url.Values{"client_id": {c.cfg.ClientID}}
	for k, v := range form {
		body[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.domain+path, strings.NewReader(body.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: building %s request: %w", ErrInvalidConfig, endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	}
	return c.do(req, endpoint)
}

// do sends req; a transport failure says which endpoint failed and why,
// without the request's URL query or body.
func (c *Client) do(req *http.Request, endpoint string) (*http.Response, error) {
	res, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %s %s%s: %w", ErrEndpointUnavailable, req.Method, redactURL(c.domain), req.URL.Path, err)
	}
	return res, nil
}

// readOK reads res's body through the size limit and returns it for a 2xx
// status; any other status becomes an *OAuthError. sent holds the request's
// values, which are scrubbed from anything the endpoint echoes back.
func (c *Client) readOK(endpoint string, res *http.Response, sent url.Values) ([]byte, error) {
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s answer: %w", ErrEndpointUnavailable, endpoint, err)
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("%w: %s answer is larger than %d bytes", ErrEndpointUnavailable, endpoint, maxBodyBytes)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, c.oauthError(endpoint, res, body, sent)
	}
	return body, nil
}

// oauthError decodes an RFC 6749 error body. Anything else (an HTML page from
// a proxy) still yields the status, with no code.
func (c *Client) oauthError(endpoint string, res *http.Response, body []byte, sent url.Values) *OAuthError {
	e := &OAuthError{Endpoint: endpoint, StatusCode: res.StatusCode}
	var wire struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "" || strings.Contains(mt, "json") {
		_ = json.Unmarshal(body, &wire) // a body that is not an OAuth error leaves Code empty
	}
	if wire.Error == "" && endpoint == "userInfo" {
		wire.Error = bearerError(res.Header.Get("WWW-Authenticate"))
	}
	for _, secret := range c.secrets(sent) {
		wire.Error = strings.ReplaceAll(wire.Error, secret, "[redacted]")
		wire.Description = strings.ReplaceAll(wire.Description, secret, "[redacted]")
	}
	e.Code = clean(wire.Error, 64)
	e.Description = clean(wire.Description, 256)
	return e
}

// secrets lists the credentials a request carried, longest first so that a
// secret containing another is scrubbed whole.
func (c *Client) secrets(sent url.Values) []string {
	var out []string
	for _, k := range []string{"code", "refresh_token", "code_verifier", "token", "access_token"} {
		if v := sent.Get(k); v != "" {
			out = append(out, v)
		}
	}
	if c.cfg.ClientSecret != "" {
		out = append(out, c.cfg.ClientSecret)
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// bearerError extracts error="..." from an RFC 6750 WWW-Authenticate header.
func bearerError(h string) string {
	_, rest, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}
