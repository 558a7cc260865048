package cognito

import (
	"context"
	"errors"
	"fmt"
	"github.com/cognitokit/cognito/internal/safetext"
	"net/http"
	"slices"
	"strings"
)

// MiddlewareOption configures RequireAccessToken.
type MiddlewareOption interface{ applyMiddleware(*middlewareSettings) }

type middlewareSettings struct {
	realm   string
	onError func(*http.Request, error)
}

type middlewareOptionFunc func(*middlewareSettings)

func (f middlewareOptionFunc) applyMiddleware(s *middlewareSettings) { f(s) }

// WithRealm adds realm="..." to the WWW-Authenticate challenges that
// RequireAccessToken and the Require* helpers behind it send (RFC 6750
// section 3). Without it the challenges carry no realm.
func WithRealm(realm string) MiddlewareOption {
	return middlewareOptionFunc(func(s *middlewareSettings) { s.realm = realm })
}

// WithErrorHook makes RequireAccessToken call fn with each request it refuses
// and the reason, which the response never reveals: log it or count it there.
// fn runs before the response is written and must not write to it.
func WithErrorHook(fn func(r *http.Request, err error)) MiddlewareOption {
	return middlewareOptionFunc(func(s *middlewareSettings) { s.onError = fn })
}

// errMissingToken and errMalformedRequest reach the error hook only.
var (
	errMissingToken     = errors.New("cognito: request has no Authorization: Bearer header")
	errMalformedRequest = errors.New("cognito: request has more than one Authorization header")
)

type accessTokenKey struct{}

// authContext is what RequireAccessToken leaves in the request's context.
type authContext struct {
	token *AccessToken
	realm string
}

// RequireAccessToken returns middleware that lets a request through only with
// an access token of the pool's app client in its Authorization: Bearer
// header (RFC 6750 section 2.1), verified by v with the request's context.
// The handlers behind it read the token with AccessTokenFromContext.
//
// A refused request gets a body that says nothing about why, no-store caching
// and a WWW-Authenticate challenge (RFC 6750 section 3.1):
//   - no Bearer credentials: 401 with `Bearer` and no error code;
//   - more than one Authorization header: 400 with error="invalid_request";
//   - a token that fails verification (malformed, forged, expired, another
//     client's, an ID token): 401 with error="invalid_token";
//   - the pool's keys could not be fetched (ErrJWKSUnavailable), or the
//     revocation list's store failed (ErrRevocationListUnavailable): 503 with
//     no challenge, since the client's token may be fine and is worth retrying;
//   - a TenantVerifier's resolver could not say which pool the token is of
//     (ErrTenantUnavailable): 503 with no challenge;
//   - a token on the revocation list (ErrTokenRevoked): 401 with
//     error="invalid_token";
//   - v is nil: 500 to every request that carries a token.
//
// v is a *Verifier, a *MultiPoolVerifier, a *TenantVerifier, or a verifier
// of the caller's; a nil one of these types also answers 500. A rule of
// WithCheck that could not decide (its error matches ErrEndpointUnavailable)
// makes it answer 503 with no challenge, as for ErrJWKSUnavailable.
func RequireAccessToken(v AccessTokenVerifier, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	var s middlewareSettings
	for _, o := range opts {
		if o != nil {
			o.applyMiddleware(&s)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := verifyBearer(r, v)
			if err != nil {
				if s.onError != nil {
					s.onError(r, err)
				}
				switch {
				case errors.Is(err, ErrEndpointUnavailable): // a rule of WithCheck could not decide
					refuse(w, http.StatusServiceUnavailable, "", "", "")
				case errors.Is(err, errMissingToken):
					refuse(w, http.StatusUnauthorized, s.realm, "", "")
				case errors.Is(err, errMalformedRequest):
					refuse(w, http.StatusBadRequest, s.realm, "invalid_request", "")
				case errors.Is(err, ErrJWKSUnavailable), errors.Is(err, ErrRevocationListUnavailable), errors.Is(err, ErrTenantUnavailable):
					refuse(w, http.StatusServiceUnavailable, "", "", "")
				case errors.Is(err, ErrInvalidConfig):
					refuse(w, http.StatusInternalServerError, "", "", "")
				default:
					refuse(w, http.StatusUnauthorized, s.realm, "invalid_token", "")
				}
				return
			}
			ctx := context.WithValue(r.Context(), accessTokenKey{}, &authContext{token: tok, realm: s.realm})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// verifyBearer finds and verifies the request's bearer token.
func verifyBearer(r *http.Request, v AccessTokenVerifier) (*AccessToken, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, errMissingToken
	}
	if len(values) > 1 {
		return nil, errMalformedRequest
	}
	scheme, raw, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, errMissingToken // another scheme: the client does not know it needs a token
	}
	if v == nil {
		return nil, fmt.Errorf("%w: RequireAccessToken was given a nil Verifier", ErrInvalidConfig)
	}
	return v.VerifyAccessToken(r.Context(), strings.TrimSpace(raw))
}

// AccessTokenFromContext returns the access token that RequireAccessToken
// verified for this request, and whether there is one.
func AccessTokenFromContext(ctx context.Context) (*AccessToken, bool) {
	a, ok := ctx.Value(accessTokenKey{}).(*authContext)
	if !ok || a.token == nil {
		return nil, false
	}
	return a.token, true
}

// RequireGroup returns middleware that lets a request through only when the
// access token that RequireAccessToken verified lists at least one of groups
// in cognito:groups. Otherwise it answers 403 with WWW-Authenticate: Bearer
// error="insufficient_scope"; without a verified token (RequireAccessToken is
// not in front of it) it answers 401. With no groups it refuses every request.
func RequireGroup(groups ...string) func(http.Handler) http.Handler {
	groups = slices.Clone(groups)
	return guard(func(t *AccessToken) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(t.Groups, g) })
	}, "")
}

// RequireAnyScope returns middleware that lets a request through only when the
// access token that RequireAccessToken verified has at least one of scopes.
// Otherwise it answers 403 with WWW-Authenticate: Bearer
// error="insufficient_scope", scope="<scopes>"; without a verified token it
// answers 401. With no scopes it refuses every request.
func RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	return guard(func(t *AccessToken) bool {
		return slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(t.Scopes, s) })
	}, strings.Join(scopes, " "))
}

// RequireAllScopes returns middleware that lets a request through only when the
// access token that RequireAccessToken verified has every one of scopes.
// Otherwise it answers 403 with WWW-Authenticate: Bearer
// error="insufficient_scope", scope="<scopes>"; without a verified token it
// answers 401. With no scopes it refuses every request, as a list left empty
// by mistake must not open the route.
func RequireAllScopes(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	return guard(func(t *AccessToken) bool {
		return len(scopes) > 0 && !slices.ContainsFunc(scopes, func(s string) bool { return !slices.Contains(t.Scopes, s) })
	}, strings.Join(scopes, " "))
}

func guard(allowed func(*AccessToken) bool, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, ok := r.Context().Value(accessTokenKey{}).(*authContext)
			switch {
			case !ok || a.token == nil:
				refuse(w, http.StatusUnauthorized, "", "", "")
			case !allowed(a.token):
				refuse(w, http.StatusForbidden, a.realm, "insufficient_scope", scope)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// refuse writes an error answer whose body is only the status text. A 500 or
// 503 carries no challenge; the others carry a Bearer one.
func refuse(w http.ResponseWriter, status int, realm, code, scope string) {
	h := w.Header()
	if status < 500 {
		var params []string
		if realm != "" {
			params = append(params, "realm="+quote(realm))
		}
		if code != "" {
			params = append(params, "error="+quote(code))
		}
		if scope != "" {
			params = append(params, "scope="+quote(scope))
		}
		challenge := "Bearer"
		if len(params) > 0 {
			challenge += " " + strings.Join(params, ", ")
		}
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

// quote makes s an HTTP quoted-string (RFC 9110 section 5.6.4), dropping
// control characters (C0, DEL and C1).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case safetext.IsControl(r):
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
