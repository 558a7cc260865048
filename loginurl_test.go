package cognito_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

func TestLoginURL(t *testing.T) {
	c := validConfig()
	verifier := cognito.GenerateVerifier()
	raw := c.LoginURL("st&ate=x y",
		cognito.WithPKCE(verifier),
		cognito.WithNonce("n+1/2"),
		cognito.WithIdentityProvider("Google"),
		cognito.WithAuthParam("lang", "fr"),
		cognito.WithAuthParam("client_id", "hijack"), // refused: cannot change the client
		cognito.WithAuthParam("code_challenge_method", "plain"),
		cognito.WithAuthParam("state", "swapped"),
	)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "https://myapp.auth.us-east-1.amazoncognito.com/oauth2/authorize", u.Scheme+"://"+u.Host+u.Path)

	sum := sha256.Sum256([]byte(verifier))
	assert.Equal(t, url.Values{
		"response_type":         {"code"},
		"client_id":             {"client123"},
		"redirect_uri":          {"https://app.example.com/callback"},
		"scope":                 {"openid email profile"},
		"state":                 {"st&ate=x y"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"nonce":                 {"n+1/2"},
		"identity_provider":     {"Google"},
		"lang":                  {"fr"},
	}, u.Query())
}

func TestLoginURLScopes(t *testing.T) {
	c := validConfig()
	c.Scopes = []string{"openid", "api/read"}
	u, err := url.Parse(c.LoginURL("s"))
	require.NoError(t, err)
	assert.Equal(t, "openid api/read", u.Query().Get("scope"))

	u, err = url.Parse(c.LoginURL("s", cognito.WithScopes("openid", "phone")))
	require.NoError(t, err)
	assert.Equal(t, "openid phone", u.Query().Get("scope"))
}

func TestLoginURLNormalisesDomain(t *testing.T) {
	c := validConfig()
	c.Domain = "auth.example.com/"
	assert.Regexp(t, `^https://auth\.example\.com/oauth2/authorize\?`, c.LoginURL("s"))
}

func TestLogoutURL(t *testing.T) {
	c := validConfig()
	c.LogoutURI = "https://app.example.com/signed-out?a=1"
	u, err := url.Parse(c.LogoutURL())
	require.NoError(t, err)
	assert.Equal(t, "/logout", u.Path)
	assert.Equal(t, url.Values{"client_id": {"client123"}, "logout_uri": {"https://app.example.com/signed-out?a=1"}}, u.Query())
}

func TestGenerateVerifier(t *testing.T) {
	seen := map[string]bool{}
	unreserved := regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`) // RFC 7636 section 4.1
	for range 100 {
		v := cognito.GenerateVerifier()
		require.Regexp(t, unreserved, v)
		require.False(t, seen[v], "verifier repeated")
		seen[v] = true
	}
}
