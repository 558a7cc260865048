package cognitotest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func TestAddClient(t *testing.T) {
	pool := cognitotest.NewServer(t)

	gen, err := pool.AddClient(cognitotest.AppClient{})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^[a-z2-7]{26}$`), gen.ClientID, "an ID shaped as Cognito's")
	assert.Len(t, gen.ClientSecret, 52)
	assert.False(t, gen.Public)
	assert.Equal(t, []string{cognitotest.DefaultRedirectURI}, gen.RedirectURIs)
	assert.Equal(t, []string{cognitotest.DefaultLogoutURI}, gen.LogoutURIs)
	assert.Equal(t, cognitotest.DefaultScopes, gen.Scopes)

	mobile, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true, RedirectURIs: []string{"myapp://cb"}, LogoutURIs: []string{}})
	require.NoError(t, err)
	assert.Empty(t, mobile.ClientSecret)
	assert.True(t, mobile.Public)
	assert.Empty(t, mobile.LogoutURIs)

	cfg := pool.ClientConfig(mobile)
	assert.Equal(t, "mobile", cfg.ClientID)
	assert.Empty(t, cfg.ClientSecret)
	assert.Equal(t, "myapp://cb", cfg.RedirectURI)
	assert.Empty(t, cfg.LogoutURI)
	assert.Equal(t, pool.Issuer(), cfg.Issuer)
	assert.Equal(t, pool.URL(), cfg.Domain)

	ids := []string{}
	for _, c := range pool.Clients() {
		ids = append(ids, c.ClientID)
	}
	assert.Equal(t, cognitotest.DefaultClientID, ids[0], "the server's own first")
	assert.ElementsMatch(t, []string{cognitotest.DefaultClientID, gen.ClientID, "mobile"}, ids)

	replaced, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobile", ClientSecret: "now-confidential"})
	require.NoError(t, err)
	assert.Equal(t, "now-confidential", replaced.ClientSecret)
	assert.Len(t, pool.Clients(), 3, "same ID: replaced")

	for name, bad := range map[string]cognitotest.AppClient{
		"bad ID":              {ClientID: "has space"},
		"public with secret":  {ClientID: "x", Public: true, ClientSecret: "s"},
		"relative redirect":   {ClientID: "x", RedirectURIs: []string{"/cb"}},
		"scope with a space":  {ClientID: "x", Scopes: []string{"a b"}},
		"the server's own ID": {ClientID: cognitotest.DefaultClientID},
	} {
		_, err := pool.AddClient(bad)
		assert.Error(t, err, name)
	}
}

func TestSecondClientFlows(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithAllowedScopes("openid", "orders/read"))
	pool.AddUser(cognitotest.User{Username: "alice"})
	second, err := pool.AddClient(cognitotest.AppClient{ClientID: "second", RedirectURIs: []string{"https://second.example/cb"}, Scopes: []string{"openid", "email"}})
	require.NoError(t, err)
	token := pool.URL() + "/oauth2/token"

	params := url.Values{"client_id": {"second"}, "redirect_uri": {"https://second.example/cb"}, "response_type": {"code"}, "state": {"s"}}
	pool.SignInAs("alice")
	res, err := browser.Get(pool.URL() + "/oauth2/authorize?" + params.Encode())
	require.NoError(t, err)
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "second.example", loc.Host, "its own callback URL")
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://second.example/cb"}}
	resp, body := postForm(t, token, form, cognitotest.DefaultClientID, cognitotest.DefaultClientSecret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_grant") // another client's code, and now spent

	pool.SignInAs("alice")
	res, err = browser.Get(pool.URL() + "/oauth2/authorize?" + params.Encode())
	require.NoError(t, err)
	res.Body.Close()
	loc, _ = url.Parse(res.Header.Get("Location"))
	form.Set("code", loc.Query().Get("code"))
	resp, body = postForm(t, token, form, "second", second.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	tokens := decodeJSON(t, body)
	id := verify(t, pool, tokens["id_token"].(string))
	assert.Equal(t, "second", id["aud"])
	access := verify(t, pool, tokens["access_token"].(string))
	assert.Equal(t, "second", access["client_id"])
	assert.Equal(t, "openid email", access["scope"], "the second client's scopes")

	rt := tokens["refresh_token"].(string)
	resp, body = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cognitotest.DefaultClientID, cognitotest.DefaultClientSecret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_grant")
	resp, body = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "second", second.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "second", verify(t, pool, decodeJSON(t, body)["access_token"].(string))["client_id"])

	resp, _ = postForm(t, pool.URL()+"/oauth2/revoke", url.Values{"token": {rt}}, cognitotest.DefaultClientID, cognitotest.DefaultClientSecret)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "second", second.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, "another client cannot revoke it: %s", body)

	resp, _ = postForm(t, token, url.Values{"grant_type": {"client_credentials"}}, "second", "wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, body = postForm(t, token, url.Values{"grant_type": {"client_credentials"}}, "unknown", "x")
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusUnauthorized, "invalid_client")

	res, err = browser.Get(pool.URL() + "/logout?client_id=second&logout_uri=" + url.QueryEscape(cognitotest.DefaultLogoutURI))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusFound, res.StatusCode)
	res, err = browser.Get(pool.URL() + "/logout?client_id=nobody&logout_uri=" + url.QueryEscape(cognitotest.DefaultLogoutURI))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	mobile, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true, RedirectURIs: []string{"myapp://cb"}})
	require.NoError(t, err)
	noPKCE := url.Values{"client_id": {mobile.ClientID}, "redirect_uri": {"myapp://cb"}, "response_type": {"code"}, "state": {"s"}}
	res, err = browser.Get(pool.URL() + "/oauth2/authorize?" + noPKCE.Encode())
	require.NoError(t, err)
	res.Body.Close()
	loc, err = url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "invalid_request", loc.Query().Get("error"), "a public client must use PKCE")

	params.Set("client_id", "nobody")
	res, err = browser.Get(pool.URL() + "/oauth2/authorize?" + params.Encode())
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func TestM2MClient(t *testing.T) {
	pool := cognitotest.NewServer(t)
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: "svc", Scopes: []string{"openid", "orders/read", "orders/write"}})
	require.NoError(t, err)
	token := pool.URL() + "/oauth2/token"

	resp, body := postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/write"}}, "svc", svc.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	claims := verify(t, pool, decodeJSON(t, body)["access_token"].(string))
	assert.Equal(t, "svc", claims["sub"])
	assert.Equal(t, "svc", claims["client_id"])
	assert.Equal(t, "orders/write", claims["scope"])

	resp, body = postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/delete"}}, "svc", svc.ClientSecret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_scope")

	minted := verify(t, pool, pool.MintClientCredentialsToken("svc"))
	assert.Equal(t, "svc", minted["sub"])
	assert.Equal(t, "svc", minted["client_id"])
	assert.Equal(t, "access", minted["token_use"])
	assert.Equal(t, "orders/read orders/write", minted["scope"], "the client's resource-server scopes, as the grant gives them")
	assert.Equal(t, pool.Issuer(), minted["iss"])
	for _, absent := range []string{"username", "origin_jti", "cognito:groups", "event_id"} {
		assert.NotContains(t, minted, absent)
	}
	assert.Equal(t, "a/b", verify(t, pool, pool.MintClientCredentialsToken("svc", cognitotest.WithScopes("a/b")))["scope"])
	assert.NotContains(t, verify(t, pool, pool.MintClientCredentialsToken("svc", cognitotest.WithScopes())), "scope")
	stranger := verify(t, pool, pool.MintClientCredentialsToken("stranger"))
	assert.Equal(t, "stranger", stranger["client_id"])
	assert.Empty(t, stranger["scope"])
}
