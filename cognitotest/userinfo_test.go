package cognitotest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func userInfo(t *testing.T, pool *cognitotest.Server, accessToken string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, pool.URL()+"/oauth2/userInfo", nil)
	require.NoError(t, err)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return do(t, req)
}

func TestUserInfoAnswersAttributesWithStringEmailVerified(t *testing.T) {
	pool := cognitotest.NewServer(t)
	for _, verified := range []bool{true, false} {
		alice := pool.AddUser(cognitotest.User{
			Username: "alice", Email: "alice@example.com", EmailVerified: verified, Name: "Alice",
			Groups:     []string{"admins"},
			Attributes: map[string]string{"custom:tenant": "acme", "phone_number": "+15555550100"},
		})
		_, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)

		resp, info := userInfo(t, pool, tokens["access_token"].(string))

		require.Equal(t, http.StatusOK, resp.StatusCode, info)
		assert.Equal(t, map[string]any{
			"sub":            alice.Sub,
			"username":       "alice",
			"email":          "alice@example.com",
			"email_verified": map[bool]string{true: "true", false: "false"}[verified],
			"name":           "Alice",
			"custom:tenant":  "acme",
		}, info, "no phone_number without the phone scope")
	}
}

func TestUserInfoFollowsScopes(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Email: "a@example.com", Name: "Alice",
		Attributes: map[string]string{"phone_number": "+15555550100"}})
	for scope, want := range map[string][]string{
		"openid":                        {"sub", "username"},
		"openid email":                  {"sub", "username", "email", "email_verified"},
		"openid phone":                  {"sub", "username", "phone_number"},
		"aws.cognito.signin.user.admin": {"sub", "username", "email", "email_verified", "name", "phone_number"},
	} {
		t.Run(scope, func(t *testing.T) {
			params := authorizeParams(pool)
			params.Set("scope", scope)
			_, tokens := exchange(t, pool, codeFor(t, pool, "alice", params), nil)
			resp, info := userInfo(t, pool, tokens["access_token"].(string))
			require.Equal(t, http.StatusOK, resp.StatusCode, info)
			var keys []string
			for k := range info {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, want, keys)
		})
	}
}

func TestUserInfoAcceptsPost(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	req, err := http.NewRequest(http.MethodPost, pool.URL()+"/oauth2/userInfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+pool.MintAccessToken("alice"))

	resp, info := do(t, req)

	assert.Equal(t, http.StatusOK, resp.StatusCode, info)
	assert.Equal(t, "alice", info["username"])
}

func TestUserInfoRefusesBadTokens(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	pool.AddUser(cognitotest.User{Username: "alice"})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		token  string
		status int
		code   string
	}{
		"missing":            {"", http.StatusUnauthorized, "invalid_token"},
		"garbage":            {"not.a.jwt", http.StatusUnauthorized, "invalid_token"},
		"expired":            {pool.MintAccessToken("alice", cognitotest.Expired()), http.StatusUnauthorized, "invalid_token"},
		"not yet valid":      {pool.MintAccessToken("alice", cognitotest.WithNotBefore(clk.Now().Add(time.Minute))), http.StatusUnauthorized, "invalid_token"},
		"an ID token":        {pool.MintIDToken("alice"), http.StatusUnauthorized, "invalid_token"},
		"another issuer":     {pool.MintAccessToken("alice", cognitotest.WithIssuer("https://elsewhere")), http.StatusUnauthorized, "invalid_token"},
		"another key":        {pool.MintAccessToken("alice", cognitotest.WithSigningKey(other)), http.StatusUnauthorized, "invalid_token"},
		"unknown kid":        {pool.MintAccessToken("alice", cognitotest.WithKeyID("nope")), http.StatusUnauthorized, "invalid_token"},
		"alg none":           {pool.MintAccessToken("alice", cognitotest.WithHeader("alg", "none")), http.StatusUnauthorized, "invalid_token"},
		"alg HS256":          {pool.MintAccessToken("alice", cognitotest.WithHeader("alg", "HS256")), http.StatusUnauthorized, "invalid_token"},
		"unknown user":       {pool.MintAccessToken("bob"), http.StatusUnauthorized, "invalid_token"},
		"no openid scope":    {pool.MintAccessToken("alice", cognitotest.WithClaim("scope", "email")), http.StatusForbidden, "insufficient_scope"},
		"valid, for control": {pool.MintAccessToken("alice"), http.StatusOK, ""},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := userInfo(t, pool, tc.token)
			assert.Equal(t, tc.status, resp.StatusCode, body)
			if tc.code != "" {
				assert.Equal(t, tc.code, body["error"])
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `Bearer error="`+tc.code+`"`)
				assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			}
		})
	}
}

func TestUserInfoOfAClientCredentialsToken(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithAllowedScopes("openid", "api/read"))
	resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}},
		cognitotest.DefaultClientID, cognitotest.DefaultClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	resp, info := userInfo(t, pool, decodeJSON(t, body)["access_token"].(string))

	assert.NotEqual(t, http.StatusOK, resp.StatusCode, info)
}

func TestUserInfoRefusesOtherMethods(t *testing.T) {
	pool := cognitotest.NewServer(t)
	req, err := http.NewRequest(http.MethodDelete, pool.URL()+"/oauth2/userInfo", nil)
	require.NoError(t, err)
	resp, err := browser.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
