package cognito

// The user pool's endpoint URLs, derived from the Config as the package itself
// derives them, so that code calling an endpoint this package does not cover
// (or a proxy, a CSP header, a health check) never rebuilds one by hand. The
// issuer and the JWKS get methods of their own because Config's fields Issuer
// and JWKSURL are only overrides and are often empty.

// TokenURL is the token endpoint, <Domain>/oauth2/token, where codes,
// refresh tokens and client credentials are exchanged for tokens. It is empty
// when Domain is.
func (c Config) TokenURL() string { return c.endpoint("/oauth2/token") }

// AuthorizeURL is the hosted UI's authorization endpoint,
// <Domain>/oauth2/authorize, without parameters: LoginURL adds them.
func (c Config) AuthorizeURL() string { return c.endpoint("/oauth2/authorize") }

// RevokeURL is the revocation endpoint, <Domain>/oauth2/revoke.
func (c Config) RevokeURL() string { return c.endpoint("/oauth2/revoke") }

// UserInfoURL is the userInfo endpoint, <Domain>/oauth2/userInfo.
func (c Config) UserInfoURL() string { return c.endpoint("/oauth2/userInfo") }

// IssuerURL is the iss the pool's tokens carry: Issuer when set, otherwise
// https://cognito-idp.<region>.amazonaws.com/<UserPoolID>. It is meaningful
// only for a Config that validates.
func (c Config) IssuerURL() string { return c.issuer() }

// KeySetURL is where the Verifier fetches the pool's JWKS: JWKSURL when set,
// otherwise <IssuerURL>/.well-known/jwks.json.
func (c Config) KeySetURL() string { return c.jwksURL() }

func (c Config) endpoint(path string) string {
	if c.Domain == "" {
		return ""
	}
	return c.domain() + path
}
