package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// loginPool is a fake pool whose app client allows login's redirect URI on
// a free port, with alice in it.
func loginPool(t *testing.T, opts ...cognitotest.Option) (*cognitotest.Server, string) {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	pool := cognitotest.NewServer(t, append([]cognitotest.Option{
		cognitotest.WithRedirectURI("http://localhost:" + port + "/callback"),
	}, opts...)...)
	pool.AddUser(cognitotest.User{Username: aliceName, Password: alicePassword, Email: "alice@example.com"})
	return pool, port
}

func poolEnv(pool *cognitotest.Server) func(string) string {
	cfg := pool.Config()
	vars := map[string]string{
		"COGNITO_USER_POOL_ID":  cfg.UserPoolID,
		"COGNITO_CLIENT_ID":     cfg.ClientID,
		"COGNITO_CLIENT_SECRET": cfg.ClientSecret,
		"COGNITO_DOMAIN":        cfg.Domain,
		"COGNITO_ISSUER":        cfg.Issuer,
	}
	return func(k string) string { return vars[k] }
}

// TestLoginNoBrowser plays the user with --no-browser: the test reads the
// printed URL, signs in through the fake hosted UI's form, and follows the
// redirect to login's loopback callback.
func TestLoginNoBrowser(t *testing.T) {
	pool, port := loginPool(t)
	stderrR, stderrW := io.Pipe()
	var stdout bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: stderrW, getenv: poolEnv(pool), now: time.Now,
		startBrowser: func(string) error {
			t.Error("--no-browser started a browser")
			return nil
		},
	}
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), []string{"login", "--no-browser", "--port", port}, e)
		stderrW.Close()
	}()

	lines := bufio.NewScanner(stderrR)
	var signInURL string
	for signInURL == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http") {
			signInURL = l
		}
	}
	require.NotEmpty(t, signInURL, "login printed no URL")
	go io.Copy(io.Discard, stderrR) //nolint:errcheck // the rest of the messages

	status, page, err := browse(signInURL, aliceName, alicePassword)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "You can close this tab")
	require.Equal(t, exitOK, <-code)

	v, err := cognito.NewVerifier(pool.Config())
	require.NoError(t, err)
	id, err := v.VerifyIDToken(context.Background(), gjson(t, stdout.Bytes(), "id_token"))
	require.NoError(t, err)
	assert.Equal(t, aliceName, id.Username)
	_, err = v.VerifyAccessToken(context.Background(), gjson(t, stdout.Bytes(), "access_token"))
	assert.NoError(t, err)
	assert.NotEmpty(t, gjson(t, stdout.Bytes(), "refresh_token"))
}

func gjson(t *testing.T, data []byte, key string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	s, _ := m[key].(string)
	return s
}

// newLoopbackLogin is a login waiting for its callback, as runLogin makes it.
func newLoopbackLogin(t *testing.T, pool *cognitotest.Server, port string) *loopbackLogin {
	t.Helper()
	cfg := pool.Config()
	cfg.RedirectURI = "http://localhost:" + port + "/callback"
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	v, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	return &loopbackLogin{
		client: client, verifier: v, timeout: 10 * time.Second,
		state: cognito.GenerateVerifier(), nonce: cognito.GenerateVerifier(), pkce: cognito.GenerateVerifier(),
		done: make(chan loginResult, 1),
	}
}

// code signs alice in at the pool for an authorize URL with the given
// state, PKCE verifier and nonce, and returns the code of its redirect.
func code(t *testing.T, pool *cognitotest.Server, port, state, pkce, nonce string) string {
	t.Helper()
	cfg := pool.Config()
	cfg.RedirectURI = "http://localhost:" + port + "/callback"
	pool.SignInAs(aliceName)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(cfg.LoginURL(state, cognito.WithPKCE(pkce), cognito.WithNonce(nonce)))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func callback(l *loopbackLogin, q url.Values) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	l.callback(rec, httptest.NewRequest(http.MethodGet, "/callback?"+q.Encode(), nil))
	return rec
}

// TestLoginCallbackState: only the first callback with this login's state
// is taken; others are refused and leave the login waiting, and a replay
// after it is refused too.
func TestLoginCallbackState(t *testing.T) {
	pool, port := loginPool(t)
	l := newLoopbackLogin(t, pool, port)
	good := code(t, pool, port, l.state, l.pkce, l.nonce)

	for name, q := range map[string]url.Values{
		"no state":         {"code": {good}},
		"another state":    {"code": {good}, "state": {cognito.GenerateVerifier()}},
		"a state's prefix": {"code": {good}, "state": {l.state[:42]}},
	} {
		rec := callback(l, q)
		assert.Equal(t, http.StatusBadRequest, rec.Code, name)
		assert.Contains(t, rec.Body.String(), "not the sign-in the cognito command started", name)
		assert.Empty(t, l.done, name)
	}

	rec := callback(l, url.Values{"code": {good}, "state": {l.state}})
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "You can close this tab")
	res := <-l.done
	require.NoError(t, res.err)
	assert.Equal(t, aliceName, res.id.Username)

	rec = callback(l, url.Values{"code": {good}, "state": {l.state}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "already finished")
	assert.Empty(t, l.done)
}

func TestLoginCallbackFailures(t *testing.T) {
	pool, port := loginPool(t)

	t.Run("the hosted UI's error", func(t *testing.T) {
		l := newLoopbackLogin(t, pool, port)
		rec := callback(l, url.Values{"error": {"access_denied"}, "error_description": {"user said no\x00"}, "state": {l.state}})
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		res := <-l.done
		require.ErrorIs(t, res.err, cognito.ErrAccessDenied)
		assert.Equal(t, "cognito: login failed: hosted UI answered access_denied: user said no", res.err.Error())
	})
	t.Run("neither code nor error", func(t *testing.T) {
		l := newLoopbackLogin(t, pool, port)
		callback(l, url.Values{"state": {l.state}})
		assert.ErrorIs(t, (<-l.done).err, cognito.ErrLoginFailed)
	})
	t.Run("another login's nonce", func(t *testing.T) {
		l := newLoopbackLogin(t, pool, port)
		c := code(t, pool, port, l.state, l.pkce, cognito.GenerateVerifier())
		rec := callback(l, url.Values{"code": {c}, "state": {l.state}})
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.ErrorIs(t, (<-l.done).err, cognito.ErrInvalidNonce)
	})
	t.Run("another login's PKCE verifier", func(t *testing.T) {
		l := newLoopbackLogin(t, pool, port)
		c := code(t, pool, port, l.state, cognito.GenerateVerifier(), l.nonce)
		callback(l, url.Values{"code": {c}, "state": {l.state}})
		res := <-l.done
		assert.ErrorIs(t, res.err, cognito.ErrInvalidGrant)
		assert.NotContains(t, res.err.Error(), c, "the code is not in the message")
	})
}

// TestClipDropsControlCharacters: what clip keeps of a hostile string (a
// token's kid, the browser's error) is safe to print on a terminal: no C0,
// no DEL, and no C1, whose U+009B opens a control sequence as ESC [ does.
func TestClipDropsControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"kid-1":                        "kid-1",
		"\x1b]0;pwned\x07title":        "]0;pwnedtitle",
		"a\u009b2Jb\u0085c\u009fd\x7f": "a2Jbcd",
		"\u00a0é":                      "\u00a0é",
	} {
		assert.Equal(t, want, clip(in, 64), "%q", in)
	}
	assert.Equal(t, "abc", clip("\u009babcdef", 3), "cut after dropping")
}
