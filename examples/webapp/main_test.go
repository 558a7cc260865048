package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// grantLog records the grant_type of every token request the app sends.
type grantLog struct {
	mu     sync.Mutex
	grants []string
}

func (g *grantLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && strings.HasSuffix(req.URL.Path, "/oauth2/token") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			g.mu.Lock()
			g.grants = append(g.grants, form.Get("grant_type"))
			g.mu.Unlock()
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (g *grantLog) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.grants...)
}

// cookieLog records the cookies that responses from one host set.
type cookieLog struct {
	base http.RoundTripper
	host string
	mu   sync.Mutex
	set  []*http.Cookie
}

func (c *cookieLog) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.base.RoundTrip(req)
	if err == nil && req.URL.Host == c.host {
		c.mu.Lock()
		c.set = append(c.set, res.Cookies()...)
		c.mu.Unlock()
	}
	return res, err
}

func (c *cookieLog) named(name string) []*http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*http.Cookie
	for _, k := range c.set {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

type testApp struct {
	url     string
	pool    *cognitotest.Server
	clock   *cognitotest.Clock
	browser *http.Client
	cookies *cookieLog
	grants  *grantLog
}

const tokenLifetime = time.Hour

func startApp(t *testing.T, tls bool, opts ...appOption) *testApp {
	t.Helper()
	return startAppOnPool(t, tls, nil, opts...)
}

// startAppOnPool is startApp with more options for the fake pool.
func startAppOnPool(t *testing.T, tls bool, poolOpts []cognitotest.Option, opts ...appOption) *testApp {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	scheme := "http"
	if tls {
		scheme = "https"
	}
	a := &testApp{
		url:    scheme + "://" + srv.Listener.Addr().String(),
		clock:  cognitotest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		grants: &grantLog{},
	}
	a.pool = cognitotest.NewServer(t, append([]cognitotest.Option{
		cognitotest.WithClock(a.clock.Now),
		cognitotest.WithRedirectURI(a.url + "/callback"),
		cognitotest.WithLogoutURI(a.url + "/"),
		cognitotest.WithTokenLifetimes(tokenLifetime, 0),
	}, poolOpts...)...)
	a.pool.AddUser(cognitotest.User{
		Username: "demo", Password: "demo-password", Email: "demo@example.com", EmailVerified: true,
		Groups: []string{"demo-users"}, ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"},
	})
	h, err := newApp(a.pool.Config(), append([]appOption{
		withClock(a.clock.Now),
		withHTTPClient(&http.Client{Transport: a.grants, Timeout: 10 * time.Second}),
		withLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)...)
	require.NoError(t, err)
	srv.Config.Handler = h
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	a.cookies = &cookieLog{base: srv.Client().Transport, host: srv.Listener.Addr().String()}
	a.browser = &http.Client{Jar: jar, Transport: a.cookies, Timeout: 10 * time.Second}
	return a
}

// do sends a request and returns the final response and its body.
func (a *testApp) do(t *testing.T, method, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := a.browser.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// get loads a page as a browser navigation does, so that a signed-out user
// is sent to sign in rather than answered 401.
func (a *testApp) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return a.do(t, http.MethodGet, a.url+path, nil, http.Header{"Accept": {"text/html"}})
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	accessToken = regexp.MustCompile(`data-access-token="([^"]+)"`)
	emailCell   = regexp.MustCompile(`<td id="email">([^<]*)</td>`)
	expiryCell  = regexp.MustCompile(`<td id="expiry">([^<]*)</td>`)
)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	require.NotNil(t, m, "%s not in the page:\n%s", re, body)
	return html.UnescapeString(m[1])
}

// signIn goes from the home page through the fake hosted UI's form to the
// profile page, and returns that page.
func (a *testApp) signIn(t *testing.T) string {
	t.Helper()
	res, body := a.get(t, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `<a href="/login" id="sign-in" class="button">Sign in</a>`)

	res, body = a.get(t, "/login")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Request.URL.String(), a.pool.URL()+"/oauth2/authorize?"), "on the hosted UI: %s", res.Request.URL)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, form.Get("state"))
	require.NotEmpty(t, form.Get("code_challenge"))
	form.Set("username", "demo")
	form.Set("password", "demo-password")
	action, err := res.Request.URL.Parse(match(t, formAction, body))
	require.NoError(t, err)

	res, body = a.do(t, http.MethodPost, action.String(), form, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, a.url+"/profile", res.Request.URL.String())
	return body
}

func (a *testApp) callAPI(t *testing.T, token string) (int, string, http.Header) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	res, body := a.do(t, http.MethodGet, a.url+"/api/me", nil, h)
	return res.StatusCode, body, res.Header
}

func TestWebAppEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		name          string
		tls           bool
		sessionCookie string
	}{
		{"http", false, "cognito-session"},
		{"https", true, "__Host-cognito-session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, tt.tls)

			// Sign in through the hosted UI's form.
			page := a.signIn(t)
			assert.Equal(t, "demo@example.com", match(t, emailCell, page))
			assert.Contains(t, page, `<td id="groups">demo-users</td>`)
			assert.Contains(t, match(t, expiryCell, page), "2030-01-02 04:04:05 UTC")
			assert.Contains(t, page, `id="sign-out"`)
			assert.Equal(t, []string{"authorization_code"}, a.grants.list())

			set := a.cookies.named(tt.sessionCookie)
			require.Len(t, set, 1, "one session cookie, set by the callback")
			assert.True(t, set[0].HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, set[0].SameSite)
			assert.Equal(t, tt.tls, set[0].Secure)
			assert.Len(t, set[0].Value, 43, "an opaque random ID, not a token")

			// The API, with the access token the page carries.
			token := match(t, accessToken, page)
			status, body, _ := a.callAPI(t, token)
			require.Equal(t, http.StatusOK, status, body)
			var me struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &me))
			assert.Equal(t, "demo", me.Username)
			assert.Equal(t, []string{"demo-users"}, me.Groups)
			status, _, h := a.callAPI(t, "")
			assert.Equal(t, http.StatusUnauthorized, status)
			assert.Equal(t, `Bearer realm="webapp"`, h.Get("WWW-Authenticate"))

			// The tokens expire; the page is still served, after a refresh.
			signIns := a.pool.Requests(cognitotest.EndpointAuthorize) + a.pool.Requests(cognitotest.EndpointLogin)
			a.clock.Advance(tokenLifetime + time.Minute)
			res, page := a.get(t, "/profile")
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, a.url+"/profile", res.Request.URL.String(), "no detour through the hosted UI")
			assert.Equal(t, "demo@example.com", match(t, emailCell, page))
			assert.Contains(t, match(t, expiryCell, page), "2030-01-02 05:05:05 UTC")
			assert.Equal(t, []string{"authorization_code", "refresh_token"}, a.grants.list())
			assert.Equal(t, signIns, a.pool.Requests(cognitotest.EndpointAuthorize)+a.pool.Requests(cognitotest.EndpointLogin))

			status, _, h = a.callAPI(t, token)
			assert.Equal(t, http.StatusUnauthorized, status, "the first access token has expired")
			assert.Equal(t, `Bearer realm="webapp", error="invalid_token"`, h.Get("WWW-Authenticate"))
			fresh := match(t, accessToken, page)
			status, body, _ = a.callAPI(t, fresh)
			assert.Equal(t, http.StatusOK, status, body)

			// Sign out: the refresh token is revoked, the access token listed
			// as revoked, the hosted UI's session ended, and the browser is
			// back home.
			res, body = a.do(t, http.MethodPost, a.url+"/logout", url.Values{}, nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, a.url+"/", res.Request.URL.String())
			assert.Contains(t, body, `id="sign-in"`)
			assert.Equal(t, 1, a.pool.Requests(cognitotest.EndpointRevoke))
			assert.Equal(t, 1, a.pool.Requests(cognitotest.EndpointLogout))
			status, _, h = a.callAPI(t, fresh)
			assert.Equal(t, http.StatusUnauthorized, status, "the API refuses the signed-out access token before it expires")
			assert.Equal(t, `Bearer realm="webapp", error="invalid_token"`, h.Get("WWW-Authenticate"))

			// The profile is gone with the session: the browser is sent to sign in.
			res, _ = a.get(t, "/profile")
			assert.True(t, strings.HasPrefix(res.Request.URL.String(), a.pool.URL()+"/oauth2/authorize?"),
				"to the hosted UI: %s", res.Request.URL)
		})
	}
}

func TestWebAppSignedOutRequests(t *testing.T) {
	a := startApp(t, false)
	noFollow := &http.Client{
		Transport:     a.browser.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	get := func(path string, header http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
		require.NoError(t, err)
		req.Header = header
		res, err := noFollow.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}

	res := get("/profile", http.Header{"Sec-Fetch-Mode": {"navigate"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "a page navigation goes to sign in")
	assert.Equal(t, "/login?return_to=%2Fprofile", res.Header.Get("Location"))

	res = get("/profile", http.Header{"Sec-Fetch-Mode": {"cors"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a script gets 401")

	res = get("/profile", http.Header{"Cookie": {"cognito-session=" + strings.Repeat("A", 43)}, "Accept": {"text/html"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "an unknown session ID is a signed-out user, not an error")

	res = get("/api/me", http.Header{"Authorization": {"Bearer not-a-token"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken))
}

func TestWebAppSessionEndsWhenRefreshTokenExpires(t *testing.T) {
	const refreshLifetime = 3 * time.Hour
	a := startAppOnPool(t, false,
		[]cognitotest.Option{cognitotest.WithTokenLifetimes(tokenLifetime, refreshLifetime)},
		withSessionOptions(cognito.WithRefreshRaceWait(0)))
	a.signIn(t)

	a.clock.Advance(refreshLifetime + time.Hour)
	res, _ := a.get(t, "/profile")

	assert.True(t, strings.HasPrefix(res.Request.URL.String(), a.pool.URL()+"/oauth2/authorize?"),
		"back to the hosted UI to sign in again, not an error: %s", res.Request.URL)
	assert.Equal(t, []string{"authorization_code", "refresh_token"}, a.grants.list())
	res, _ = a.do(t, http.MethodGet, a.url+"/profile", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the session was dropped")
}

func TestWebAppCallbackErrors(t *testing.T) {
	a := startApp(t, false)

	res, body := a.get(t, "/callback?code=abc&state="+strings.Repeat("A", 43))

	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Sign in again")
	assert.NotContains(t, body, "abc")
	assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken))
}

func TestWebAppEscapesClaims(t *testing.T) {
	a := startApp(t, false)
	a.pool.AddUser(cognitotest.User{
		Username: "mallory", Email: `<script>alert("x")</script>@example.com`,
		Groups: []string{`"><img src=x onerror=alert(1)>`},
	})
	a.pool.SignInAs("mallory")

	res, body := a.get(t, "/login")

	require.Equal(t, a.url+"/profile", res.Request.URL.String(), "without return_to, sign-in lands on the profile")
	assert.NotContains(t, body, "<script>alert")
	assert.NotContains(t, body, "<img")
	assert.Contains(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;@example.com")
}

func TestWebAppHeaders(t *testing.T) {
	a := startApp(t, false)

	res, _ := a.get(t, "/")

	assert.Equal(t, "default-src 'self'; frame-ancestors 'none'; form-action 'self' "+a.pool.URL(), res.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	res, _ = a.do(t, http.MethodPost, a.url+"/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a cross-site sign-out is refused")
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"COGNITO_REGION":        "eu-west-1",
		"COGNITO_USER_POOL_ID":  "eu-west-1_AbCdEf123",
		"COGNITO_CLIENT_ID":     "client",
		"COGNITO_CLIENT_SECRET": "secret",
		"COGNITO_DOMAIN":        "https://example.auth.eu-west-1.amazoncognito.com",
		"COGNITO_REDIRECT_URI":  "https://app.example.com/callback",
		"COGNITO_LOGOUT_URI":    "https://app.example.com/",
		"COGNITO_ISSUER":        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
	}
	cfg, ok := configFromEnv(func(k string) string { return env[k] })
	require.True(t, ok)
	assert.Equal(t, "eu-west-1", cfg.Region)
	assert.Equal(t, "eu-west-1_AbCdEf123", cfg.UserPoolID)
	assert.Equal(t, "client", cfg.ClientID)
	assert.Equal(t, "secret", cfg.ClientSecret)
	assert.Equal(t, "https://example.auth.eu-west-1.amazoncognito.com", cfg.Domain)
	assert.Equal(t, "https://app.example.com/callback", cfg.RedirectURI)
	assert.Equal(t, "https://app.example.com/", cfg.LogoutURI)
	assert.Equal(t, env["COGNITO_ISSUER"], cfg.Issuer)
	require.NoError(t, cfg.Validate())

	_, ok = configFromEnv(func(string) string { return "" })
	assert.False(t, ok, "no variables: the demo pool")
}

func TestRunPrintsItsURL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{lines: make(chan string, 10)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", "", func(string) string { return "" }, out) }()

	var appURL string
	for appURL == "" {
		select {
		case line := <-out.lines:
			if u, ok := strings.CutPrefix(line, "webapp: listening on "); ok {
				appURL = u
			}
		case err := <-done:
			require.FailNow(t, "run returned early", "%v", err)
		case <-time.After(30 * time.Second):
			require.FailNow(t, "no URL printed")
		}
	}
	res, err := http.Get(appURL + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	cancel()
	require.NoError(t, <-done)
}

// lineWriter sends each line written to it on lines.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func TestDisplayAddr(t *testing.T) {
	for _, tt := range []struct{ flag, listener, want string }{
		{"127.0.0.1:0", "127.0.0.1:41234", "127.0.0.1:41234"},
		{"localhost:8080", "127.0.0.1:8080", "localhost:8080"},
		{":8080", "[::]:8080", "localhost:8080"},
		{"0.0.0.0:8080", "0.0.0.0:8080", "localhost:8080"},
		{"[::1]:0", "[::1]:41234", "[::1]:41234"},
	} {
		t.Run(tt.flag, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.listener)
			require.NoError(t, err)
			assert.Equal(t, tt.want, displayAddr(tt.flag, addr))
		})
	}
}

func TestEmulatorFromEnv(t *testing.T) {
	local := map[string]string{
		"COGNITO_USER_POOL_ID": "local_abc", "COGNITO_CLIENT_ID": "client",
		"COGNITO_DOMAIN": "http://127.0.0.1:9229", "COGNITO_ISSUER": "http://127.0.0.1:9229/local_abc",
	}
	with := func(env map[string]string, k, v string) func(string) string {
		return func(key string) string {
			if key == k {
				return v
			}
			return env[key]
		}
	}
	for _, tt := range []struct {
		name    string
		getenv  func(string) string
		want    bool
		wantErr string
	}{
		{"unset", with(local, "", ""), false, ""},
		{"0", with(local, "COGNITO_EMULATOR", "0"), false, ""},
		{"1 on loopback", with(local, "COGNITO_EMULATOR", "1"), true, ""},
		{"yes", with(local, "COGNITO_EMULATOR", "yes"), false, "must be 1"},
		{"1 without a pool", with(nil, "COGNITO_EMULATOR", "1"), false, "needs the emulator's COGNITO_* variables"},
		{"1 with a real domain", with(map[string]string{
			"COGNITO_EMULATOR": "1", "COGNITO_USER_POOL_ID": "us-east-1_AbCdEf123", "COGNITO_CLIENT_ID": "client",
			"COGNITO_DOMAIN": "https://myapp.auth.us-east-1.amazoncognito.com",
		}, "", ""), false, "is not a loopback URL"},
		{"1 with a real domain, its password hidden", with(map[string]string{
			"COGNITO_EMULATOR": "1", "COGNITO_USER_POOL_ID": "us-east-1_AbCdEf123", "COGNITO_CLIENT_ID": "client",
			"COGNITO_DOMAIN": "https://alice:s3cret@myapp.auth.us-east-1.amazoncognito.com",
		}, "", ""), false, `COGNITO_DOMAIN "https://alice:xxxxx@myapp.auth.us-east-1.amazoncognito.com" is not a loopback URL`},
		{"1 with a bare host", with(map[string]string{
			"COGNITO_EMULATOR": "1", "COGNITO_USER_POOL_ID": "local_abc", "COGNITO_CLIENT_ID": "client",
			"COGNITO_DOMAIN": "localhost:9229", "COGNITO_ISSUER": "http://localhost:9229/local_abc",
		}, "", ""), false, "is not a loopback URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, fromEnv := configFromEnv(tt.getenv)
			got, err := emulatorFromEnv(tt.getenv, cfg, fromEnv)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "s3cret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRunRefusesTheEmulatorModeForARealPool(t *testing.T) {
	env := map[string]string{
		"COGNITO_EMULATOR": "1", "COGNITO_USER_POOL_ID": "us-east-1_AbCdEf123", "COGNITO_CLIENT_ID": "client",
		"COGNITO_DOMAIN": "https://myapp.auth.us-east-1.amazoncognito.com",
	}
	var out bytes.Buffer

	err := run(context.Background(), "127.0.0.1:0", "", func(k string) string { return env[k] }, &out)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "COGNITO_EMULATOR=1 is refused")
	assert.NotContains(t, out.String(), "listening on", "it refused before serving")
}

func TestWebAppEmulatorSignsOutWithoutTheHostedUI(t *testing.T) {
	a := startApp(t, false, withEmulator())
	a.signIn(t)

	res, body := a.do(t, http.MethodPost, a.url+"/logout", url.Values{}, nil)

	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, a.url+"/", res.Request.URL.String(), "straight back home")
	assert.Contains(t, body, `id="sign-in"`)
	assert.Equal(t, 1, a.pool.Requests(cognitotest.EndpointRevoke), "revocation is still tried")
	assert.Zero(t, a.pool.Requests(cognitotest.EndpointLogout), "the emulator has no /logout")
	res, _ = a.do(t, http.MethodGet, a.url+"/profile", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the session is gone")
}

func TestWebAppLoginReturnTo(t *testing.T) {
	for _, tt := range []struct{ query, want string }{
		{"", "/profile"},
		{"?return_to=%2F", "/"},
		{"?return_to=%2Fprofile%3Fx%3D1", "/profile?x=1"},
		{"?return_to=https%3A%2F%2Fevil.example%2F", "/"},
		{"?return_to=%2F%2Fevil.example", "/"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			a := startApp(t, false)
			a.pool.SignInAs("demo")

			res, _ := a.get(t, "/login"+tt.query)

			assert.Equal(t, a.url+tt.want, res.Request.URL.String())
		})
	}
}
