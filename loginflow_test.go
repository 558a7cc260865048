package cognito_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// loginApp is an app that signs users in with a LoginFlow at /login and
// /callback, against a fake pool, and a browser with a cookie jar.
type loginApp struct {
	pool    *cognitotest.Server
	flow    *cognito.LoginFlow
	url     string
	browser *http.Client // follows redirects
	results chan loginResult
}

type loginResult struct {
	tokens *cognito.Tokens
	id     *cognito.IDToken
	err    error
}

func newLoginApp(t *testing.T, poolOpts ...cognitotest.Option) *loginApp {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	a := &loginApp{url: "http://" + srv.Listener.Addr().String(), results: make(chan loginResult, 1)}
	a.pool = cognitotest.NewServer(t, append([]cognitotest.Option{cognitotest.WithRedirectURI(a.url + "/callback")}, poolOpts...)...)
	a.pool.AddUser(cognitotest.User{Username: "alice", Password: "pw", Email: "alice@example.com", EmailVerified: true, Groups: []string{"admins"}})
	a.pool.SignInAs("alice")
	cfg := a.pool.Config()
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	verifier, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	a.flow = &cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		var opts []cognito.AuthOption
		if s := r.URL.Query().Get("scope"); s != "" {
			opts = append(opts, cognito.WithScopes(strings.Fields(s)...))
		}
		if err := a.flow.Start(w, r, opts...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		tokens, id, err := a.flow.Finish(w, r)
		a.results <- loginResult{tokens, id, err}
		if err != nil {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "signed in")
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	a.browser = &http.Client{Jar: jar}
	return a
}

// get fetches u and returns the final response's status.
func (a *loginApp) get(t *testing.T, c *http.Client, u string) (int, http.Header) {
	t.Helper()
	res, err := c.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header
}

// callback returns the result of the callback request the last get ended on.
func (a *loginApp) callback(t *testing.T) loginResult {
	t.Helper()
	select {
	case r := <-a.results:
		return r
	default:
		require.FailNow(t, "the callback was not reached")
		return loginResult{}
	}
}

// noFollow is the same browser, stopping at each redirect.
func (a *loginApp) noFollow() *http.Client {
	return &http.Client{Jar: a.browser.Jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// startLogin runs a login up to the hosted UI's redirect to the callback and
// returns that callback URL, not yet visited.
func (a *loginApp) startLogin(t *testing.T) string {
	t.Helper()
	c := a.noFollow()
	status, h := a.get(t, c, a.url+"/login")
	require.Equal(t, http.StatusFound, status)
	status, h = a.get(t, c, h.Get("Location"))
	require.Equal(t, http.StatusFound, status)
	return h.Get("Location")
}

// loginCookies are the browser's login cookies: "cognito-login-..." on this
// plain-http loopback app, but any default name counts.
func (a *loginApp) loginCookies() []*http.Cookie {
	u, _ := url.Parse(a.url)
	var out []*http.Cookie
	for _, c := range a.browser.Jar.Cookies(u) {
		if strings.Contains(c.Name, cognito.DefaultInsecureLoginCookieName+"-") {
			out = append(out, c)
		}
	}
	return out
}

func TestLoginFlow(t *testing.T) {
	a := newLoginApp(t)

	status, _ := a.get(t, a.browser, a.url+"/login")

	require.Equal(t, http.StatusOK, status)
	r := a.callback(t)
	require.NoError(t, r.err)
	assert.Equal(t, "alice@example.com", r.id.Email)
	assert.Equal(t, "alice", r.id.Username)
	assert.Equal(t, []string{"admins"}, r.id.Groups)
	assert.NotEmpty(t, r.id.Nonce)
	assert.NotEmpty(t, r.tokens.AccessToken)
	assert.NotEmpty(t, r.tokens.RefreshToken)
	assert.Empty(t, a.loginCookies(), "the login cookie is gone once used")
	assert.Equal(t, 1, a.pool.Requests(cognitotest.EndpointToken))
}

func TestLoginFlowStartCookieAndRedirect(t *testing.T) {
	a := newLoginApp(t)
	const https, loopback = "https://app.example.com/callback", "http://localhost:8080/callback"
	for _, tt := range []struct {
		name        string
		flow        cognito.LoginFlow
		redirectURI string
		cookieName  string
		secure      bool
		path        string
		maxAge      int
	}{
		{"defaults", cognito.LoginFlow{}, https, "__Host-cognito-login-", true, "/", 600},
		{"insecure", cognito.LoginFlow{InsecureCookie: true}, https, "cognito-login-", false, "/", 600},
		{"plain http on loopback", cognito.LoginFlow{}, loopback, "cognito-login-", false, "/", 600},
		{"plain http on 127.0.0.1", cognito.LoginFlow{}, "http://127.0.0.1:8080/callback", "cognito-login-", false, "/", 600},
		{"own path", cognito.LoginFlow{CookiePath: "/auth"}, https, "__Secure-cognito-login-", true, "/auth", 600},
		{"own path, plain http on loopback", cognito.LoginFlow{CookiePath: "/auth"}, loopback, "cognito-login-", false, "/auth", 600},
		{"own name and age", cognito.LoginFlow{CookieName: "__Host-login", MaxAge: 90e9}, https, "__Host-login-", true, "/", 90},
		{"own name and path", cognito.LoginFlow{CookieName: "__Secure-login", CookiePath: "/auth"}, https, "__Secure-login-", true, "/auth", 600},
		{"own name, insecure", cognito.LoginFlow{CookieName: "login", InsecureCookie: true}, https, "login-", false, "/", 600},
		{"an age under a second is one second, not a session cookie", cognito.LoginFlow{MaxAge: 1e6}, https, "__Host-cognito-login-", true, "/", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			flow := tt.flow
			flow.Config = a.flow.Config
			flow.Config.RedirectURI = tt.redirectURI
			rec := httptest.NewRecorder()

			require.NoError(t, flow.Start(rec, httptest.NewRequest(http.MethodGet, "/login", nil)))

			assert.Equal(t, http.StatusFound, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			loc, err := url.Parse(rec.Header().Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, a.pool.URL()+"/oauth2/authorize", loc.Scheme+"://"+loc.Host+loc.Path)
			q := loc.Query()
			assert.Len(t, q.Get("state"), 43)
			assert.Len(t, q.Get("nonce"), 43)
			assert.Len(t, q.Get("code_challenge"), 43)
			assert.Equal(t, "S256", q.Get("code_challenge_method"))

			cookies := rec.Result().Cookies()
			require.Len(t, cookies, 1)
			c := cookies[0]
			assert.Equal(t, tt.cookieName+q.Get("state")[:16], c.Name)
			assert.True(t, c.HttpOnly)
			assert.Equal(t, tt.secure, c.Secure)
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
			assert.Equal(t, tt.path, c.Path)
			assert.Equal(t, tt.maxAge, c.MaxAge)
			assert.Empty(t, c.Domain)
			assert.NotContains(t, c.Value, q.Get("code_challenge"))
		})
	}
}

func TestLoginFlowStartsAFreshLoginEachTime(t *testing.T) {
	a := newLoginApp(t)
	seen := map[string]bool{}
	for range 3 {
		rec := httptest.NewRecorder()
		require.NoError(t, a.flow.Start(rec, httptest.NewRequest(http.MethodGet, "/login", nil)))
		loc, err := url.Parse(rec.Header().Get("Location"))
		require.NoError(t, err)
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := loc.Query().Get(k)
			assert.False(t, seen[v], "%s repeats", k)
			seen[v] = true
		}
	}
}

func TestLoginFlowStartWithBadConfig(t *testing.T) {
	a := newLoginApp(t)
	flow := *a.flow
	flow.Config.RedirectURI = ""
	rec := httptest.NewRecorder()

	err := flow.Start(rec, httptest.NewRequest(http.MethodGet, "/login", nil))

	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.Empty(t, rec.Header(), "nothing is written on error")
}

// TestLoginFlowRefusesCookieNamesThatLoseTheirPrefix: a CookieName that
// breaks the rule of the cookies' names is refused by Start, which writes
// nothing, and by Finish, before the callback is read.
func TestLoginFlowRefusesCookieNamesThatLoseTheirPrefix(t *testing.T) {
	a := newLoginApp(t)
	const https, loopback = "https://app.example.com/callback", "http://localhost:8080/callback"
	for _, tt := range []struct {
		name, redirectURI, want string
		flow                    cognito.LoginFlow
	}{
		{"no prefix, Secure on /", https, `"__Host-myapp-login"`, cognito.LoginFlow{CookieName: "myapp-login"}},
		{"__Secure- on /", https, `"__Host-myapp-login"`, cognito.LoginFlow{CookieName: "__Secure-myapp-login"}},
		{"__Host- in lower case", https, `"__Host-myapp-login"`, cognito.LoginFlow{CookieName: "__host-myapp-login"}},
		{"no prefix, Secure on /auth", https, `"__Secure-myapp-login"`, cognito.LoginFlow{CookieName: "myapp-login", CookiePath: "/auth"}},
		{"__Host- on /auth", https, `"__Secure-myapp-login"`, cognito.LoginFlow{CookieName: "__Host-myapp-login", CookiePath: "/auth"}},
		{"__Host- without Secure", https, "needs a Secure cookie", cognito.LoginFlow{CookieName: "__Host-myapp-login", InsecureCookie: true}},
		{"__Secure- on plain http on loopback", loopback, "needs a Secure cookie", cognito.LoginFlow{CookieName: "__Secure-myapp-login"}},
		{"__SECURE- on plain http on loopback", loopback, "needs a Secure cookie", cognito.LoginFlow{CookieName: "__SECURE-myapp-login"}},
		{"not a cookie name", https, "not a valid cookie name", cognito.LoginFlow{CookieName: "__Host-my app"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			flow := tt.flow
			flow.Config, flow.Client, flow.Verifier = a.flow.Config, a.flow.Client, a.flow.Verifier
			flow.Config.RedirectURI = tt.redirectURI
			rec := httptest.NewRecorder()

			err := flow.Start(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
			require.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, rec.Header(), "nothing is written on error")

			_, _, err = flow.Finish(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/callback?state=x", nil))
			require.ErrorIs(t, err, cognito.ErrInvalidConfig)
		})
	}
}

func TestLoginFlowTwoTabs(t *testing.T) {
	a := newLoginApp(t)
	first := a.startLogin(t)
	second := a.startLogin(t)
	require.Len(t, a.loginCookies(), 2)

	for _, cb := range []string{second, first} {
		a.get(t, a.browser, cb)
		r := a.callback(t)
		require.NoError(t, r.err)
		assert.Equal(t, "alice@example.com", r.id.Email)
	}
	assert.Empty(t, a.loginCookies())
}

func TestLoginFlowReplayedCallback(t *testing.T) {
	t.Run("by the browser", func(t *testing.T) {
		a := newLoginApp(t)
		cb := a.startLogin(t)
		a.get(t, a.browser, cb)
		require.NoError(t, a.callback(t).err)

		status, _ := a.get(t, a.browser, cb)

		assert.Equal(t, http.StatusBadRequest, status)
		assert.ErrorIs(t, a.callback(t).err, cognito.ErrInvalidState)
		assert.Equal(t, 1, a.pool.Requests(cognitotest.EndpointToken), "no second exchange is tried")
	})
	t.Run("with a copy of the login cookie", func(t *testing.T) {
		a := newLoginApp(t)
		cb := a.startLogin(t)
		stolen := a.loginCookies()
		require.Len(t, stolen, 1)
		a.get(t, a.browser, cb)
		require.NoError(t, a.callback(t).err)

		req, err := http.NewRequest(http.MethodGet, cb, nil)
		require.NoError(t, err)
		req.AddCookie(stolen[0])
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()

		err = a.callback(t).err
		assert.ErrorIs(t, err, cognito.ErrInvalidGrant, "the pool refuses a used code")
	})
}

func TestLoginFlowBadState(t *testing.T) {
	tests := []struct {
		name  string
		state func(real string) string
	}{
		{"missing", func(string) string { return "" }},
		{"malformed", func(string) string { return "abc" }},
		{"another login's", func(string) string { return cognito.GenerateVerifier() }},
		{"same cookie, other tail", func(s string) string {
			return s[:16] + strings.Repeat("A", len(s)-16)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newLoginApp(t)
			cb, err := url.Parse(a.startLogin(t))
			require.NoError(t, err)
			q := cb.Query()
			q.Set("state", tt.state(q.Get("state")))
			cb.RawQuery = q.Encode()

			status, _ := a.get(t, a.browser, cb.String())

			assert.Equal(t, http.StatusBadRequest, status)
			err = a.callback(t).err
			assert.ErrorIs(t, err, cognito.ErrInvalidState)
			assert.NotContains(t, err.Error(), q.Get("code"))
			assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken), "the code is not exchanged")
		})
	}
}

func TestLoginFlowNoCookieAtAll(t *testing.T) {
	a := newLoginApp(t)
	cb := a.startLogin(t)

	res, err := http.Get(cb) // another browser, without the login cookie: a forged callback
	require.NoError(t, err)
	res.Body.Close()

	assert.ErrorIs(t, a.callback(t).err, cognito.ErrInvalidState)
	assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken))
}

func TestLoginFlowHostedUIError(t *testing.T) {
	t.Run("from the pool: scope not allowed", func(t *testing.T) {
		a := newLoginApp(t)

		a.get(t, a.browser, a.url+"/login?scope=openid+not-a-scope")

		err := a.callback(t).err
		var ae *cognito.AuthorizeError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "invalid_scope", ae.Code)
		assert.Contains(t, ae.Description, "not-a-scope")
		assert.ErrorIs(t, err, cognito.ErrLoginFailed)
		assert.NotErrorIs(t, err, cognito.ErrAccessDenied)
		assert.Empty(t, a.loginCookies(), "the login cookie is gone after an error too")
	})

	tests := []struct {
		code        string
		desc        string
		is, isNot   []error
		wantDesc    string
		wantMessage string
	}{
		{
			code: "access_denied", desc: "User cancelled login",
			is:       []error{cognito.ErrLoginFailed, cognito.ErrAccessDenied},
			isNot:    []error{cognito.ErrEndpointUnavailable},
			wantDesc: "User cancelled login", wantMessage: "cognito: login failed: hosted UI answered access_denied: User cancelled login",
		},
		{
			code: "server_error", desc: "",
			is:       []error{cognito.ErrLoginFailed, cognito.ErrEndpointUnavailable},
			isNot:    []error{cognito.ErrAccessDenied},
			wantDesc: "", wantMessage: "cognito: login failed: hosted UI answered server_error",
		},
		{
			code: "temporarily_unavailable", desc: "line\r\nbreak\x00",
			is:       []error{cognito.ErrLoginFailed, cognito.ErrEndpointUnavailable},
			wantDesc: "linebreak", wantMessage: "cognito: login failed: hosted UI answered temporarily_unavailable: linebreak",
		},
		{
			code: "invalid_request", desc: strings.Repeat("x", 1000),
			is:       []error{cognito.ErrLoginFailed},
			isNot:    []error{cognito.ErrAccessDenied, cognito.ErrEndpointUnavailable, cognito.ErrInvalidRequest},
			wantDesc: strings.Repeat("x", 256) + "...",
		},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			a := newLoginApp(t)
			cb, err := url.Parse(a.startLogin(t))
			require.NoError(t, err)
			state := cb.Query().Get("state")
			cb.RawQuery = url.Values{"error": {tt.code}, "error_description": {tt.desc}, "state": {state}}.Encode()

			a.get(t, a.browser, cb.String())

			err = a.callback(t).err
			var ae *cognito.AuthorizeError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.code, ae.Code)
			assert.Equal(t, tt.wantDesc, ae.Description)
			if tt.wantMessage != "" {
				assert.EqualError(t, err, tt.wantMessage)
			}
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tt.isNot {
				assert.NotErrorIs(t, err, target)
			}
			assert.Empty(t, a.loginCookies())
			assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken))
		})
	}

	t.Run("error without a matching state", func(t *testing.T) {
		a := newLoginApp(t)
		a.startLogin(t)

		a.get(t, a.browser, a.url+"/callback?error=access_denied&error_description=Call+555-0100")

		err := a.callback(t).err
		assert.ErrorIs(t, err, cognito.ErrInvalidState, "an unsolicited error page is not trusted")
		assert.False(t, errors.As(err, new(*cognito.AuthorizeError)))
	})
}

func TestLoginFlowCallbackWithoutCode(t *testing.T) {
	a := newLoginApp(t)
	cb, err := url.Parse(a.startLogin(t))
	require.NoError(t, err)
	cb.RawQuery = url.Values{"state": {cb.Query().Get("state")}}.Encode()

	a.get(t, a.browser, cb.String())

	assert.ErrorIs(t, a.callback(t).err, cognito.ErrLoginFailed)
}

func TestLoginFlowNonceMismatch(t *testing.T) {
	a := newLoginApp(t)
	c := a.noFollow()
	_, h := a.get(t, c, a.url+"/login")
	authorize, err := url.Parse(h.Get("Location"))
	require.NoError(t, err)
	// Someone who knows this login's state and PKCE verifier gets a code
	// issued for a nonce of their own, and feeds it to the callback.
	q := authorize.Query()
	q.Set("nonce", cognito.GenerateVerifier())
	authorize.RawQuery = q.Encode()
	_, h = a.get(t, c, authorize.String())

	a.get(t, a.browser, h.Get("Location"))

	r := a.callback(t)
	assert.ErrorIs(t, r.err, cognito.ErrInvalidNonce)
	assert.Nil(t, r.tokens)
	assert.Nil(t, r.id)
	assert.Empty(t, a.loginCookies())
}

func TestLoginFlowExchangeAndVerifyFailures(t *testing.T) {
	t.Run("token endpoint down", func(t *testing.T) {
		a := newLoginApp(t)
		a.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})

		a.get(t, a.browser, a.url+"/login")

		assert.ErrorIs(t, a.callback(t).err, cognito.ErrEndpointUnavailable)
		assert.Empty(t, a.loginCookies())
	})
	t.Run("JWKS down", func(t *testing.T) {
		a := newLoginApp(t)
		a.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})

		a.get(t, a.browser, a.url+"/login")

		assert.ErrorIs(t, a.callback(t).err, cognito.ErrJWKSUnavailable)
	})
	t.Run("no Client or Verifier", func(t *testing.T) {
		a := newLoginApp(t)
		a.flow.Client = nil

		a.get(t, a.browser, a.url+"/login")

		assert.ErrorIs(t, a.callback(t).err, cognito.ErrInvalidConfig)
		assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken))
	})
}

// loginWithoutNonce runs a login through a hosted UI that drops the nonce, as
// cognito-local does, and returns the callback's result.
func (a *loginApp) loginWithoutNonce(t *testing.T) loginResult {
	t.Helper()
	c := a.noFollow()
	_, h := a.get(t, c, a.url+"/login")
	authorize, err := url.Parse(h.Get("Location"))
	require.NoError(t, err)
	q := authorize.Query()
	require.NotEmpty(t, q.Get("nonce"), "Start sends a nonce even to an emulator")
	q.Del("nonce")
	authorize.RawQuery = q.Encode()
	_, h = a.get(t, c, authorize.String())
	a.get(t, a.browser, h.Get("Location"))
	return a.callback(t)
}

func TestLoginFlowInsecureEmulator(t *testing.T) {
	t.Run("without it, an ID token with no nonce is refused", func(t *testing.T) {
		a := newLoginApp(t)

		r := a.loginWithoutNonce(t)

		assert.ErrorIs(t, r.err, cognito.ErrInvalidNonce)
		assert.Nil(t, r.tokens)
	})
	t.Run("with it, an ID token with no nonce signs in", func(t *testing.T) {
		a := newLoginApp(t)
		a.flow.InsecureEmulator = true

		r := a.loginWithoutNonce(t)

		require.NoError(t, r.err)
		assert.Equal(t, "alice@example.com", r.id.Email)
		assert.Empty(t, r.id.Nonce)
		assert.NotEmpty(t, r.tokens.RefreshToken)
	})
	t.Run("with it, a nonce that is present must still match", func(t *testing.T) {
		a := newLoginApp(t)
		a.flow.InsecureEmulator = true
		c := a.noFollow()
		_, h := a.get(t, c, a.url+"/login")
		authorize, err := url.Parse(h.Get("Location"))
		require.NoError(t, err)
		q := authorize.Query()
		q.Set("nonce", cognito.GenerateVerifier())
		authorize.RawQuery = q.Encode()
		_, h = a.get(t, c, authorize.String())

		a.get(t, a.browser, h.Get("Location"))

		assert.ErrorIs(t, a.callback(t).err, cognito.ErrInvalidNonce)
	})
	t.Run("with it, a login with its nonce still works", func(t *testing.T) {
		a := newLoginApp(t)
		a.flow.InsecureEmulator = true

		a.get(t, a.browser, a.url+"/login")

		r := a.callback(t)
		require.NoError(t, r.err)
		assert.NotEmpty(t, r.id.Nonce)
	})
}

func TestLoginFlowInsecureEmulatorNeedsLoopback(t *testing.T) {
	for _, domain := range []string{
		"https://myapp.auth.us-east-1.amazoncognito.com",
		"myapp.auth.us-east-1.amazoncognito.com",
		"https://localhost.example.com",
		"https://127.0.0.1.example.com",
		"https://10.0.0.1",
		"",
	} {
		t.Run(domain, func(t *testing.T) {
			cfg := cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "client", Domain: domain, RedirectURI: "https://app.example.com/callback"}
			flow := &cognito.LoginFlow{Config: cfg, InsecureEmulator: true}

			w := httptest.NewRecorder()
			err := flow.Start(w, httptest.NewRequest(http.MethodGet, "/login", nil))
			assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.Empty(t, w.Header(), "Start wrote nothing")

			w = httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/callback?state="+cognito.GenerateVerifier()+"&code=c", nil)
			tokens, id, err := flow.Finish(w, r)
			assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.Nil(t, tokens)
			assert.Nil(t, id)
		})
	}
	for _, domain := range []string{"http://localhost:9229", "http://127.0.0.1:9229", "http://127.0.0.2:9229", "http://[::1]:9229"} {
		t.Run(domain, func(t *testing.T) {
			cfg := cognito.Config{UserPoolID: "local_abc", Issuer: domain + "/local_abc", ClientID: "client", Domain: domain, RedirectURI: "http://localhost:8080/callback"}
			flow := &cognito.LoginFlow{Config: cfg, InsecureEmulator: true}

			w := httptest.NewRecorder()
			require.NoError(t, flow.Start(w, httptest.NewRequest(http.MethodGet, "/login", nil)))
			assert.Equal(t, http.StatusFound, w.Code)
		})
	}
}

// TestLoginFlowSecretsOfOtherCharacters: a state, verifier or nonce of the
// right length but outside the base64url alphabet is refused before anything
// is written or exchanged, even when a planted cookie matches it.
func TestLoginFlowSecretsOfOtherCharacters(t *testing.T) {
	a := newLoginApp(t)
	good := cognito.GenerateVerifier()
	odd := strings.Repeat("*", len(good)) // cookie-safe, but no GenerateVerifier value
	for _, tt := range []struct {
		name                   string
		state, verifier, nonce string
		setsCookie             bool // the login cookie is deleted once the state is well-formed
	}{
		{"state", odd, good, good, false},
		{"verifier", good, odd, good, true},
		{"nonce", good, good, odd, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/callback?"+url.Values{"state": {tt.state}, "code": {"a-code"}}.Encode(), nil)
			req.AddCookie(&http.Cookie{Name: cognito.DefaultInsecureLoginCookieName + "-" + tt.state[:16], Value: tt.state + "." + tt.verifier + "." + tt.nonce})
			rec := httptest.NewRecorder()

			tokens, id, err := a.flow.Finish(rec, req)

			require.ErrorIs(t, err, cognito.ErrInvalidState)
			assert.Nil(t, tokens)
			assert.Nil(t, id)
			assert.Zero(t, a.pool.Requests(cognitotest.EndpointToken), "nothing is exchanged")
			assert.Equal(t, tt.setsCookie, len(rec.Result().Cookies()) > 0)
		})
	}
}
