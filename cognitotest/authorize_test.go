package cognitotest_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// A PKCE pair: challenge is base64url(SHA-256(verifier)), computed apart
// from the code under test (with openssl).
const (
	verifier  = "dBjftJeZ4CVP-mJ92IgHgDbjwt6ngMuWQRk0sVGbL5k"
	challenge = "l4Mi_TUGFHQZuUGc4-8Wbmt70RCaSRb9_WBqQHw0jEs"
)

func TestSignInAsRedirectsWithCodeAndState(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")

	q := authorize(t, pool, authorizeParams(pool))

	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, q.Get("code"))
	assert.Equal(t, "st4te", q.Get("state"))
	assert.Empty(t, q.Get("error"))
}

func TestAuthorizeWithoutStateRedirectsWithoutState(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	params := authorizeParams(pool)
	params.Del("state")

	q := authorize(t, pool, params)

	assert.NotEmpty(t, q.Get("code"))
	assert.False(t, q.Has("state"))
}

func TestRedirectURIKeepsItsOwnQuery(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithRedirectURI("http://localhost/cb?app=1"))
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	params := authorizeParams(pool)
	params.Set("redirect_uri", "http://localhost/cb?app=1")

	resp, _ := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())

	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "1", loc.Query().Get("app"))
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestSignInAsAnUnknownUserSaysSo(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.SignInAs("ghost")

	resp, body := get(t, pool.URL()+"/oauth2/authorize?"+authorizeParams(pool).Encode())

	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Contains(t, body, "ghost")
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields reads the hidden fields of the sign-in form.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, v, "no hidden fields in %s", page)
	return v
}

func TestSignInFormPostsBackToLogin(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Password: "correct horse"})
	params := authorizeParams(pool)
	params.Set("nonce", "n0nce")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	params.Set("login_hint", "alice")

	resp, page := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())

	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, page, `<form method="post" action="/login">`)
	assert.Contains(t, page, `name="username" value="alice"`, "login_hint fills in the username")
	fields := formFields(t, page)
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		assert.Equal(t, params.Get(k), fields.Get(k), k)
	}

	t.Run("wrong password shows the form again", func(t *testing.T) {
		form := formFields(t, page)
		form.Set("username", "alice")
		form.Set("password", "wrong")
		resp, again := postForm(t, pool.URL()+"/login", form, "", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, again, "Incorrect username or password.")
		assert.Contains(t, again, `name="username" value="alice"`)
		assert.Equal(t, fields, formFields(t, again))
	})
	t.Run("unknown user shows the form again", func(t *testing.T) {
		form := formFields(t, page)
		form.Set("username", "bob")
		form.Set("password", "correct horse")
		_, again := postForm(t, pool.URL()+"/login", form, "", "")
		assert.Contains(t, again, "Incorrect username or password.")
	})
	t.Run("right password redirects with a code that carries the PKCE challenge", func(t *testing.T) {
		form := formFields(t, page)
		form.Set("username", "alice")
		form.Set("password", "correct horse")
		resp, _ := postForm(t, pool.URL()+"/login", form, "", "")
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "st4te", loc.Query().Get("state"))

		resp, tokens := exchange(t, pool, loc.Query().Get("code"), url.Values{"code_verifier": {verifier}})
		require.Equal(t, http.StatusOK, resp.StatusCode, tokens)
		claims := verify(t, pool, tokens["id_token"].(string))
		assert.Equal(t, "alice", claims["cognito:username"])
		assert.Equal(t, "n0nce", claims["nonce"])
	})
}

func TestUserWithoutPasswordCannotUseTheForm(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	form := authorizeParams(pool)
	form.Set("username", "alice")
	form.Set("password", "")

	resp, page := postForm(t, pool.URL()+"/login", form, "", "")

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "Incorrect username or password.")
}

func TestGetLoginWorksAsAuthorize(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})

	_, page := get(t, pool.URL()+"/login?"+authorizeParams(pool).Encode())
	assert.Contains(t, page, `action="/login"`)

	pool.SignInAs("alice")
	resp, _ := get(t, pool.URL()+"/login?"+authorizeParams(pool).Encode())
	assert.Equal(t, http.StatusFound, resp.StatusCode)

	pool.SignInAs("")
	_, page = get(t, pool.URL()+"/login?"+authorizeParams(pool).Encode())
	assert.Contains(t, page, `action="/login"`, "SignInAs(\"\") brings the form back")
}

func TestAuthorizeErrorsThatCannotRedirectShowAPage(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	for name, tc := range map[string]struct{ key, value string }{
		"missing client_id":         {"client_id", ""},
		"unknown client_id":         {"client_id", "someoneelse"},
		"missing redirect_uri":      {"redirect_uri", ""},
		"unregistered redirect_uri": {"redirect_uri", "http://evil.example/callback"},
		"redirect_uri prefix only":  {"redirect_uri", cognitotest.DefaultRedirectURI + "/more"},
	} {
		t.Run(name, func(t *testing.T) {
			params := authorizeParams(pool)
			params.Set(tc.key, tc.value)
			resp, page := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Contains(t, page, "An error was encountered")
		})
	}
}

func TestAuthorizeErrorsRedirectWithErrorAndState(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	for name, tc := range map[string]struct {
		set  map[string]string
		code string
	}{
		"missing response_type":     {map[string]string{"response_type": ""}, "invalid_request"},
		"implicit grant":            {map[string]string{"response_type": "token"}, "unauthorized_client"},
		"other response_type":       {map[string]string{"response_type": "id_token"}, "unsupported_response_type"},
		"scope not allowed":         {map[string]string{"scope": "openid admin/all"}, "invalid_scope"},
		"plain PKCE":                {map[string]string{"code_challenge": challenge, "code_challenge_method": "plain"}, "invalid_request"},
		"PKCE without method":       {map[string]string{"code_challenge": challenge}, "invalid_request"},
		"PKCE method without value": {map[string]string{"code_challenge_method": "S256"}, "invalid_request"},
		"malformed challenge":       {map[string]string{"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			params := authorizeParams(pool)
			for k, v := range tc.set {
				params.Set(k, v)
			}
			q := authorize(t, pool, params)
			assert.Equal(t, tc.code, q.Get("error"))
			assert.NotEmpty(t, q.Get("error_description"))
			assert.Equal(t, "st4te", q.Get("state"))
			assert.Empty(t, q.Get("code"))
		})
	}
}

func TestPKCEIsRequiredForAPublicClientOnly(t *testing.T) {
	for name, tc := range map[string]struct {
		opts     []cognitotest.Option
		required bool
	}{
		"confidential client":           {nil, false},
		"public client":                 {[]cognitotest.Option{cognitotest.WithPublicClient()}, true},
		"public client, not required":   {[]cognitotest.Option{cognitotest.WithPublicClient(), cognitotest.WithPKCERequired(false)}, false},
		"confidential client, required": {[]cognitotest.Option{cognitotest.WithPKCERequired(true)}, true},
	} {
		t.Run(name, func(t *testing.T) {
			pool := cognitotest.NewServer(t, tc.opts...)
			pool.AddUser(cognitotest.User{Username: "alice"})
			pool.SignInAs("alice")

			q := authorize(t, pool, authorizeParams(pool))

			if tc.required {
				assert.Equal(t, "invalid_request", q.Get("error"))
			} else {
				assert.NotEmpty(t, q.Get("code"))
			}
		})
	}
}

func TestAuthorizeRefusesPost(t *testing.T) {
	pool := cognitotest.NewServer(t)
	resp, _ := postForm(t, pool.URL()+"/oauth2/authorize", authorizeParams(pool), "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestLogout(t *testing.T) {
	pool := cognitotest.NewServer(t)
	for name, tc := range map[string]struct {
		query    url.Values
		status   int
		location string
	}{
		"registered logout_uri": {
			url.Values{"client_id": {cognitotest.DefaultClientID}, "logout_uri": {cognitotest.DefaultLogoutURI}},
			http.StatusFound, cognitotest.DefaultLogoutURI,
		},
		"unregistered logout_uri": {
			url.Values{"client_id": {cognitotest.DefaultClientID}, "logout_uri": {"http://evil.example/"}},
			http.StatusBadRequest, "",
		},
		"unknown client": {
			url.Values{"client_id": {"other"}, "logout_uri": {cognitotest.DefaultLogoutURI}},
			http.StatusBadRequest, "",
		},
		"neither logout_uri nor redirect_uri": {
			url.Values{"client_id": {cognitotest.DefaultClientID}},
			http.StatusBadRequest, "",
		},
		"redirect_uri signs in again": {
			url.Values{"client_id": {cognitotest.DefaultClientID}, "redirect_uri": {cognitotest.DefaultRedirectURI}, "response_type": {"code"}},
			http.StatusFound, "/oauth2/authorize?client_id=" + cognitotest.DefaultClientID + "&redirect_uri=" + url.QueryEscape(cognitotest.DefaultRedirectURI) + "&response_type=code",
		},
	} {
		t.Run(name, func(t *testing.T) {
			resp, _ := get(t, pool.URL()+"/logout?"+tc.query.Encode())
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.location, resp.Header.Get("Location"))
		})
	}
}

func TestLoginPostChecksTheAuthorizeParamsAgain(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	form := authorizeParams(pool)
	form.Set("username", "alice")
	form.Set("password", "pw")
	form.Set("redirect_uri", "http://evil.example/callback")

	resp, page := postForm(t, pool.URL()+"/login", form, "", "")

	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "redirect_mismatch")
}
