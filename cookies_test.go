package cognito_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// signInCookies signs alice in through Sessions built on flow and returns
// the login cookie that Login set and the session cookie that Callback set.
func signInCookies(t *testing.T, f *sessionFixture, flow *cognito.LoginFlow, opts ...cognito.SessionOption) (login, session *http.Cookie) {
	t.Helper()
	s, err := cognito.NewSessions(flow, cognito.NewMemoryStore(), opts...)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.Login(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	res := rec.Result()
	require.Equal(t, http.StatusFound, res.StatusCode)
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "-login-") {
			login = c
		}
	}
	require.NotNil(t, login, "Login sets a login cookie")

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hosted, err := noFollow.Get(res.Header.Get("Location"))
	require.NoError(t, err)
	hosted.Body.Close()
	cb, err := url.Parse(hosted.Header.Get("Location"))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, cb.RequestURI(), nil)
	for _, c := range res.Cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec = httptest.NewRecorder()
	s.Callback(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge > 0 {
			session = c
		}
	}
	require.NotNil(t, session, "Callback sets a session cookie")
	return login, session
}

// TestLoginAndSessionCookiesFollowOneRule: the login cookie and the session
// cookie are Secure, or not, together: Secure unless InsecureCookie is set
// or the RedirectURI is plain http on a loopback host.
func TestLoginAndSessionCookiesFollowOneRule(t *testing.T) {
	for _, tt := range []struct {
		name, redirectURI string
		insecure          bool
		secure            bool
	}{
		{"https", "https://app.example.com/callback", false, true},
		{"plain http on localhost", "http://localhost/callback", false, false},
		{"plain http on 127.0.0.1", "http://127.0.0.1:8080/callback", false, false},
		{"plain http on [::1]", "http://[::1]:8080/callback", false, false},
		{"https with InsecureCookie", "https://app.example.com/callback", true, false},
		{"plain http off loopback", "http://app.example.com/callback", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRedirectURI(tt.redirectURI))
			cfg := f.pool.Config()
			client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)
			v, err := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)

			login, session := signInCookies(t, f, &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v, InsecureCookie: tt.insecure})

			assert.Equal(t, tt.secure, login.Secure, "the login cookie")
			assert.Equal(t, tt.secure, session.Secure, "the session cookie")
			if tt.secure {
				assert.True(t, strings.HasPrefix(login.Name, cognito.DefaultLoginCookieName+"-"), login.Name)
				assert.Equal(t, cognito.DefaultSessionCookieName, session.Name)
			} else {
				assert.True(t, strings.HasPrefix(login.Name, cognito.DefaultInsecureLoginCookieName+"-"), login.Name)
				assert.Equal(t, cognito.DefaultInsecureSessionCookieName, session.Name)
			}
		})
	}
}

// TestSessionCookieNamesKeepTheirPrefix: a session cookie name of one's own
// must follow the rule of the defaults.
func TestSessionCookieNamesKeepTheirPrefix(t *testing.T) {
	for _, tt := range []struct {
		name, redirectURI, cookie string
		want                      string // a part of the error; empty: accepted
	}{
		{"Secure, no prefix", "https://app.example.com/callback", "myapp-session", `"__Host-myapp-session"`},
		{"Secure, __Secure-", "https://app.example.com/callback", "__Secure-myapp-session", `"__Host-myapp-session"`},
		{"Secure, __Host- in lower case", "https://app.example.com/callback", "__host-myapp-session", `"__Host-myapp-session"`},
		{"Secure, __Host-", "https://app.example.com/callback", "__Host-myapp-session", ""},
		{"not Secure, __Host-", "http://localhost/callback", "__Host-myapp-session", "needs a Secure cookie"},
		{"not Secure, __secure- in lower case", "http://localhost/callback", "__secure-myapp-session", "needs a Secure cookie"},
		{"not Secure, no prefix", "http://localhost/callback", "myapp-session", ""},
		{"not a cookie name", "https://app.example.com/callback", "__Host-my session", "not a valid cookie name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessionFixture(t, cognitotest.WithRedirectURI(tt.redirectURI))
			cfg := f.pool.Config()
			client, err := cognito.NewClient(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)
			v, err := cognito.NewVerifier(cfg, cognito.WithClock(f.clock.Now))
			require.NoError(t, err)
			flow := &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}
			opt := cognito.WithSessionCookieName(tt.cookie)
			if tt.want != "" {
				_, err := cognito.NewSessions(flow, cognito.NewMemoryStore(), opt)
				require.ErrorIs(t, err, cognito.ErrInvalidConfig)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			_, session := signInCookies(t, f, flow, opt)
			assert.Equal(t, tt.cookie, session.Name)
		})
	}
}

// TestNewSessionsRefusesALoginCookieNameThatLosesItsPrefix: NewSessions
// checks the flow's CookieName too, rather than failing at the first Login.
func TestNewSessionsRefusesALoginCookieNameThatLosesItsPrefix(t *testing.T) {
	f := newSessionFixture(t, cognitotest.WithRedirectURI("https://app.example.com/callback"))
	cfg := f.pool.Config()
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	v, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	_, err = cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: v, CookieName: "myapp-login"}, cognito.NewMemoryStore())
	require.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.Contains(t, err.Error(), `LoginFlow.CookieName "myapp-login" lacks the __Host- prefix`)
}
