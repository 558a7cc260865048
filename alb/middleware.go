package alb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/cognitokit/cognito"
)

// The headers a load balancer's authenticate action adds to the requests it
// forwards.
const (
	// DataHeader carries the user's claims, signed by the load balancer.
	DataHeader = "X-Amzn-Oidc-Data"
	// AccessTokenHeader carries the user's access token from the user pool.
	AccessTokenHeader = "X-Amzn-Oidc-Accesstoken"
)

// errMissingData and errRepeatedData reach no caller: they pick the status.
var (
	errMissingData  = errors.New("cognito: alb: request lacks the header")
	errRepeatedData = errors.New("cognito: alb: request has more than one of the header")
)

type tokenKey struct{}

// RequireUser returns middleware that lets a request through only with an
// x-amzn-oidc-data header that v verifies, with the request's context. The
// handlers behind it read the user with TokenFromContext.
//
// A refused request gets a body that says nothing about why, and no-store
// caching. The statuses are RequireAccessToken's in the cognito package:
//   - no header, or one that fails verification (malformed, forged, expired,
//     another load balancer's or another app client's): 401;
//   - more than one header: 400;
//   - the key could not be fetched (ErrJWKSUnavailable): 503, since the
//     header may be fine and the request is worth retrying;
//   - v is nil: 500.
//
// A 401 carries no WWW-Authenticate challenge: the credential is the load
// balancer's session cookie, which no challenge could ask the client for.
// Behind a load balancer that authenticates, only requests that went around
// it reach this answer.
func RequireUser(v *Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := verifyRequest(r, v)
			if err != nil {
				refuse(w, status(err))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
		})
	}
}

func verifyRequest(r *http.Request, v *Verifier) (*Token, error) {
	values := r.Header.Values(DataHeader)
	switch {
	case len(values) == 0:
		return nil, errMissingData
	case len(values) > 1:
		return nil, errRepeatedData
	case v == nil:
		return nil, fmt.Errorf("%w: alb: RequireUser was given a nil Verifier", cognito.ErrInvalidConfig)
	}
	return v.Verify(r.Context(), values[0])
}

func status(err error) int {
	switch {
	case errors.Is(err, errRepeatedData):
		return http.StatusBadRequest
	case errors.Is(err, cognito.ErrJWKSUnavailable), errors.Is(err, cognito.ErrEndpointUnavailable),
		errors.Is(err, cognito.ErrRevocationListUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, cognito.ErrInvalidConfig):
		return http.StatusInternalServerError
	}
	return http.StatusUnauthorized
}

func refuse(w http.ResponseWriter, code int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(code), code)
}

// TokenFromContext returns the token that RequireUser verified for this
// request, and whether there is one.
func TokenFromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(*Token)
	return t, ok && t != nil
}

// RequireAccessToken returns middleware that verifies the request's
// x-amzn-oidc-accesstoken header, the user's access token, with v (a
// cognito.Verifier of the pool and of the app client the load balancer signs
// users in with, or any cognito.AccessTokenVerifier), and leaves the token in
// the request's context with cognito.ContextWithAccessToken, so that
// cognito.AccessTokenFromContext, cognito.RequireGroup and the scope guards
// work behind a load balancer. Put it behind RequireUser: it then also
// refuses an access token whose sub is not the verified user's.
//
// The statuses are RequireUser's: 401 for a missing or invalid token (or
// another user's, or one on v's revocation list), 400 for two headers, 503
// when the pool's keys, its endpoint or v's revocation list are unavailable
// (ErrJWKSUnavailable, ErrEndpointUnavailable, ErrRevocationListUnavailable),
// 500 for a nil v. The Authorization header is neither read nor changed.
func RequireAccessToken(v cognito.AccessTokenVerifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at, err := verifyAccessToken(r, v)
			if err != nil {
				refuse(w, status(err))
				return
			}
			if u, ok := TokenFromContext(r.Context()); ok && at.Subject != u.Subject {
				refuse(w, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(cognito.ContextWithAccessToken(r.Context(), at)))
		})
	}
}

func verifyAccessToken(r *http.Request, v cognito.AccessTokenVerifier) (*cognito.AccessToken, error) {
	values := r.Header.Values(AccessTokenHeader)
	switch {
	case len(values) == 0 || values[0] == "":
		return nil, errMissingData
	case len(values) > 1:
		return nil, errRepeatedData
	case isNil(v):
		return nil, fmt.Errorf("%w: alb: RequireAccessToken was given a nil verifier", cognito.ErrInvalidConfig)
	}
	at, err := v.VerifyAccessToken(r.Context(), values[0])
	if err == nil && at == nil {
		err = fmt.Errorf("%w: alb: the verifier returned no token and no error", cognito.ErrInvalidConfig)
	}
	return at, err
}

// isNil reports whether v is nil or a typed nil pointer, which would panic
// when called.
func isNil(v cognito.AccessTokenVerifier) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
