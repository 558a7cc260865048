package cognito

import "context"

// AccessTokenVerifier is what RequireAccessToken needs: *Verifier,
// *MultiPoolVerifier and *TenantVerifier are ones, and so is a type of the
// caller's that picks among them by its own rules. Errors should wrap this
// package's sentinels: RequireAccessToken answers ErrJWKSUnavailable,
// ErrEndpointUnavailable, ErrRevocationListUnavailable and
// ErrTenantUnavailable with 503, ErrInvalidConfig with 500, and any other
// error with 401.
type AccessTokenVerifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (*AccessToken, error)
}

var (
	_ AccessTokenVerifier = (*Verifier)(nil)
	_ AccessTokenVerifier = (*MultiPoolVerifier)(nil)
)

// ContextWithAccessToken returns a copy of ctx that carries t as the request's
// verified access token, as RequireAccessToken leaves it: for code that
// verifies a token its own way (its own header, its own dispatch among
// verifiers) and still wants AccessTokenFromContext, RequireGroup and the
// scope guards behind it. t must come from a successful verification; a nil
// t leaves the guards refusing with 401.
func ContextWithAccessToken(ctx context.Context, t *AccessToken) context.Context {
	return context.WithValue(ctx, accessTokenKey{}, &authContext{token: t})
}
