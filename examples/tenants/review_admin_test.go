package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdminRefusesRequestsFromPages: the admin endpoint listens on loopback
// and has no authentication of its own, so a web page open in a browser on
// that machine must not reach it. A page of another site cannot read its
// answers, but may still send it requests: a cross-origin one, or, after DNS
// rebinding (the page's own host name now resolving to 127.0.0.1), a
// same-origin one under a Host that is not loopback. Either could add a
// tenant whose issuer and keys are the attacker's, whose tokens the API would
// then accept. Both are refused, and the tenant is not added.
func TestAdminRefusesRequestsFromPages(t *testing.T) {
	f := newFixture(t)
	body := `{"user_pool_id":"us-east-1_Evil12345","client_id":"evil","issuer":"https://evil.example/us-east-1_Evil12345"}`
	for name, edit := range map[string]func(*http.Request){
		"a rebound host name":  func(r *http.Request) { r.Host = "evil.example:8083" },
		"a cross-site request": func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"a foreign Origin":     func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, f.admin.URL+"/tenants/evil", strings.NewReader(body))
			require.NoError(t, err)
			edit(req)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusForbidden, res.StatusCode)

			code, list := do(t, http.MethodGet, f.admin.URL+"/tenants", "", "")
			require.Equal(t, http.StatusOK, code)
			assert.NotContains(t, list, "evil", "no tenant added")
		})
	}
	t.Run("a GET under a rebound host name reads nothing", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, f.admin.URL+"/tenants", nil)
		require.NoError(t, err)
		req.Host = "evil.example"
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
	})
	t.Run("curl on the machine still works", func(t *testing.T) {
		for _, host := range []string{"", "localhost"} {
			req, err := http.NewRequest(http.MethodGet, f.admin.URL+"/tenants", nil)
			require.NoError(t, err)
			if host != "" {
				req.Host = fmt.Sprintf("%s:%s", host, req.URL.Port())
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode, host)
		}
	})
}
