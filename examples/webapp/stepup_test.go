package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	greeting = regexp.MustCompile(`<h1 id="greeting">([^<]*)</h1>`)
	acrCell  = regexp.MustCompile(`<td id="acr">([^<]*)</td>`)
	amrCell  = regexp.MustCompile(`<td id="amr">([^<]*)</td>`)
)

func TestWebAppHomeGreetsASignedInUser(t *testing.T) {
	a := startApp(t, false)
	a.signIn(t)
	res, body := a.get(t, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Hello, demo@example.com", match(t, greeting, body))
	assert.Contains(t, body, `id="sign-out"`)
	assert.NotContains(t, body, `id="sign-in"`)

	// Signed out again: the same page, for everyone.
	res, body = a.do(t, http.MethodPost, a.url+"/logout", url.Values{}, http.Header{"Origin": {a.url}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, body = a.get(t, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `id="sign-in"`)
	assert.NotContains(t, body, `id="greeting"`)
}

// hostedUIForm reads the fake hosted UI's sign-in form: its hidden fields
// and where it posts.
func hostedUIForm(t *testing.T, res *http.Response, body string) (url.Values, string) {
	t.Helper()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	action, err := res.Request.URL.Parse(match(t, formAction, body))
	require.NoError(t, err)
	return form, action.String()
}

func TestWebAppSecuritySettingsStepUp(t *testing.T) {
	a := startApp(t, false)
	a.signIn(t) // an ordinary sign-in: no level

	res, body := a.get(t, "/settings")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Request.URL.String(), a.pool.URL()+"/oauth2/authorize?"), "back on the hosted UI: %s", res.Request.URL)
	q := res.Request.URL.Query()
	assert.Equal(t, "urn:cognito:loa:2", q.Get("acr_values"))
	assert.Equal(t, "300", q.Get("max_age"))
	assert.Equal(t, "demo", q.Get("login_hint"))

	form, action := hostedUIForm(t, res, body)
	form.Set("username", "demo")
	form.Set("password", "demo-password")
	res, body = a.do(t, http.MethodPost, action, form, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, a.url+"/settings", res.Request.URL.String(), "back on the page")
	assert.Equal(t, "urn:cognito:loa:2", match(t, acrCell, body))
	assert.Equal(t, "pwd, otp, mfa", match(t, amrCell, body))

	// Five minutes later the page asks again; other pages do not.
	a.clock.Advance(5*time.Minute + time.Second)
	res, _ = a.get(t, "/profile")
	assert.Equal(t, a.url+"/profile", res.Request.URL.String())
	res, _ = a.get(t, "/settings")
	assert.True(t, strings.HasPrefix(res.Request.URL.String(), a.pool.URL()+"/oauth2/authorize?"), res.Request.URL.String())

	// A script's call gets RFC 9470's challenge.
	res, _ = a.do(t, http.MethodGet, a.url+"/settings", nil, http.Header{"Sec-Fetch-Mode": {"cors"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", acr_values="urn:cognito:loa:2", max_age="300"`,
		res.Header.Get("WWW-Authenticate"))
}
