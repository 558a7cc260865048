package cognitotest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func TestUserLevelDefaults(t *testing.T) {
	pool := cognitotest.NewServer(t)
	plain := pool.AddUser(cognitotest.User{Username: "alice"})
	assert.Equal(t, cognitotest.DefaultACR, plain.ACR)
	assert.Equal(t, "urn:cognito:loa:1", plain.ACR)
	assert.Equal(t, []string{"pwd"}, plain.AMR)
	mfa := pool.AddUser(cognitotest.User{Username: "bob", ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"}})
	assert.Equal(t, "urn:cognito:loa:2", mfa.ACR)
	assert.Equal(t, []string{"pwd", "otp", "mfa"}, mfa.AMR)

	def := cognitotest.DefaultAMR()
	def[0] = "changed"
	assert.Equal(t, []string{"pwd"}, pool.AddUser(cognitotest.User{Username: "carol"}).AMR, "the default is not shared")
}

func TestSignInLevel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		asked url.Values
		acr   any
		amr   any
	}{
		{"no level asked: no acr or amr", nil, nil, nil},
		{"acr_values asked: the level the user reaches", url.Values{"acr_values": {"urn:cognito:loa:3 urn:cognito:loa:2"}}, "urn:cognito:loa:2", []any{"pwd", "otp", "mfa"}},
		{"acr_values below the user's: still the user's", url.Values{"acr_values": {"urn:cognito:loa:1"}}, "urn:cognito:loa:2", []any{"pwd", "otp", "mfa"}},
		{"max_age alone", url.Values{"max_age": {"300"}}, "urn:cognito:loa:2", []any{"pwd", "otp", "mfa"}},
		{"max_age=0", url.Values{"max_age": {"0"}}, "urn:cognito:loa:2", []any{"pwd", "otp", "mfa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			pool := cognitotest.NewServer(t, cognitotest.WithClock(clk.Now))
			pool.AddUser(cognitotest.User{Username: "bob", ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"}})
			params := authorizeParams(pool)
			for k, v := range tc.asked {
				params[k] = v
			}
			_, tokens := exchange(t, pool, codeFor(t, pool, "bob", params), nil)
			for _, use := range []string{"id_token", "access_token"} {
				c := verify(t, pool, tokens[use].(string))
				assert.Equal(t, tc.acr, c["acr"], use)
				assert.Equal(t, tc.amr, c["amr"], use)
				assert.EqualValues(t, clk.Now().Unix(), c["auth_time"], "%s: the sign-in is always fresh", use)
			}

			clk.Advance(2 * time.Hour)
			resp, refreshed := refresh(t, pool, tokens["refresh_token"].(string))
			require.Equal(t, http.StatusOK, resp.StatusCode, refreshed)
			for _, use := range []string{"id_token", "access_token"} {
				c := verify(t, pool, refreshed[use].(string))
				assert.NotContains(t, c, "acr", "%s: refreshed tokens drop acr", use)
				assert.NotContains(t, c, "amr", "%s: refreshed tokens drop amr", use)
				assert.EqualValues(t, clk.Now().Add(-2*time.Hour).Unix(), c["auth_time"], "%s: auth_time stays the sign-in's", use)
			}
		})
	}
}

func TestSignInFormCarriesTheLevelAsked(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw", ACR: "urn:cognito:loa:2"})
	params := authorizeParams(pool)
	params.Set("acr_values", "urn:cognito:loa:2")
	params.Set("max_age", "300")
	_, page := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())
	form := formFields(t, page)
	assert.Equal(t, "urn:cognito:loa:2", form.Get("acr_values"))
	assert.Equal(t, "300", form.Get("max_age"))

	form.Set("username", "alice")
	form.Set("password", "pw")
	resp, _ := postForm(t, pool.URL()+"/login", form, "", "")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	_, tokens := exchange(t, pool, loc.Query().Get("code"), nil)
	assert.Equal(t, "urn:cognito:loa:2", verify(t, pool, tokens["id_token"].(string))["acr"])
}

func TestAuthorizeRefusesBadLevelParameters(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	for name, bad := range map[string]url.Values{
		"max_age negative":       {"max_age": {"-1"}},
		"max_age not a number":   {"max_age": {"five"}},
		"max_age with a plus":    {"max_age": {"+5"}},
		"max_age with zeros":     {"max_age": {"007"}},
		"acr_values with a NUL":  {"acr_values": {"urn:cognito:loa:2\x00"}},
		"acr_values only spaces": {"acr_values": {"   "}},
	} {
		t.Run(name, func(t *testing.T) {
			params := authorizeParams(pool)
			for k, v := range bad {
				params[k] = v
			}
			q := authorize(t, pool, params)
			assert.Equal(t, "invalid_request", q.Get("error"))
			assert.Equal(t, "st4te", q.Get("state"))
			assert.Empty(t, q.Get("code"))
		})
	}
}
