package cognitotest_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// logLines is a slog.Handler's writer that hands each line to the test.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// next is the next line logged, as JSON, waiting at most 10s for it.
func (l logLines) next(t *testing.T) map[string]any {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case line := <-l:
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		delete(m, "time")
		return m
	case <-timeout.C:
		t.Fatal("nothing was logged within 10s")
		return nil
	}
}

func (l logLines) none(t *testing.T) {
	t.Helper()
	select {
	case line := <-l:
		t.Errorf("unexpected log line %s", line)
	default:
	}
}

func TestLoggerLogsEachTokenRequest(t *testing.T) {
	lines := make(logLines, 16)
	pool := cognitotest.NewServer(t, cognitotest.WithAllowedScopes(slices.Concat(cognitotest.DefaultScopes, []string{"orders/read"})...),
		cognitotest.WithLogger(slog.New(slog.NewJSONHandler(lines, nil))))
	pool.AddUser(cognitotest.User{Username: "alice"})
	cfg := pool.Config()
	token := pool.URL() + "/oauth2/token"
	entry := func(grant string, status int, more ...any) map[string]any {
		m := map[string]any{"level": "INFO", "msg": "token request", "grant_type": grant, "client_id": cfg.ClientID, "status": float64(status)}
		for i := 0; i < len(more); i += 2 {
			m[more[i].(string)] = more[i+1]
		}
		return m
	}

	code := codeFor(t, pool, "alice", authorizeParams(pool))
	resp, tokens := exchange(t, pool, code, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, entry("authorization_code", 200), lines.next(t))

	rt := tokens["refresh_token"].(string)
	resp, _ = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, entry("refresh_token", 200), lines.next(t))

	resp, _ = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-refresh-token"}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, entry("refresh_token", 400, "error", "invalid_grant", "error_description", "Invalid Refresh Token"), lines.next(t))

	resp, _ = postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/delete"}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, entry("client_credentials", 400, "error", "invalid_scope",
		"error_description", "scope orders/delete is not a resource-server scope of the app client"), lines.next(t))

	resp, _ = postForm(t, token, url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.ClientID}, "client_secret": {"wrong-secret-1234"}}, "", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, entry("client_credentials", 401, "error", "invalid_client", "error_description", "the client secret is wrong"), lines.next(t),
		"the client_id of the body when there is no Basic")

	resp, _ = postForm(t, token, url.Values{"grant_type": {"password"}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "unsupported_grant_type", lines.next(t)["error"])

	req, err := http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=refresh_token"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	resp, err = browser.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, map[string]any{"level": "INFO", "msg": "token request", "grant_type": "", "client_id": "", "status": float64(400),
		"error": "invalid_request", "error_description": "Content-Type must be application/x-www-form-urlencoded"}, lines.next(t),
		"a body the endpoint did not read tells nothing")

	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"})
	resp, _ = postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, entry("", 502), lines.next(t), "a Failure answered before the form was read")

	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Body: `{"x":1}`, Trickle: time.Millisecond})
	resp, body := postForm(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `{"x":1}`, body, "the log's recorder lets a Trickle flush")
	assert.Equal(t, entry("", 200), lines.next(t))

	lines.none(t)
	assert.Equal(t, 9, pool.Requests(cognitotest.EndpointToken), "one line per request")
	for _, other := range []string{"/oauth2/userInfo", "/" + cfg.UserPoolID + "/.well-known/jwks.json"} {
		resp, _ := get(t, pool.URL()+other)
		require.NotZero(t, resp.StatusCode)
	}
	lines.none(t)
}

func TestLoggerLogsNoSecret(t *testing.T) {
	lines := make(logLines, 16)
	pool := cognitotest.NewServer(t, cognitotest.WithLogger(slog.New(slog.NewTextHandler(lines, nil))),
		cognitotest.WithRefreshTokenRotation(true))
	pool.AddUser(cognitotest.User{Username: "alice"})
	cfg := pool.Config()
	code := codeFor(t, pool, "alice", authorizeParams(pool))
	_, tokens := exchange(t, pool, code, nil)
	rt := tokens["refresh_token"].(string)
	resp, body := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rotated := decodeJSON(t, body)["refresh_token"].(string)
	resp, _ = postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cfg.ClientID, cfg.ClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "rotated out")

	var all strings.Builder
	for range 3 {
		select {
		case l := <-lines:
			all.WriteString(l)
		case <-time.After(10 * time.Second):
			t.Fatal("a line is missing")
		}
	}
	for name, secret := range map[string]string{
		"the code": code, "the refresh token": rt, "the rotated refresh token": rotated, "the client secret": cfg.ClientSecret,
		"the ID token": tokens["id_token"].(string), "the access token": tokens["access_token"].(string),
	} {
		assert.NotContains(t, all.String(), secret, name)
	}
	assert.Contains(t, all.String(), `grant_type=refresh_token client_id=`+cfg.ClientID+` status=400 error=invalid_grant`)
}

func TestLoggerLogsARequestHeldUnanswered(t *testing.T) {
	lines := make(logLines, 4)
	pool := cognitotest.NewServer(t, cognitotest.WithLogger(slog.New(slog.NewJSONHandler(lines, nil))))
	held := make(chan struct{}, 1)
	pool.OnHold(func(cognitotest.Endpoint) { held <- struct{}{} })
	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pool.URL()+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan error, 1)
	go func() {
		resp, err := browser.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-held
	cancel()
	require.Error(t, <-done)
	pool.Close() // the handler never read the body, so only Close ends the hold
	got := lines.next(t)
	assert.EqualValues(t, 0, got["status"])
	assert.Contains(t, got["error"], "no answer")
}

func TestLoggerCutsLongFields(t *testing.T) {
	lines := make(logLines, 4)
	pool := cognitotest.NewServer(t, cognitotest.WithLogger(slog.New(slog.NewJSONHandler(lines, nil))))
	long := strings.Repeat("é", 100) // 200 bytes: cut on a rune boundary
	resp, _ := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {long}, "client_id": {long}}, "", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	got := lines.next(t)
	assert.Equal(t, strings.Repeat("é", 64), got["grant_type"])
	assert.Equal(t, strings.Repeat("é", 64), got["client_id"])
}
