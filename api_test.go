package cognito_test

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"golang.org/x/oauth2"
)

// The public API of ../shared/API.md, name by name and shape by shape: this
// file stops compiling if any of them is renamed or reshaped.
var (
	_ func(cognito.Config) error                                                                         = cognito.Config.Validate
	_ func(cognito.Config, string, ...cognito.AuthOption) string                                         = cognito.Config.LoginURL
	_ func(cognito.Config) string                                                                        = cognito.Config.LogoutURL
	_ func() string                                                                                      = cognito.GenerateVerifier
	_ func(string) cognito.AuthOption                                                                    = cognito.WithPKCE
	_ func(string) cognito.AuthOption                                                                    = cognito.WithNonce
	_ func(string) cognito.AuthOption                                                                    = cognito.WithIdentityProvider
	_ func(cognito.Config, ...cognito.Option) (*cognito.Client, error)                                   = cognito.NewClient
	_ func(*cognito.Client, context.Context, string, ...cognito.ExchangeOption) (*cognito.Tokens, error) = (*cognito.Client).ExchangeCode
	_ func(string) cognito.ExchangeOption                                                                = cognito.WithCodeVerifier
	_ func(*cognito.Client, context.Context, string) (*cognito.Tokens, error)                            = (*cognito.Client).Refresh
	_ func(*cognito.Client, context.Context, string) error                                               = (*cognito.Client).Revoke
	_ func(*cognito.Client, context.Context, string) (*cognito.UserInfo, error)                          = (*cognito.Client).UserInfo
	_ func(cognito.Config, ...cognito.Option) (*cognito.Verifier, error)                                 = cognito.NewVerifier
	_ func(*cognito.Verifier, context.Context, string) (*cognito.IDToken, error)                         = (*cognito.Verifier).VerifyIDToken
	_ func(*cognito.Verifier, context.Context, string) (*cognito.AccessToken, error)                     = (*cognito.Verifier).VerifyAccessToken
	_ func(*cognito.IDToken, any) error                                                                  = (*cognito.IDToken).Claims
	_ func(*cognito.AccessToken, any) error                                                              = (*cognito.AccessToken).Claims
	_ func(*http.Client) cognito.Option                                                                  = cognito.WithHTTPClient

	_ = cognito.Config{
		Region: "", UserPoolID: "", ClientID: "", ClientSecret: "", Domain: "",
		RedirectURI: "", LogoutURI: "", Scopes: []string{}, Issuer: "", JWKSURL: "",
	}
	_ = cognito.Tokens{IDToken: "", AccessToken: "", RefreshToken: "", TokenType: "", Expiry: time.Time{}}
	_ = cognito.IDToken{
		Subject: "", Email: "", Username: "", Issuer: "", Audience: "", Nonce: "",
		EmailVerified: false, Groups: []string{}, IssuedAt: time.Time{}, Expiry: time.Time{}, AuthTime: time.Time{},
	}
	_ = cognito.AccessToken{
		Subject: "", ClientID: "", Username: "", Issuer: "", Scopes: []string{}, Groups: []string{},
		IssuedAt: time.Time{}, Expiry: time.Time{}, AuthTime: time.Time{},
	}
	_       = cognito.OAuthError{StatusCode: 0, Code: "", Description: ""}
	_ error = (*cognito.OAuthError)(nil)

	_ = []error{
		cognito.ErrInvalidConfig,
		cognito.ErrMalformedToken, cognito.ErrInvalidSignature, cognito.ErrUnsupportedAlgorithm, cognito.ErrUnknownKey,
		cognito.ErrTokenExpired, cognito.ErrTokenNotYetValid, cognito.ErrInvalidIssuer, cognito.ErrInvalidAudience, cognito.ErrInvalidTokenUse,
		cognito.ErrJWKSUnavailable,
		cognito.ErrInvalidGrant, cognito.ErrInvalidClient, cognito.ErrInvalidRequest, cognito.ErrUnauthorizedClient, cognito.ErrUnsupportedGrantType,
		cognito.ErrEndpointUnavailable,
	}
)

// APIs and services.
var (
	_ func(...string) cognito.Option                                                                 = cognito.WithClientIDs
	_ func(*cognito.Verifier, context.Context) error                                                 = (*cognito.Verifier).Prefetch
	_ func(*cognito.Client, context.Context, ...string) (*cognito.Tokens, error)                     = (*cognito.Client).ClientCredentials
	_ func(*cognito.Client, ...string) oauth2.TokenSource                                            = (*cognito.Client).TokenSource
	_ func(*cognito.Client, ...string) *http.Client                                                  = (*cognito.Client).HTTPClient
	_ func(cognito.SessionStore) cognito.Option                                                      = cognito.WithTokenStore
	_ func(cognito.Config) string                                                                    = cognito.Config.TokenURL
	_ func([]byte) cognito.Option                                                                    = cognito.WithJWKS
	_ func(func(context.Context, cognito.VerifiedToken) error) cognito.Option                        = cognito.WithCheck
	_ func(*slog.Logger) cognito.Option                                                              = cognito.WithLogger
	_ func(time.Duration) cognito.Option                                                             = cognito.WithRenewMargin
	_ func(...*cognito.Verifier) (*cognito.MultiPoolVerifier, error)                                 = cognito.NewMultiPoolVerifier
	_ func(context.Context, *cognito.AccessToken) context.Context                                    = cognito.ContextWithAccessToken
	_ func(cognito.AccessTokenVerifier, ...cognito.MiddlewareOption) func(http.Handler) http.Handler = cognito.RequireAccessToken
	_ func(*cognitotest.Server, cognitotest.AppClient) (cognitotest.AppClient, error)                = (*cognitotest.Server).AddClient
	_ func(*cognitotest.Server, string, ...cognitotest.TokenOption) string                           = (*cognitotest.Server).MintClientCredentialsToken

	_ cognito.AccessTokenVerifier = (*cognito.Verifier)(nil)
	_ cognito.AccessTokenVerifier = (*cognito.MultiPoolVerifier)(nil)
	_ error                       = cognito.ErrCheckFailed
	_                             = []func(cognito.Config) string{
		cognito.Config.AuthorizeURL, cognito.Config.RevokeURL, cognito.Config.UserInfoURL,
		cognito.Config.IssuerURL, cognito.Config.KeySetURL,
	}
)

// The names of API.md's "Sessions" section.
var (
	_ cognito.SessionStore                                                                                = (*cognito.MemoryStore)(nil)
	_ func() *cognito.MemoryStore                                                                         = cognito.NewMemoryStore
	_ func(*cognito.LoginFlow, cognito.SessionStore, ...cognito.SessionOption) (*cognito.Sessions, error) = cognito.NewSessions
	_ func(*cognito.Sessions, http.ResponseWriter, *http.Request)                                         = (*cognito.Sessions).Login
	_ func(*cognito.Sessions, http.ResponseWriter, *http.Request)                                         = (*cognito.Sessions).Callback
	_ func(*cognito.Sessions, http.ResponseWriter, *http.Request)                                         = (*cognito.Sessions).Logout
	_ func(*cognito.Sessions, http.Handler) http.Handler                                                  = (*cognito.Sessions).Require
	_ func(context.Context) (*cognito.Session, bool)                                                      = cognito.SessionFromContext
	_ func(cognito.SessionStore) cognito.Option                                                           = cognito.WithRevocationList
	_ error                                                                                               = cognito.ErrTokenRevoked

	_ = cognito.Session{IDToken: (*cognito.IDToken)(nil), AccessToken: "", Expiry: time.Time{}}
	_ = cognito.LoginFlow{InsecureEmulator: false}
)

// The names of API.md's "Public pages" and "Step-up authentication" sections.
var (
	_ func(*cognito.Sessions, http.Handler) http.Handler                      = (*cognito.Sessions).Optional
	_ func(...string) cognito.AuthOption                                      = cognito.WithACRValues
	_ func(time.Duration) cognito.AuthOption                                  = cognito.WithMaxAge
	_ func(cognito.StepUp) func(http.Handler) http.Handler                    = cognito.RequireStepUp
	_ func(*cognito.Sessions, cognito.StepUp) func(http.Handler) http.Handler = (*cognito.Sessions).RequireStepUp

	_ = cognito.StepUp{ACR: []string(nil), MaxAge: time.Duration(0)}
	_ = cognito.IDToken{ACR: "", AMR: []string(nil)}
	_ = cognito.AccessToken{ACR: "", AMR: []string(nil)}
	_ = cognitotest.User{ACR: "", AMR: []string(nil)}
)

// sessionStoreMethods is SessionStore spelled out: the interface must keep
// exactly scs's Store method set.
type sessionStoreMethods interface {
	Find(id string) (data []byte, found bool, err error)
	Commit(id string, data []byte, expiry time.Time) error
	Delete(id string) error
}

var (
	_ cognito.SessionStore = sessionStoreMethods(nil)
	_ sessionStoreMethods  = cognito.SessionStore(nil)
)

// The names of API.md's "Services at fleet scale": pools resolved at run time.
var (
	_ func(context.Context, string) (cognito.Config, error)                                = cognito.TenantResolver(nil)
	_ func(cognito.TenantResolver, ...cognito.Option) (*cognito.TenantVerifier, error)     = cognito.NewTenantVerifier
	_ func(int) cognito.Option                                                             = cognito.WithMaxTenants
	_ func(*cognito.TenantVerifier, context.Context, string) (*cognito.IDToken, error)     = (*cognito.TenantVerifier).VerifyIDToken
	_ func(*cognito.TenantVerifier, context.Context, string) (*cognito.AccessToken, error) = (*cognito.TenantVerifier).VerifyAccessToken

	_ cognito.AccessTokenVerifier = (*cognito.TenantVerifier)(nil)
	_ error                       = cognito.ErrTenantUnavailable
)
