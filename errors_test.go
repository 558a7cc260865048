package cognito_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cognitokit/cognito"
)

// TestOAuthErrorIs pins which sentinels an endpoint's answer matches, at each
// status boundary: a known code matches its own sentinel, a 429 or 5xx also
// ErrEndpointUnavailable, and an unknown code ErrInvalidRequest for a 4xx
// other than 429 and ErrEndpointUnavailable otherwise.
func TestOAuthErrorIs(t *testing.T) {
	all := []error{
		cognito.ErrInvalidGrant, cognito.ErrInvalidClient, cognito.ErrInvalidRequest, cognito.ErrUnauthorizedClient,
		cognito.ErrUnsupportedGrantType, cognito.ErrInvalidToken, cognito.ErrEndpointUnavailable, cognito.ErrInvalidConfig,
	}
	for _, tt := range []struct {
		status int
		code   string
		want   []error
	}{
		{399, "", []error{cognito.ErrEndpointUnavailable}},
		{400, "", []error{cognito.ErrInvalidRequest}},
		{400, "invalid_scope", []error{cognito.ErrInvalidRequest}},
		{400, "invalid_grant", []error{cognito.ErrInvalidGrant}},
		{401, "invalid_client", []error{cognito.ErrInvalidClient}},
		{400, "unauthorized_client", []error{cognito.ErrUnauthorizedClient}},
		{400, "unsupported_grant_type", []error{cognito.ErrUnsupportedGrantType}},
		{401, "invalid_token", []error{cognito.ErrInvalidToken}},
		{400, "invalid_request", []error{cognito.ErrInvalidRequest}},
		{429, "", []error{cognito.ErrEndpointUnavailable}},
		{429, "invalid_request", []error{cognito.ErrInvalidRequest, cognito.ErrEndpointUnavailable}},
		{499, "", []error{cognito.ErrInvalidRequest}},
		{499, "invalid_grant", []error{cognito.ErrInvalidGrant}},
		{500, "", []error{cognito.ErrEndpointUnavailable}},
		{500, "invalid_request", []error{cognito.ErrInvalidRequest, cognito.ErrEndpointUnavailable}},
		{503, "internal_error", []error{cognito.ErrEndpointUnavailable}},
	} {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			e := &cognito.OAuthError{Endpoint: "token", StatusCode: tt.status, Code: tt.code}
			for _, s := range all {
				want := false
				for _, w := range tt.want {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(e, s), "errors.Is(%v, %v)", e, s)
			}
		})
	}
}

func TestOAuthErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		e    cognito.OAuthError
		want string
	}{
		{cognito.OAuthError{Endpoint: "token", StatusCode: 400, Code: "invalid_grant", Description: "used"}, "cognito: token endpoint answered 400 invalid_grant: used"},
		{cognito.OAuthError{Endpoint: "revoke", StatusCode: 400, Code: "unsupported_token_type"}, "cognito: revoke endpoint answered 400 unsupported_token_type"},
		{cognito.OAuthError{Endpoint: "userInfo", StatusCode: 502}, "cognito: userInfo endpoint answered 502"},
		{cognito.OAuthError{Endpoint: "token", StatusCode: 503, Description: "down"}, "cognito: token endpoint answered 503: down"},
	} {
		assert.Equal(t, tt.want, tt.e.Error())
	}
}

func TestAuthorizeError(t *testing.T) {
	for _, tt := range []struct {
		e    cognito.AuthorizeError
		msg  string
		want []error
	}{
		{cognito.AuthorizeError{Code: "access_denied", Description: "user cancelled"}, "cognito: login failed: hosted UI answered access_denied: user cancelled",
			[]error{cognito.ErrLoginFailed, cognito.ErrAccessDenied}},
		{cognito.AuthorizeError{Code: "server_error"}, "cognito: login failed: hosted UI answered server_error",
			[]error{cognito.ErrLoginFailed, cognito.ErrEndpointUnavailable}},
		{cognito.AuthorizeError{Code: "temporarily_unavailable"}, "cognito: login failed: hosted UI answered temporarily_unavailable",
			[]error{cognito.ErrLoginFailed, cognito.ErrEndpointUnavailable}},
		{cognito.AuthorizeError{Code: "invalid_scope"}, "cognito: login failed: hosted UI answered invalid_scope",
			[]error{cognito.ErrLoginFailed}},
	} {
		t.Run(tt.e.Code, func(t *testing.T) {
			assert.Equal(t, tt.msg, tt.e.Error())
			for _, s := range []error{cognito.ErrLoginFailed, cognito.ErrAccessDenied, cognito.ErrEndpointUnavailable, cognito.ErrInvalidRequest} {
				want := false
				for _, w := range tt.want {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(&tt.e, s), "errors.Is(%v, %v)", &tt.e, s)
			}
		})
	}
}
