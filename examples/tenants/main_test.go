package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// fixture is the API and its admin endpoint with the two demo pools, acme a
// tenant and globex not yet, and a count of the resolver's calls.
type fixture struct {
	acme, globex *cognitotest.Server
	api, admin   *httptest.Server
	mu           sync.Mutex
	resolves     map[string]int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	acme, globex, err := startDemoPools()
	require.NoError(t, err)
	t.Cleanup(acme.Close)
	t.Cleanup(globex.Close)
	f := &fixture{acme: acme, globex: globex, resolves: map[string]int{}}
	table := newTenantTable()
	table.put(demoTenant("acme", acme))
	v, err := cognito.NewTenantVerifier(func(ctx context.Context, iss string) (cognito.Config, error) {
		f.mu.Lock()
		f.resolves[iss]++
		f.mu.Unlock()
		return table.Resolve(ctx, iss)
	})
	require.NoError(t, err)
	f.api = httptest.NewServer(newAPI(v, table))
	t.Cleanup(f.api.Close)
	f.admin = httptest.NewServer(newAdmin(v, table))
	t.Cleanup(f.admin.Close)
	return f
}

func (f *fixture) resolvesOf(pool *cognitotest.Server) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resolves[pool.Issuer()]
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
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

func TestTenantsAddedWhileRunning(t *testing.T) {
	f := newFixture(t)
	alice, bob := f.acme.MintAccessToken("alice"), f.globex.MintAccessToken("bob")

	code, body := do(t, http.MethodGet, f.api.URL+"/me", alice, "")
	require.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"tenant":"acme","username":"alice","groups":["admins"]}`, body)
	code, _ = do(t, http.MethodGet, f.api.URL+"/admin/report", alice, "")
	assert.Equal(t, http.StatusOK, code)
	for range 2 {
		code, _ = do(t, http.MethodGet, f.api.URL+"/me", bob, "")
		assert.Equal(t, http.StatusUnauthorized, code, "globex is no tenant yet")
	}
	assert.Zero(t, f.globex.Requests(cognitotest.EndpointJWKS), "a pool of no tenant is never fetched from")
	assert.Equal(t, 1, f.resolvesOf(f.globex), "its refusal is remembered")

	g := demoTenant("globex", f.globex)
	code, body = do(t, http.MethodPut, f.admin.URL+"/tenants/globex",
		"", fmt.Sprintf(`{"user_pool_id":%q,"client_id":%q,"issuer":%q}`, g.UserPoolID, g.ClientID, g.Issuer))
	require.Equal(t, http.StatusOK, code, body)
	code, body = do(t, http.MethodGet, f.api.URL+"/me", bob, "")
	require.Equal(t, http.StatusOK, code, "at once: the admin endpoint called Forget")
	assert.JSONEq(t, `{"tenant":"globex","username":"bob","groups":["admins"]}`, body)
	code, body = do(t, http.MethodGet, f.admin.URL+"/tenants", "", "")
	require.Equal(t, http.StatusOK, code)
	var list []tenant
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	assert.Equal(t, []string{"acme", "globex"}, []string{list[0].Name, list[1].Name})

	// globex's pool moves to another app client: the old client's tokens
	// stop at once.
	mobile, err := f.globex.AddClient(cognitotest.AppClient{ClientID: "globexmobile", Public: true})
	require.NoError(t, err)
	code, _ = do(t, http.MethodPut, f.admin.URL+"/tenants/globex",
		"", fmt.Sprintf(`{"user_pool_id":%q,"client_id":%q,"issuer":%q}`, g.UserPoolID, mobile.ClientID, g.Issuer))
	require.Equal(t, http.StatusOK, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", bob, "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.globex.MintAccessToken("bob", cognitotest.WithAudience(mobile.ClientID)), "")
	assert.Equal(t, http.StatusOK, code)

	code, _ = do(t, http.MethodDelete, f.admin.URL+"/tenants/globex", "", "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.globex.MintAccessToken("bob", cognitotest.WithAudience(mobile.ClientID)), "")
	assert.Equal(t, http.StatusUnauthorized, code, "removed, at once")
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", alice, "")
	assert.Equal(t, http.StatusOK, code, "acme is unaffected")
	assert.Equal(t, 1, f.resolvesOf(f.acme))
}

func TestAdminRefusals(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct{ path, body string }{
		"not JSON":         {"/tenants/x", "nope"},
		"an unknown field": {"/tenants/x", `{"user_pool_id":"us-east-1_Abc123456","client_id":"c","secret":"s"}`},
		"a bad pool ID":    {"/tenants/x", `{"user_pool_id":"nope","client_id":"c"}`},
		"no client":        {"/tenants/x", `{"user_pool_id":"us-east-1_Abc123456"}`},
		"a bad name":       {"/tenants/Not%20A%20Name", `{"user_pool_id":"us-east-1_Abc123456","client_id":"c"}`},
	} {
		code, _ := do(t, http.MethodPut, f.admin.URL+tc.path, "", tc.body)
		assert.Equal(t, http.StatusBadRequest, code, name)
	}
	code, _ := do(t, http.MethodDelete, f.admin.URL+"/tenants/nobody", "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.acme.MintAccessToken("alice"), "")
	assert.Equal(t, http.StatusOK, code)
}

// A tenant whose pool cannot be reached answers 503; the others go on.
func TestTenantWithKeysDown(t *testing.T) {
	f := newFixture(t)
	g := demoTenant("globex", f.globex)
	code, _ := do(t, http.MethodPut, f.admin.URL+"/tenants/globex", "", fmt.Sprintf(`{"user_pool_id":%q,"client_id":%q,"issuer":%q}`, g.UserPoolID, g.ClientID, g.Issuer))
	require.Equal(t, http.StatusOK, code)
	f.globex.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusBadGateway})
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.globex.MintAccessToken("bob"), "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.acme.MintAccessToken("alice"), "")
	assert.Equal(t, http.StatusOK, code)
	code, _ = do(t, http.MethodGet, f.api.URL+"/me", f.globex.MintAccessToken("bob"), "")
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
		sc.Buffer(nil, 64<<10)
		for sc.Scan() {
			lw.lines <- sc.Text()
		}
		close(lw.lines)
	}()
	return lw
}

func (l *lineWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// The program as a user runs it: the commands it prints, run as printed.
func TestRunAsPrinted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", "127.0.0.1:0", true, out) }()

	printed := map[string]string{}
	var apiURL string
	for apiURL == "" {
		select {
		case line := <-out.lines:
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "tenants: "), ": "); ok {
				printed[k] = strings.TrimSpace(v)
			}
			if u, ok := strings.CutPrefix(line, "tenants: listening on "); ok {
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
	curl := regexp.MustCompile(`^curl (?:-X (\w+) --data '(.*)'|-H 'Authorization: Bearer (\S+)') (\S+)$`)
	call := func(line string) int {
		m := curl.FindStringSubmatch(line)
		require.NotNil(t, m, line)
		method := m[1]
		if method == "" {
			method = http.MethodGet
		}
		code, _ := do(t, method, m[4], m[3], m[2])
		return code
	}
	assert.Equal(t, http.StatusOK, call(printed["acme's admin"]))
	assert.Equal(t, http.StatusUnauthorized, call(printed["globex's user"]))
	assert.Equal(t, http.StatusOK, call(printed["add globex"]))
	assert.Equal(t, http.StatusOK, call(printed["globex's user"]))

	cancel()
	require.NoError(t, <-done)
	out.w.Close()

	err := run(context.Background(), "127.0.0.1:0", "0.0.0.0:0", false, io.Discard)
	assert.ErrorContains(t, err, "not a loopback address")
}
