package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// apiFixture is the API in front of a fake pool with the example's clients.
type apiFixture struct {
	pool *cognitotest.Server
	svc  cognitotest.AppClient
	api  *httptest.Server
}

func newFixture(t *testing.T) *apiFixture {
	t.Helper()
	pool, svc, err := startFakePool()
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(mobileClientID, serviceClientID))
	require.NoError(t, err)
	api := httptest.NewServer(newAPI(v, v.Prefetch))
	t.Cleanup(api.Close)
	return &apiFixture{pool: pool, svc: svc, api: api}
}

func (f *apiFixture) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.api.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

func TestAPIAcceptsTheThreeClients(t *testing.T) {
	f := newFixture(t)
	web := f.pool.MintAccessToken("demo")
	mobile := f.pool.MintAccessToken("demo", cognitotest.WithAudience(mobileClientID))
	service := f.pool.MintClientCredentialsToken(serviceClientID)

	for name, tok := range map[string]string{"web": web, "mobile": mobile} {
		code, body := f.do(t, http.MethodGet, "/me", tok, "")
		require.Equal(t, http.StatusOK, code, name)
		var c caller
		require.NoError(t, json.Unmarshal([]byte(body), &c))
		assert.Equal(t, "user", c.Kind, name)
		assert.Equal(t, "demo", c.Username, name)
		code, _ = f.do(t, http.MethodGet, "/admin/report", tok, "")
		assert.Equal(t, http.StatusOK, code, "%s: demo is an admin", name)
		code, _ = f.do(t, http.MethodPost, "/orders", tok, `{"item":"tea"}`)
		assert.Equal(t, http.StatusCreated, code, name)
	}
	code, body := f.do(t, http.MethodGet, "/me", service, "")
	require.Equal(t, http.StatusOK, code)
	var c caller
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	assert.Equal(t, caller{Kind: "service", Subject: serviceClientID, ClientID: serviceClientID, Scopes: []string{"orders/read"}}, c)

	code, body = f.do(t, http.MethodGet, "/orders", service, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"placed_by":"demo"`)
	code, _ = f.do(t, http.MethodPost, "/orders", service, `{"item":"x"}`)
	assert.Equal(t, http.StatusForbidden, code, "the service may only read")
	code, _ = f.do(t, http.MethodGet, "/admin/report", service, "")
	assert.Equal(t, http.StatusForbidden, code, "no service is in a group")

	code, _ = f.do(t, http.MethodGet, "/me", f.pool.MintAccessToken("demo", cognitotest.WithAudience("someoneelse")), "")
	assert.Equal(t, http.StatusUnauthorized, code, "a client not listed")
	code, _ = f.do(t, http.MethodGet, "/me", "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointJWKS), "one key cache for the three clients")
}

func TestReadiness(t *testing.T) {
	f := newFixture(t)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	code, _ := f.do(t, http.MethodGet, "/readyz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = f.do(t, http.MethodGet, "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
	code, _ = f.do(t, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
}

// lineWriter hands each line of the program's output to a channel.
type lineWriter struct {
	lines chan string
	w     *io.PipeWriter
}

func newLineWriter() *lineWriter {
	r, w := io.Pipe()
	lw := &lineWriter{lines: make(chan string, 64), w: w}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lw.lines <- sc.Text()
		}
		close(lw.lines)
	}()
	return lw
}

func (l *lineWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// The program as a user runs it: the API with its fake pool, then the M2M
// caller with the variables the API printed.
func TestRunAndCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", func(string) string { return "" }, out) }()

	var callerLine, apiURL string
	for apiURL == "" {
		select {
		case line := <-out.lines:
			if strings.Contains(line, "go run ./examples/api -call") {
				callerLine = line
			}
			if u, ok := strings.CutPrefix(line, "api: listening on "); ok {
				apiURL = u
			}
		case err := <-done:
			t.Fatalf("run ended: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no start-up output")
		}
	}
	go func() {
		for range out.lines { // keep draining
		}
	}()
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(COGNITO_\w+)=(\S+)`).FindAllStringSubmatch(callerLine, -1) {
		env[m[1]] = m[2]
	}
	require.Len(t, env, 5, callerLine)
	target := regexp.MustCompile(`-call (\S+)`).FindStringSubmatch(callerLine)[1]
	assert.Equal(t, apiURL+"/orders", target)

	var b strings.Builder
	require.NoError(t, callAPI(context.Background(), target, func(k string) string { return env[k] }, &b))
	assert.Contains(t, b.String(), "200 OK")
	assert.Contains(t, b.String(), `"item":"coffee beans"`)

	b.Reset()
	err := callAPI(context.Background(), apiURL+"/admin/report", func(k string) string { return env[k] }, &b)
	assert.ErrorContains(t, err, "403")

	cancel()
	require.NoError(t, <-done)
	out.w.Close()
}
