package cognitotest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// assertOAuthError checks a JSON error answer of the token or revoke endpoint.
func assertOAuthError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	assert.Equal(t, status, resp.StatusCode, body)
	assert.Equal(t, "application/json;charset=UTF-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, code, body["error"], body)
}

func TestExchangeCodeAnswersCognitoTokens(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	alice := pool.AddUser(cognitotest.User{
		Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice",
		Groups: []string{"admins", "staff"}, Attributes: map[string]string{"custom:tenant": "acme"},
	})
	params := authorizeParams(pool)
	params.Set("nonce", "n0nce")
	code := codeFor(t, pool, "alice", params)

	resp, tokens := exchange(t, pool, code, nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, tokens)
	assert.Equal(t, "application/json;charset=UTF-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "Bearer", tokens["token_type"])
	assert.EqualValues(t, 3600, tokens["expires_in"])
	assert.Len(t, strings.Split(tokens["refresh_token"].(string), "."), 5, "a JWE-shaped refresh token")

	now := clk.Now().Unix()
	id := verify(t, pool, tokens["id_token"].(string))
	assert.Equal(t, alice.Sub, id["sub"])
	assert.Equal(t, true, id["email_verified"])
	assert.Equal(t, pool.Issuer(), id["iss"])
	assert.Equal(t, "alice", id["cognito:username"])
	assert.Equal(t, cognitotest.DefaultClientID, id["aud"])
	assert.Equal(t, "id", id["token_use"])
	assert.EqualValues(t, now, id["auth_time"])
	assert.EqualValues(t, now, id["iat"])
	assert.EqualValues(t, now+3600, id["exp"])
	assert.Equal(t, "alice@example.com", id["email"])
	assert.Equal(t, "Alice", id["name"])
	assert.Equal(t, []any{"admins", "staff"}, id["cognito:groups"])
	assert.Equal(t, "n0nce", id["nonce"])
	assert.Equal(t, "acme", id["custom:tenant"])
	for _, k := range []string{"origin_jti", "event_id", "jti"} {
		assert.NotEmpty(t, id[k], k)
	}

	access := verify(t, pool, tokens["access_token"].(string))
	assert.Equal(t, alice.Sub, access["sub"])
	assert.Equal(t, []any{"admins", "staff"}, access["cognito:groups"])
	assert.Equal(t, pool.Issuer(), access["iss"])
	assert.EqualValues(t, 2, access["version"])
	assert.Equal(t, cognitotest.DefaultClientID, access["client_id"])
	assert.Equal(t, id["origin_jti"], access["origin_jti"])
	assert.Equal(t, id["event_id"], access["event_id"])
	assert.NotEqual(t, id["jti"], access["jti"])
	assert.Equal(t, "access", access["token_use"])
	assert.Equal(t, "openid email profile", access["scope"])
	assert.EqualValues(t, now, access["auth_time"])
	assert.EqualValues(t, now+3600, access["exp"])
	assert.Equal(t, "alice", access["username"])
	assert.NotContains(t, access, "aud")
	assert.NotContains(t, access, "email")
}

func TestNoIDTokenWithoutOpenIDScope(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	params := authorizeParams(pool)
	params.Set("scope", "email")

	resp, tokens := exchange(t, pool, codeFor(t, pool, "alice", params), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, tokens)
	assert.NotContains(t, tokens, "id_token")
	assert.NotEmpty(t, tokens["access_token"])
	assert.NotEmpty(t, tokens["refresh_token"])
}

func TestTokenLifetimesOption(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now), cognitotest.WithTokenLifetimes(5*time.Minute, time.Hour))
	pool.AddUser(cognitotest.User{Username: "alice"})

	resp, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, tokens)
	assert.EqualValues(t, 300, tokens["expires_in"])
	assert.EqualValues(t, clk.Now().Unix()+300, verify(t, pool, tokens["id_token"].(string))["exp"])

	clk.Advance(time.Hour)
	resp, body := refresh(t, pool, tokens["refresh_token"].(string))
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

func TestCodeIsSingleUse(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	code := codeFor(t, pool, "alice", authorizeParams(pool))

	resp, tokens := exchange(t, pool, code, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, tokens)

	resp, body := exchange(t, pool, code, nil)
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

func TestCodeExpiresOnTheServerClock(t *testing.T) {
	for name, tc := range map[string]struct {
		wait time.Duration
		ok   bool
	}{
		"a second before expiry": {cognitotest.CodeLifetime - time.Second, true},
		"at expiry":              {cognitotest.CodeLifetime, false},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
			pool.AddUser(cognitotest.User{Username: "alice"})
			code := codeFor(t, pool, "alice", authorizeParams(pool))

			clk.Advance(tc.wait)
			resp, body := exchange(t, pool, code, nil)

			if tc.ok {
				assert.Equal(t, http.StatusOK, resp.StatusCode, body)
			} else {
				assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			}
		})
	}
}

func TestExchangeChecksRedirectURIAndPKCE(t *testing.T) {
	for name, tc := range map[string]struct {
		pkce   bool
		extra  url.Values
		status int
		code   string
	}{
		"PKCE verifier matches":           {true, url.Values{"code_verifier": {verifier}}, http.StatusOK, ""},
		"PKCE verifier differs":           {true, url.Values{"code_verifier": {verifier + "x"}}, http.StatusBadRequest, "invalid_grant"},
		"PKCE verifier missing":           {true, nil, http.StatusBadRequest, "invalid_request"},
		"verifier without challenge":      {false, url.Values{"code_verifier": {verifier}}, http.StatusBadRequest, "invalid_grant"},
		"redirect_uri differs":            {false, url.Values{"redirect_uri": {"http://localhost/other"}}, http.StatusBadRequest, "invalid_grant"},
		"redirect_uri missing":            {false, url.Values{"redirect_uri": {""}}, http.StatusBadRequest, "invalid_request"},
		"code missing":                    {false, url.Values{"code": {""}}, http.StatusBadRequest, "invalid_request"},
		"code unknown":                    {false, url.Values{"code": {"0b5c8a1e-0000-4000-8000-000000000000"}}, http.StatusBadRequest, "invalid_grant"},
		"no challenge and no verifier ok": {false, nil, http.StatusOK, ""},
	} {
		t.Run(name, func(t *testing.T) {
			pool := cognitotest.NewServer(t)
			pool.AddUser(cognitotest.User{Username: "alice"})
			params := authorizeParams(pool)
			if tc.pkce {
				params.Set("code_challenge", challenge)
				params.Set("code_challenge_method", "S256")
			}
			code := codeFor(t, pool, "alice", params)

			resp, body := exchange(t, pool, code, tc.extra)

			if tc.code == "" {
				assert.Equal(t, tc.status, resp.StatusCode, body)
				assert.NotEmpty(t, body["access_token"])
			} else {
				assertOAuthError(t, resp, body, tc.status, tc.code)
				assert.NotContains(t, body["error_description"], code, "descriptions never echo the code")
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	const secret = "s3cr+t/with%odd chars"
	pool := cognitotest.NewServer(t, cognitotest.WithClientSecret(secret))
	pool.AddUser(cognitotest.User{Username: "alice"})
	id := cognitotest.DefaultClientID

	for name, tc := range map[string]struct {
		user, pass string
		body       url.Values
		header     string
		status     int
		code       string
	}{
		"Basic, form-encoded":          {user: id, pass: secret, status: http.StatusOK},
		"secret in the body":           {body: url.Values{"client_id": {id}, "client_secret": {secret}}, status: http.StatusOK},
		"Basic with the same body id":  {user: id, pass: secret, body: url.Values{"client_id": {id}}, status: http.StatusOK},
		"Basic with another body id":   {user: id, pass: secret, body: url.Values{"client_id": {"other"}}, status: http.StatusUnauthorized, code: "invalid_client"},
		"Basic and body secret":        {user: id, pass: secret, body: url.Values{"client_secret": {secret}}, status: http.StatusBadRequest, code: "invalid_request"},
		"wrong secret":                 {user: id, pass: "nope", status: http.StatusUnauthorized, code: "invalid_client"},
		"wrong secret in the body":     {body: url.Values{"client_id": {id}, "client_secret": {"nope"}}, status: http.StatusUnauthorized, code: "invalid_client"},
		"no secret":                    {body: url.Values{"client_id": {id}}, status: http.StatusUnauthorized, code: "invalid_client"},
		"unknown client":               {user: "other", pass: secret, status: http.StatusUnauthorized, code: "invalid_client"},
		"no client at all":             {status: http.StatusUnauthorized, code: "invalid_client"},
		"Authorization is not Basic":   {header: "Bearer abc", status: http.StatusUnauthorized, code: "invalid_client"},
		"Basic but not form-encoded %": {header: "Basic " + basic(id, "100%"), status: http.StatusUnauthorized, code: "invalid_client"},
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{
				"grant_type":   {"authorization_code"},
				"code":         {codeFor(t, pool, "alice", authorizeParams(pool))},
				"redirect_uri": {cognitotest.DefaultRedirectURI},
			}
			for k, v := range tc.body {
				form[k] = v
			}
			req, err := http.NewRequest(http.MethodPost, pool.URL()+"/oauth2/token", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.user != "" {
				req.SetBasicAuth(url.QueryEscape(tc.user), url.QueryEscape(tc.pass))
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, body := do(t, req)

			if tc.code == "" {
				assert.Equal(t, tc.status, resp.StatusCode, body)
				return
			}
			assertOAuthError(t, resp, body, tc.status, tc.code)
			assert.NotContains(t, body["error_description"], secret)
			if tc.user != "" && tc.status == http.StatusUnauthorized {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
}

func TestPublicClientSendsOnlyItsID(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithPublicClient())
	pool.AddUser(cognitotest.User{Username: "alice"})
	params := authorizeParams(pool)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	form := func() url.Values {
		return url.Values{
			"grant_type": {"authorization_code"}, "client_id": {cognitotest.DefaultClientID},
			"code": {codeFor(t, pool, "alice", params)}, "redirect_uri": {cognitotest.DefaultRedirectURI},
			"code_verifier": {verifier},
		}
	}

	resp, body := postForm(t, pool.URL()+"/oauth2/token", form(), "", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)

	withSecret := form()
	withSecret.Set("client_secret", "anything")
	resp, body = postForm(t, pool.URL()+"/oauth2/token", withSecret, "", "")
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusUnauthorized, "invalid_client")
}

func TestTokenEndpointRequestErrors(t *testing.T) {
	pool := cognitotest.NewServer(t)
	id, secret := cognitotest.DefaultClientID, cognitotest.DefaultClientSecret

	t.Run("GET", func(t *testing.T) {
		resp, body := get(t, pool.URL()+"/oauth2/token")
		assertOAuthError(t, resp, decodeJSON(t, body), http.StatusMethodNotAllowed, "invalid_request")
		assert.Equal(t, "POST", resp.Header.Get("Allow"))
	})
	t.Run("JSON body", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, pool.URL()+"/oauth2/token", strings.NewReader(`{"grant_type":"refresh_token"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(id, secret)
		resp, body := do(t, req)
		assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
	})
	t.Run("missing grant_type", func(t *testing.T) {
		resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{}, id, secret)
		assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_request")
	})
	t.Run("unsupported grant_type", func(t *testing.T) {
		resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"password"}}, id, secret)
		assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "unsupported_grant_type")
	})
	t.Run("missing refresh_token", func(t *testing.T) {
		resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}}, id, secret)
		assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_request")
	})
}

func refresh(t *testing.T, pool *cognitotest.Server, rt string) (*http.Response, map[string]any) {
	t.Helper()
	cfg := pool.Config()
	resp, body := postForm(t, pool.URL()+"/oauth2/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	return resp, decodeJSON(t, body)
}

func TestRefreshWithoutRotationKeepsTheRefreshToken(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com"})
	_, first := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	firstID := verify(t, pool, first["id_token"].(string))

	clk.Advance(2 * time.Hour)
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@new.example.com"})
	resp, tokens := refresh(t, pool, first["refresh_token"].(string))

	require.Equal(t, http.StatusOK, resp.StatusCode, tokens)
	assert.NotContains(t, tokens, "refresh_token")
	id := verify(t, pool, tokens["id_token"].(string))
	assert.Equal(t, firstID["origin_jti"], id["origin_jti"])
	assert.Equal(t, firstID["auth_time"], id["auth_time"], "auth_time stays the sign-in's")
	assert.Equal(t, firstID["sub"], id["sub"])
	assert.NotEqual(t, firstID["jti"], id["jti"])
	assert.EqualValues(t, clk.Now().Unix(), id["iat"])
	assert.Equal(t, "alice@new.example.com", id["email"], "refreshed tokens carry the current attributes")
	assert.NotContains(t, id, "nonce")
	verify(t, pool, tokens["access_token"].(string))

	resp, again := refresh(t, pool, first["refresh_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode, again)
}

func TestRefreshWithRotation(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithRefreshTokenRotation(true))
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, first := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	rt1 := first["refresh_token"].(string)

	resp, second := refresh(t, pool, rt1)
	require.Equal(t, http.StatusOK, resp.StatusCode, second)
	rt2, _ := second["refresh_token"].(string)
	require.NotEmpty(t, rt2)
	assert.NotEqual(t, rt1, rt2)

	resp, body := refresh(t, pool, rt1)
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	resp, third := refresh(t, pool, rt2)
	assert.Equal(t, http.StatusOK, resp.StatusCode, third)
}

func TestRefreshWithRotationAndRetryGracePeriod(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now),
		cognitotest.WithRefreshTokenRotation(true), cognitotest.WithRetryGracePeriod(30*time.Second))
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, first := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	rt1 := first["refresh_token"].(string)

	resp, second := refresh(t, pool, rt1)
	require.Equal(t, http.StatusOK, resp.StatusCode, second)
	rt2 := second["refresh_token"].(string)

	clk.Advance(29 * time.Second)
	resp, retry := refresh(t, pool, rt1)
	require.Equal(t, http.StatusOK, resp.StatusCode, "within the grace the rotated-out token still works")
	rt3 := retry["refresh_token"].(string)
	assert.NotEqual(t, rt2, rt3, "each use rotates again")

	clk.Advance(time.Second)
	resp, body := refresh(t, pool, rt1)
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	assert.Equal(t, "Invalid Refresh Token", body["error_description"])

	for _, rt := range []string{rt2, rt3} {
		resp, body := refresh(t, pool, rt)
		assert.Equal(t, http.StatusOK, resp.StatusCode, body, "the successors work")
	}
}

func TestRetryGracePeriodAlone(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now), cognitotest.WithRetryGracePeriod(time.Minute))
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, first := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)

	for range 2 {
		clk.Advance(2 * time.Minute)
		resp, body := refresh(t, pool, first["refresh_token"].(string))
		require.Equal(t, http.StatusOK, resp.StatusCode, body, "without rotation the grace changes nothing")
		assert.NotContains(t, body, "refresh_token")
	}
}

func TestRetryGracePeriodBounds(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, cognitotest.MaxRetryGracePeriod + time.Second} {
		_, err := cognitotest.Start(cognitotest.WithRetryGracePeriod(d))
		assert.ErrorContains(t, err, "retry grace period", d)
	}
	for _, d := range []time.Duration{0, cognitotest.MaxRetryGracePeriod} {
		s, err := cognitotest.Start(cognitotest.WithRetryGracePeriod(d))
		require.NoError(t, err, d)
		s.Close()
	}
}

func TestRefreshTokenExpires(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)

	clk.Advance(cognitotest.DefaultRefreshLifetime - time.Second)
	resp, body := refresh(t, pool, tokens["refresh_token"].(string))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	clk.Advance(time.Second)
	resp, body = refresh(t, pool, tokens["refresh_token"].(string))
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	assert.Equal(t, "Refresh Token has expired", body["error_description"])
}

func TestRefreshTokenOfUnknownOrigin(t *testing.T) {
	pool := cognitotest.NewServer(t)
	resp, body := refresh(t, pool, "not-a-refresh-token")
	assertOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

func TestRevoke(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithRefreshTokenRotation(true))
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, first := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	_, second := refresh(t, pool, first["refresh_token"].(string))
	_, other := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	id, secret := cognitotest.DefaultClientID, cognitotest.DefaultClientSecret

	resp, body := postForm(t, pool.URL()+"/oauth2/revoke", url.Values{"token": {second["refresh_token"].(string)}}, id, secret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Empty(t, body)

	resp, refreshed := refresh(t, pool, second["refresh_token"].(string))
	assertOAuthError(t, resp, refreshed, http.StatusBadRequest, "invalid_grant")
	assert.Equal(t, "Refresh Token has been revoked", refreshed["error_description"])
	for _, tok := range []any{first["access_token"], second["access_token"]} {
		resp, _ := userInfo(t, pool, tok.(string))
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "access tokens of the revoked sign-in")
	}

	resp, _ = userInfo(t, pool, other["access_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "another sign-in stays valid")
	resp, refreshed = refresh(t, pool, other["refresh_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode, refreshed)
}

func TestRevokeErrors(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
	id, secret := cognitotest.DefaultClientID, cognitotest.DefaultClientSecret
	revoke := pool.URL() + "/oauth2/revoke"

	resp, body := postForm(t, revoke, url.Values{}, id, secret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_request")

	resp, body = postForm(t, revoke, url.Values{"token": {tokens["access_token"].(string)}}, id, secret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "unsupported_token_type")

	resp, body = postForm(t, revoke, url.Values{"token": {tokens["refresh_token"].(string)}}, id, "wrong")
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusUnauthorized, "invalid_client")
	resp, refreshed := refresh(t, pool, tokens["refresh_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode, refreshed, "a refused revoke revokes nothing")

	resp, body = postForm(t, revoke, url.Values{"token": {"unknown"}}, id, secret)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)

	resp, body = get(t, revoke)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusMethodNotAllowed, "invalid_request")
}

func TestClientCredentials(t *testing.T) {
	clk := newClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now),
		cognitotest.WithAllowedScopes("openid", "email", "api/read", "api/write"))
	id, secret := cognitotest.DefaultClientID, cognitotest.DefaultClientSecret
	token := pool.URL() + "/oauth2/token"

	resp, body := postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "scope": {"api/read"}}, id, secret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	tokens := decodeJSON(t, body)
	assert.NotContains(t, tokens, "id_token")
	assert.NotContains(t, tokens, "refresh_token")
	assert.EqualValues(t, 3600, tokens["expires_in"])
	claims := verify(t, pool, tokens["access_token"].(string))
	assert.Equal(t, id, claims["sub"])
	assert.Equal(t, id, claims["client_id"])
	assert.Equal(t, "access", claims["token_use"])
	assert.Equal(t, "api/read", claims["scope"])
	assert.EqualValues(t, clk.Now().Unix(), claims["iat"])
	assert.NotContains(t, claims, "username")

	resp, body = postForm(t, token, url.Values{"grant_type": {"client_credentials"}}, id, secret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "api/read api/write", verify(t, pool, decodeJSON(t, body)["access_token"].(string))["scope"])

	resp, body = postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, id, secret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "invalid_scope")
}

func TestClientCredentialsNeedsASecretAndResourceScopes(t *testing.T) {
	pool := cognitotest.NewServer(t)
	resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}},
		cognitotest.DefaultClientID, cognitotest.DefaultClientSecret)
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "unauthorized_client")

	public := cognitotest.NewServer(t, cognitotest.WithPublicClient(), cognitotest.WithAllowedScopes("api/read"))
	resp, body = postForm(t, public.URL()+"/oauth2/token",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {cognitotest.DefaultClientID}}, "", "")
	assertOAuthError(t, resp, decodeJSON(t, body), http.StatusBadRequest, "unauthorized_client")
}
