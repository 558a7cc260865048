package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// redisURL is the Redis that scripts/redis runs, or skips the test:
//
//	scripts/redis run -- go test -race -run Redis ./examples/webapp
func redisURL(t *testing.T) string {
	u := os.Getenv("REDIS_URL")
	if u == "" {
		if os.Getenv("REDIS_REQUIRED") == "1" {
			require.FailNow(t, "REDIS_REQUIRED=1 but REDIS_URL is not set")
		}
		t.Skip("REDIS_URL is not set; run the test with scripts/redis run -- go test ...")
	}
	return u
}

// startRun runs the app as main does, with redis and env, and returns its URL
// and its start-up output.
func startRun(t *testing.T, redis string, env map[string]string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{lines: make(chan string, 20)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", redis, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	var lines []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-out.lines:
			lines = append(lines, line)
			if u, ok := strings.CutPrefix(line, "webapp: listening on "); ok {
				return u, lines
			}
		case err := <-done:
			require.FailNow(t, "run returned early", "%v; output:\n%s", err, strings.Join(lines, "\n"))
		case <-timeout:
			require.FailNow(t, "no URL printed", strings.Join(lines, "\n"))
		}
	}
}

// TestRunTwoReplicasOnRedis follows examples/webapp/README.md: a first
// replica with the embedded fake pool and -redis prints the command of a
// second one; a browser signs in on one and is signed in on the other, and a
// sign-out on the second makes the first's API refuse the access token.
func TestRunTwoReplicasOnRedis(t *testing.T) {
	redis := redisURL(t)
	urlA, outA := startRun(t, redis, nil)
	var command string
	for _, line := range outA {
		if c, ok := strings.CutPrefix(line, "webapp: another replica on this pool and Redis: "); ok {
			command = c
		}
	}
	require.NotEmpty(t, command, "the first replica prints how to start another:\n%s", strings.Join(outA, "\n"))
	assert.Contains(t, strings.Join(outA, "\n"), "webapp: sessions and the revocation list in Redis at ")
	envB := map[string]string{}
	for _, field := range strings.Fields(command) {
		if k, v, ok := strings.Cut(field, "="); ok && strings.HasPrefix(k, "COGNITO_") {
			envB[k] = v
		}
	}
	require.Equal(t, redis, envB["COGNITO_REDIS_URL"])
	require.Equal(t, urlA+"/callback", envB["COGNITO_REDIRECT_URI"])
	urlB, _ := startRun(t, envB["COGNITO_REDIS_URL"], envB)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string, header http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		if header != nil {
			req.Header = header
		}
		res, err := browser.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}

	// Sign in on B, through the pool's form (the pool lives in A).
	res, body := get(urlB+"/login?return_to=%2Fprofile", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	form.Set("username", demoUsername)
	form.Set("password", demoPassword)
	action, err := res.Request.URL.Parse(match(t, formAction, body))
	require.NoError(t, err)
	res, err = browser.PostForm(action.String(), form)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// Signed in on both.
	for _, u := range []string{urlA, urlB} {
		res, page := get(u+"/profile", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", u, page)
		assert.Equal(t, demoEmail, match(t, emailCell, page), u)
	}
	_, page := get(urlA+"/profile", nil)
	token := match(t, accessToken, page)
	apiA := func() int {
		t.Helper()
		res, _ := get(urlA+"/api/me", http.Header{"Authorization": {"Bearer " + token}})
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, apiA())

	// Sign out on B: A's API refuses the token, and A's pages the session.
	res, err = browser.PostForm(urlB+"/logout", url.Values{})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, apiA(), "A refuses the token signed out on B")
	res, _ = get(urlA+"/profile", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "A sees the sign-out")
}

func TestRunRefusesAMalformedRedisURL(t *testing.T) {
	err := run(context.Background(), "127.0.0.1:0", "redis://user:hunter2@127.0.0.1:port", func(string) string { return "" }, io.Discard)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis URL is malformed")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestRedacted(t *testing.T) {
	assert.Equal(t, "redis://user:xxxxx@127.0.0.1:6379/0", redacted("redis://user:hunter2@127.0.0.1:6379/0"))
	assert.Equal(t, "redis://127.0.0.1:6379/0", redacted("redis://127.0.0.1:6379/0"))
	assert.Equal(t, "(malformed)", redacted("redis://[::1"))
	assert.Equal(t, "(malformed)", redacted("user:hunter2@myapp.auth.us-east-1.amazoncognito.com"), "a bare host with user info")
}

func TestReplicaCommand(t *testing.T) {
	cfg := cognito.Config{
		UserPoolID: "us-east-1_TestPool1", ClientID: "client", ClientSecret: "secret",
		Domain: "http://127.0.0.1:4000", Issuer: "http://127.0.0.1:4000/us-east-1_TestPool1",
		RedirectURI: "http://localhost:8080/callback", LogoutURI: "http://localhost:8080/",
	}
	got := replicaCommand(cfg, "redis://:hunter2@127.0.0.1:6379/0", "localhost:8080")
	assert.Equal(t, "COGNITO_USER_POOL_ID=us-east-1_TestPool1 COGNITO_CLIENT_ID=client COGNITO_CLIENT_SECRET=secret "+
		"COGNITO_DOMAIN=http://127.0.0.1:4000 COGNITO_ISSUER=http://127.0.0.1:4000/us-east-1_TestPool1 "+
		"COGNITO_REDIRECT_URI=http://localhost:8080/callback COGNITO_LOGOUT_URI=http://localhost:8080/ "+
		"COGNITO_REDIS_URL=redis://:xxxxx@127.0.0.1:6379/0 go run ./examples/webapp -addr localhost:8081", got,
		"the next port of the same host, whose cookies the browser shares; no Redis password")
	assert.True(t, strings.HasSuffix(replicaCommand(cfg, "redis://127.0.0.1:6379/0", "[::1]:65535"), " -addr 127.0.0.1:0"))
}
