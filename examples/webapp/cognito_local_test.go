//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// TestWebAppAgainstCognitoLocal drives the app, in emulator mode, through
// cognito-local's own sign-in form with a cookie-jar client: home, sign in,
// profile, a refresh, sign out, home. scripts/cognito-local runs it:
//
//	scripts/cognito-local run -- go test -tags integration -run CognitoLocal ./examples/webapp
//
// The test registers an app client of its own, whose callback is the app's
// loopback URL. Its tokens first live five minutes; before the app's clock is
// moved past that, the client is switched to a day, so that the refreshed
// tokens, dated by the emulator's real clock, are valid on the app's.
func TestWebAppAgainstCognitoLocal(t *testing.T) {
	emu := os.Getenv("COGNITO_LOCAL_URL")
	if emu == "" {
		if os.Getenv("COGNITO_LOCAL_REQUIRED") == "1" {
			require.FailNow(t, "COGNITO_LOCAL_URL is not set")
		}
		t.Skip("cognito-local is not running; see scripts/cognito-local")
	}
	poolID := os.Getenv("COGNITO_POOL_ID")
	username, password, email := os.Getenv("COGNITO_USERNAME"), os.Getenv("COGNITO_PASSWORD"), os.Getenv("COGNITO_EMAIL")
	require.NotEmpty(t, poolID)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	appURL := "http://" + ln.Addr().String()
	client := emulatorAPI(t, emu, "CreateUserPoolClient", map[string]any{
		"UserPoolId": poolID, "ClientName": "webapp-emulator-test", "GenerateSecret": true,
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"},
		"AllowedOAuthScopes": []string{"openid", "email", "profile"}, "SupportedIdentityProviders": []string{"COGNITO"},
		"CallbackURLs": []string{appURL + "/callback"}, "LogoutURLs": []string{appURL + "/"},
		"IdTokenValidity": 5, "AccessTokenValidity": 5,
		"TokenValidityUnits": map[string]string{"IdToken": "minutes", "AccessToken": "minutes"},
	})["UserPoolClient"].(map[string]any)
	clientID := client["ClientId"].(string)

	env := map[string]string{
		"COGNITO_EMULATOR":      "1",
		"COGNITO_USER_POOL_ID":  poolID,
		"COGNITO_CLIENT_ID":     clientID,
		"COGNITO_CLIENT_SECRET": client["ClientSecret"].(string),
		"COGNITO_DOMAIN":        emu,
		"COGNITO_ISSUER":        os.Getenv("COGNITO_ISSUER"),
	}
	clk := cognitotest.NewClock(time.Now())
	grants := &grantLog{}
	var out syncBuffer // serve writes its "listening on" line while the test reads
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, ln, ln.Addr().String(), "", func(k string) string { return env[k] }, &out,
			withClock(clk.Now),
			withHTTPClient(&http.Client{Transport: grants, Timeout: 10 * time.Second}),
			withLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		res, err := browser.Get(u)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}

	// Home, signed out.
	res, body := get(appURL + "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `id="sign-in"`)
	assert.Contains(t, out.String(), "COGNITO_EMULATOR=1", "the app says once what it skips")

	// Sign in through cognito-local's own form.
	res, body = get(appURL + "/login?return_to=%2Fprofile")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Request.URL.String(), emu+"/oauth2/authorize"), "on the emulator's form: %s", res.Request.URL)
	form := url.Values{}
	for _, m := range emulatorHidden.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, form.Get("state"), "the form carries the login's state:\n%s", body)
	form.Set("username", username)
	form.Set("password", password)
	res, err = browser.PostForm(res.Request.URL.String(), form)
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(page))
	require.Equal(t, appURL+"/profile", res.Request.URL.String())
	assert.Equal(t, email, match(t, emailCell, string(page)), "the profile shows the user")
	assert.Equal(t, []string{"authorization_code"}, grants.list())

	// The tokens expire; the profile is served again after a refresh.
	emulatorAPI(t, emu, "UpdateUserPoolClient", map[string]any{
		"UserPoolId": poolID, "ClientId": clientID,
		"IdTokenValidity": 24, "AccessTokenValidity": 24,
		"TokenValidityUnits": map[string]string{"IdToken": "hours", "AccessToken": "hours"},
	})
	clk.Advance(10 * time.Minute)
	res, body = get(appURL + "/profile")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, appURL+"/profile", res.Request.URL.String(), "no detour through sign-in")
	assert.Equal(t, email, match(t, emailCell, body))
	assert.Equal(t, []string{"authorization_code", "refresh_token"}, grants.list())

	// Sign out: the emulator has no /oauth2/revoke or /logout; the app's
	// session ends and the browser lands on the app's home page.
	res, err = browser.PostForm(appURL+"/logout", url.Values{})
	require.NoError(t, err)
	body2, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, appURL+"/", res.Request.URL.String())
	assert.Contains(t, string(body2), `id="sign-in"`)
	res, _ = get(appURL + "/profile")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "signed out")
}

// syncBuffer is a bytes.Buffer that serve may write while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// emulatorHidden matches the hidden inputs of cognito-local's sign-in form.
var emulatorHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"\s*/?>`)

// emulatorAPI calls one action of cognito-local's JSON API.
func emulatorAPI(t *testing.T, base, target string, req map[string]any) map[string]any {
	t.Helper()
	body, err := json.Marshal(req)
	require.NoError(t, err)
	r, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+target)
	res, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, fmt.Sprintf("%s: %s", target, out))
	var v map[string]any
	require.NoError(t, json.Unmarshal(out, &v))
	return v
}
