package cognito

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cognitokit/cognito/internal/safetext"
	"net/http"
	"strings"
)

// Every error this package returns wraps one of these sentinels, the one that
// says why, so callers branch with errors.Is. Two error types match a second,
// broader sentinel as well: an *OAuthError with a 429 or 5xx status also
// matches ErrEndpointUnavailable, and an *AuthorizeError always matches
// ErrLoginFailed besides the sentinel of its code.
var (
	// ErrInvalidConfig: a Config field is missing or malformed.
	ErrInvalidConfig = errors.New("cognito: invalid config")

	// ErrMalformedToken: the token is not a compact JWS with JSON header and
	// claims of the expected types, or a required claim is missing.
	ErrMalformedToken = errors.New("cognito: malformed token")
	// ErrInvalidSignature: the signature does not verify with the key named by kid.
	ErrInvalidSignature = errors.New("cognito: invalid token signature")
	// ErrUnsupportedAlgorithm: the header's alg is not RS256, or differs from
	// the alg of the key it names.
	ErrUnsupportedAlgorithm = errors.New("cognito: unsupported signing algorithm")
	// ErrUnknownKey: the token has no kid, or its kid is not in the user pool's JWKS.
	ErrUnknownKey = errors.New("cognito: unknown signing key")
	// ErrTokenExpired: the exp claim is not after the verifier's clock (minus leeway).
	ErrTokenExpired = errors.New("cognito: token expired")
	// ErrTokenNotYetValid: nbf is in the future, or iat is further in the future
	// than the leeway and clock-skew allowance permit.
	ErrTokenNotYetValid = errors.New("cognito: token not yet valid")
	// ErrInvalidIssuer: iss is not the user pool's issuer.
	ErrInvalidIssuer = errors.New("cognito: invalid issuer")
	// ErrInvalidAudience: an ID token's aud, or an access token's client_id, is
	// not the configured ClientID.
	ErrInvalidAudience = errors.New("cognito: invalid audience")
	// ErrInvalidTokenUse: token_use is not "id" (VerifyIDToken) or "access"
	// (VerifyAccessToken).
	ErrInvalidTokenUse = errors.New("cognito: invalid token_use")
	// ErrJWKSUnavailable: the user pool's keys could not be fetched and none
	// are cached, or the refetch for a kid the cached keys lack failed (the
	// error then matches ErrUnknownKey too): the token may be fine.
	ErrJWKSUnavailable = errors.New("cognito: JWKS unavailable")

	// ErrInvalidGrant: the code or refresh token is invalid, expired, revoked or
	// already used. For a refresh this means the user must sign in again.
	ErrInvalidGrant = errors.New("cognito: invalid_grant")
	// ErrInvalidClient: the client ID or secret was refused.
	ErrInvalidClient = errors.New("cognito: invalid_client")
	// ErrInvalidRequest: the endpoint refused the request as malformed.
	ErrInvalidRequest = errors.New("cognito: invalid_request")
	// ErrUnauthorizedClient: the app client may not use this grant or flow.
	ErrUnauthorizedClient = errors.New("cognito: unauthorized_client")
	// ErrUnsupportedGrantType: the endpoint does not support the grant type.
	ErrUnsupportedGrantType = errors.New("cognito: unsupported_grant_type")
	// ErrInvalidToken: the userInfo endpoint refused the access token.
	ErrInvalidToken = errors.New("cognito: invalid_token")
	// ErrEndpointUnavailable: a transport failure, timeout, 429 or 5xx; worth
	// retrying later, and no reason to send the user back to sign in.
	ErrEndpointUnavailable = errors.New("cognito: endpoint unavailable")
)

var oauthErrorCodes = map[string]error{
	"invalid_grant":          ErrInvalidGrant,
	"invalid_client":         ErrInvalidClient,
	"invalid_request":        ErrInvalidRequest,
	"unauthorized_client":    ErrUnauthorizedClient,
	"unsupported_grant_type": ErrUnsupportedGrantType,
	"invalid_token":          ErrInvalidToken,
}

// OAuthError is an error answer from one of the user pool's OAuth 2.0
// endpoints (RFC 6749 section 5.2). errors.Is matches it against the sentinel of
// its Code (ErrInvalidGrant for "invalid_grant", ...) and, for a 429 or 5xx
// status, against ErrEndpointUnavailable.
type OAuthError struct {
	Endpoint    string // "token", "revoke" or "userInfo"
	StatusCode  int    // the HTTP status
	Code        string // the "error" member; empty when the body was not an OAuth error
	Description string // the "error_description" member, with any credential the request carried removed
}

// Error says which endpoint refused, with what status and code. It never
// contains the code, tokens or secret that were sent.
func (e *OAuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cognito: %s endpoint answered %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's code, or
// ErrEndpointUnavailable for a status worth retrying. An answer whose code has
// no sentinel (none, or one such as "invalid_scope") matches ErrInvalidRequest
// for a 4xx status and ErrEndpointUnavailable for any other, so that every
// OAuthError matches a sentinel.
func (e *OAuthError) Is(target error) bool {
	if target == ErrEndpointUnavailable && retryableStatus(e.StatusCode) {
		return true
	}
	if s, ok := oauthErrorCodes[e.Code]; ok {
		return s == target
	}
	clientError := e.StatusCode >= 400 && e.StatusCode < 500
	switch target {
	case ErrInvalidRequest:
		return clientError && e.StatusCode != http.StatusTooManyRequests
	case ErrEndpointUnavailable:
		return !clientError
	}
	return false
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// Sentinels of the login flow (LoginFlow.Finish).
var (
	// ErrLoginFailed: the hosted UI sent the user back with an error instead
	// of a code, or with neither. An *AuthorizeError says which error.
	ErrLoginFailed = errors.New("cognito: login failed")
	// ErrAccessDenied: the user or the user pool refused the sign-in
	// (error=access_denied on the callback); an *AuthorizeError matches it as
	// well as ErrLoginFailed.
	ErrAccessDenied = errors.New("cognito: access_denied")
	// ErrInvalidState: the callback's state is missing, or matches no login
	// started in this browser: the login cookie expired, was already used (a
	// replayed callback), or never existed (a forged callback).
	ErrInvalidState = errors.New("cognito: invalid state")
	// ErrInvalidNonce: the ID token's nonce is not the one this login sent.
	ErrInvalidNonce = errors.New("cognito: invalid nonce")
)

// AuthorizeError is the error the hosted UI redirected back with
// (?error=...&error_description=..., RFC 6749 section 4.1.2.1). errors.Is
// matches it against ErrLoginFailed always, ErrAccessDenied for
// "access_denied", and ErrEndpointUnavailable for "server_error" and
// "temporarily_unavailable". Description comes from the browser's URL: show it
// only escaped, if at all.
type AuthorizeError struct {
	Code        string // the "error" parameter, such as "access_denied" or "invalid_scope"
	Description string // the "error_description" parameter, stripped of control characters and cut to 256 bytes
}

// Error says which error the hosted UI reported.
func (e *AuthorizeError) Error() string {
	msg := "cognito: login failed: hosted UI answered " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is reports whether target is ErrLoginFailed, or the sentinel of e's code.
func (e *AuthorizeError) Is(target error) bool {
	switch target {
	case ErrLoginFailed:
		return true
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrEndpointUnavailable:
		return e.Code == "server_error" || e.Code == "temporarily_unavailable"
	}
	return false
}

// Sentinels of APIs and services.
var (
	// ErrCheckFailed: a rule added with WithCheck refused a token that every
	// built-in check accepted. The error matches the rule's own error too.
	ErrCheckFailed = errors.New("cognito: token refused by a check")
)

// Sentinels of TenantVerifier.
var (
	// ErrTenantUnavailable: a TenantVerifier could not learn which pool a
	// token's iss names, as its TenantResolver failed with an error other
	// than ErrInvalidIssuer, panicked, or gave no answer within the request's
	// context; the token may be fine and is worth retrying
	// (RequireAccessToken answers 503).
	ErrTenantUnavailable = errors.New("cognito: tenant unavailable")
)

// Sentinels of sessions and the revocation list.
var (
	// ErrTokenRevoked: the token's sign-in (its origin_jti) was signed out
	// through Sessions.Logout and is on the Verifier's revocation list
	// (WithRevocationList).
	ErrTokenRevoked = errors.New("cognito: token revoked")
	// ErrRevocationListUnavailable: the revocation list's store failed, so
	// the Verifier cannot tell whether the token was revoked and refuses it;
	// the token may be fine and is worth retrying (RequireAccessToken answers
	// 503).
	ErrRevocationListUnavailable = errors.New("cognito: revocation list unavailable")
	// ErrSessionStoreUnavailable: the session store failed; the session is
	// kept, and Sessions answers 503.
	ErrSessionStoreUnavailable = errors.New("cognito: session store unavailable")
)

// clean keeps at most n bytes of s without its control characters (C0, DEL
// and C1), so a hostile endpoint cannot fill logs or inject control sequences
// through an error message.
func clean(s string, n int) string { return safetext.Clean(s, n) }

// redactURL is a configured URL as an error, a log or %v may show it:
// without its password.
func redactURL(rawURL string) string { return safetext.URL(rawURL) }

// jsonError drops encoding/json's quoting of the input, which could carry a token.
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %s has JSON type %s", te.Field, te.Value)
	}
	return errors.New("invalid JSON")
}
