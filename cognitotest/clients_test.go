package cognitotest_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
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

// authorizeTo GETs /oauth2/authorize for clientID with redirectURI and
// returns the answer's status and Location.
func authorizeTo(t *testing.T, pool *cognitotest.Server, clientID, redirectURI string) (int, string) {
	t.Helper()
	params := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	resp, _ := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())
	return resp.StatusCode, resp.Header.Get("Location")
}

func TestSetRedirectURIsAfterStart(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	app := httptest.NewServer(http.NotFoundHandler()) // started after the pool: its port was unknown
	t.Cleanup(app.Close)
	own := pool.Config().ClientID

	require.NoError(t, pool.SetRedirectURIs(own, app.URL+"/callback", app.URL+"/other"))
	cfg := pool.Config()
	assert.Equal(t, app.URL+"/callback", cfg.RedirectURI, "Config uses the first")
	assert.Equal(t, []string{app.URL + "/callback", app.URL + "/other"}, pool.Clients()[0].RedirectURIs)

	status, loc := authorizeTo(t, pool, own, app.URL+"/other")
	require.Equal(t, http.StatusFound, status)
	assert.True(t, strings.HasPrefix(loc, app.URL+"/other?"), loc)
	status, _ = authorizeTo(t, pool, own, cognitotest.DefaultRedirectURI)
	assert.Equal(t, http.StatusBadRequest, status, "the replaced URL is no longer allowed")

	// The library redeems a code for the new callback URL.
	status, loc = authorizeTo(t, pool, own, cfg.RedirectURI)
	require.Equal(t, http.StatusFound, status)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	tokens, err := client.ExchangeCode(t.Context(), u.Query().Get("code"))
	require.NoError(t, err, "the code is redeemed with the new redirect_uri")
	assert.NotEmpty(t, tokens.IDToken)
}

func TestSetRedirectURIsOfAnAddedClient(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.SignInAs("alice")
	pool.AddUser(cognitotest.User{Username: "alice"})
	second, err := pool.AddClient(cognitotest.AppClient{ClientID: "second", RedirectURIs: []string{"https://second.example/cb"}})
	require.NoError(t, err)

	require.NoError(t, pool.SetRedirectURIs("second", "http://127.0.0.1:1234/cb"))
	assert.Equal(t, "http://127.0.0.1:1234/cb", pool.ClientConfig(second).RedirectURI, "ClientConfig reads the client as it is now, not the stale copy")
	assert.Equal(t, []string{"http://127.0.0.1:1234/cb"}, pool.Clients()[1].RedirectURIs)
	assert.Equal(t, []string{"https://second.example/cb"}, second.RedirectURIs, "the caller's copy is the caller's")
	assert.Equal(t, cognitotest.DefaultRedirectURI, pool.Config().RedirectURI, "the server's own client is left alone")

	status, _ := authorizeTo(t, pool, "second", "http://127.0.0.1:1234/cb")
	assert.Equal(t, http.StatusFound, status)
	status, _ = authorizeTo(t, pool, "second", "https://second.example/cb")
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestSetLogoutURIs(t *testing.T) {
	pool := cognitotest.NewServer(t)
	own := pool.Config().ClientID
	logout := func(clientID, logoutURI string) int {
		resp, _ := get(t, pool.URL()+"/logout?"+url.Values{"client_id": {clientID}, "logout_uri": {logoutURI}}.Encode())
		return resp.StatusCode
	}

	require.NoError(t, pool.SetLogoutURIs(own, "http://127.0.0.1:4321/"))
	assert.Equal(t, "http://127.0.0.1:4321/", pool.Config().LogoutURI)
	assert.Equal(t, http.StatusFound, logout(own, "http://127.0.0.1:4321/"))
	assert.Equal(t, http.StatusBadRequest, logout(own, cognitotest.DefaultLogoutURI), "the replaced URL is no longer allowed")
	assert.Equal(t, cognitotest.DefaultRedirectURI, pool.Config().RedirectURI, "the callback URLs are left alone")

	require.NoError(t, pool.SetLogoutURIs(own))
	assert.Empty(t, pool.Config().LogoutURI, "no sign-out URL")
	assert.Equal(t, http.StatusBadRequest, logout(own, "http://127.0.0.1:4321/"))

	_, err := pool.AddClient(cognitotest.AppClient{ClientID: "second"})
	require.NoError(t, err)
	require.NoError(t, pool.SetLogoutURIs("second", "https://second.example/bye"))
	assert.Equal(t, http.StatusFound, logout("second", "https://second.example/bye"))
	assert.Equal(t, http.StatusBadRequest, logout(own, "https://second.example/bye"), "only the client it was set for")
}

func TestSetRedirectURIsRefusesBadInput(t *testing.T) {
	pool := cognitotest.NewServer(t)
	own := pool.Config().ClientID
	_, err := pool.AddClient(cognitotest.AppClient{ClientID: "second"})
	require.NoError(t, err)
	before := pool.Clients()

	for _, tt := range []struct {
		name  string
		set   func() error
		inErr string
	}{
		{"no callback URL", func() error { return pool.SetRedirectURIs(own) }, "at least one URL"},
		{"a relative callback URL", func() error { return pool.SetRedirectURIs(own, "http://127.0.0.1:1/cb", "/cb") }, `"/cb" is not an absolute URL`},
		{"a callback URL with a fragment", func() error { return pool.SetRedirectURIs("second", "http://127.0.0.1:1/cb#x") }, "without fragment"},
		{"a callback URL that does not parse", func() error { return pool.SetRedirectURIs(own, "http://[::1/cb") }, "not an absolute URL"},
		{"a relative sign-out URL", func() error { return pool.SetLogoutURIs(own, "bye") }, `"bye" is not an absolute URL`},
		{"an unknown client's callback URLs", func() error { return pool.SetRedirectURIs("nobody", "http://127.0.0.1:1/cb") }, `"nobody" is not an app client of the pool`},
		{"an unknown client's sign-out URLs", func() error { return pool.SetLogoutURIs("nobody", "http://127.0.0.1:1/") }, `"nobody" is not an app client of the pool`},
		{"the empty client ID", func() error { return pool.SetRedirectURIs("", "http://127.0.0.1:1/cb") }, "not an app client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.set()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.inErr)
			assert.True(t, strings.HasPrefix(err.Error(), "cognitotest: "), err.Error())
			assert.Equal(t, before, pool.Clients(), "nothing changed")
		})
	}
}

// TestSetRedirectURIsConcurrentUse changes the callback URLs while sign-ins
// and Config read them: -race checks the guard, and every sign-in meets one
// of the two lists whole.
func TestSetRedirectURIsConcurrentUse(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	own := pool.Config().ClientID
	lists := [][]string{{"http://127.0.0.1:1/a", "http://127.0.0.1:1/both"}, {"http://127.0.0.1:1/b", "http://127.0.0.1:1/both"}}

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				assert.NoError(t, pool.SetRedirectURIs(own, lists[(i+j)%2]...))
			}
		})
		wg.Go(func() {
			for range 20 {
				status, loc := authorizeTo(t, pool, own, "http://127.0.0.1:1/both")
				assert.Equal(t, http.StatusFound, status)
				assert.True(t, strings.HasPrefix(loc, "http://127.0.0.1:1/both?"), loc)
			}
		})
		wg.Go(func() {
			for range 200 {
				assert.Contains(t, []string{lists[0][0], lists[1][0], cognitotest.DefaultRedirectURI}, pool.Config().RedirectURI)
			}
		})
	}
	wg.Wait()
}
