package cognito_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// bearerAPI is an API that records the Authorization header of each request
// by path, and answers what handle writes (200 when handle is nil).
type bearerAPI struct {
	srv *httptest.Server

	mu   sync.Mutex
	auth map[string][]string
}

func newBearerAPI(t *testing.T, handle http.HandlerFunc) *bearerAPI {
	t.Helper()
	a := &bearerAPI{auth: map[string][]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth[r.URL.Path] = append(a.auth[r.URL.Path], r.Header.Get("Authorization"))
		a.mu.Unlock()
		if handle != nil {
			handle(w, r)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// seen returns the Authorization headers path received, in order.
func (a *bearerAPI) seen(path string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.auth[path]...)
}

func get(t *testing.T, hc *http.Client, u string) *http.Response {
	t.Helper()
	res, err := hc.Get(u)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestHTTPClientRenewsAtTheMargin(t *testing.T) {
	for _, tc := range []struct {
		name         string
		httpClient   func(*cognito.Client) *http.Client
		wantRequests int
	}{
		{"HTTPClient renews at the margin", func(c *cognito.Client) *http.Client { return c.HTTPClient("orders/read") }, 2},
		{"oauth2.NewClient holds the token past the margin", func(c *cognito.Client) *http.Client {
			return oauth2.NewClient(context.Background(), c.TokenSource("orders/read"))
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// x/oauth2's ReuseTokenSource reads the wall clock, so the fake
			// one starts there; it is only ever moved forward by hand.
			clock := newTestClock()
			clock.Set(time.Now())
			pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
			m2m, err := pool.AddClient(cognitotest.AppClient{ClientID: "orderssvc", Scopes: []string{"orders/read"}})
			require.NoError(t, err)
			client, err := cognito.NewClient(pool.ClientConfig(m2m), cognito.WithClock(clock.Now))
			require.NoError(t, err)
			api := newBearerAPI(t, nil)
			hc := tc.httpClient(client)

			assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/orders").StatusCode)
			clock.Advance(cognitotest.DefaultTokenLifetime - cognito.DefaultRenewMargin/2) // inside the margin
			assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/orders").StatusCode)

			assert.Equal(t, tc.wantRequests, pool.Requests(cognitotest.EndpointToken))
			seen := api.seen("/orders")
			require.Len(t, seen, 2)
			assert.True(t, strings.HasPrefix(seen[0], "Bearer ey"), "a JWT as a bearer token: %q", seen[0])
			assert.Equal(t, tc.wantRequests == 2, seen[0] != seen[1], "a new token only where the margin was kept")
		})
	}
}

func TestHTTPClientKeepsTheTokenToItsOrigin(t *testing.T) {
	f := newM2MFixture(t)
	elsewhere := newBearerAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
		}
	})
	var api *bearerAPI
	api = newBearerAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/away":
			http.Redirect(w, r, elsewhere.srv.URL+"/landing", http.StatusFound)
		case "/away-post":
			http.Redirect(w, r, elsewhere.srv.URL+"/landing", http.StatusTemporaryRedirect)
		case "/round-trip": // out, and back to the origin the caller chose
			http.Redirect(w, r, elsewhere.srv.URL+"/bounce?to="+url.QueryEscape(api.srv.URL+"/back"), http.StatusFound)
		}
	})
	hc := f.client.HTTPClient("orders/read")

	assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/same").StatusCode, "redirects are followed")
	assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/away").StatusCode)
	res, err := hc.Post(api.srv.URL+"/away-post", "text/plain", strings.NewReader("body"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/round-trip").StatusCode)

	token := api.seen("/same")[0]
	require.True(t, strings.HasPrefix(token, "Bearer "), "the first request carries the token")
	assert.Equal(t, []string{token}, api.seen("/final"), "a redirect within the origin keeps it")
	assert.Equal(t, []string{"", ""}, elsewhere.seen("/landing"), "a redirect to another origin (GET and 307 POST) goes without it")
	assert.Equal(t, []string{""}, elsewhere.seen("/bounce"))
	assert.Equal(t, []string{token}, api.seen("/back"), "back at the caller's origin, the token again")
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
}

// chainBreaker is a transport that does not say which request a response
// answers, as a hand-written one may not.
type chainBreaker struct{}

func (chainBreaker) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if res != nil {
		res.Request = nil
	}
	return res, err
}

func TestHTTPClientWithholdsTheTokenWhenTheRedirectChainIsBroken(t *testing.T) {
	f := newM2MFixture(t, cognito.WithHTTPClient(&http.Client{Transport: chainBreaker{}}))
	api := newBearerAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			http.Redirect(w, r, "/final", http.StatusFound)
		}
	})
	hc := f.client.HTTPClient()
	assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/same").StatusCode)
	assert.NotEmpty(t, api.seen("/same")[0])
	assert.Equal(t, []string{""}, api.seen("/final"), "where the origin cannot be told, no token")
}

func TestHTTPClientUsesTheClientsHTTPClient(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		f := newM2MFixture(t)
		hc := f.client.HTTPClient()
		assert.Equal(t, cognito.DefaultHTTPTimeout, hc.Timeout, "never without a timeout")
		assert.Nil(t, hc.CheckRedirect, "net/http's redirect policy")
		assert.Nil(t, hc.Jar)
	})
	t.Run("WithHTTPClient", func(t *testing.T) {
		transport := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
		jar := &fixedJar{}
		f := newM2MFixture(t, cognito.WithHTTPClient(&http.Client{
			Transport: transport, Timeout: 7 * time.Second, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}))
		api := newBearerAPI(t, nil)
		hc := f.client.HTTPClient("orders/read")
		assert.Equal(t, 7*time.Second, hc.Timeout)
		assert.Same(t, jar, hc.Jar)
		assert.Nil(t, hc.CheckRedirect, "the token endpoint's policy is not the API's")

		assert.Equal(t, http.StatusOK, get(t, hc, api.srv.URL+"/orders").StatusCode)
		assert.EqualValues(t, 2, transport.n.Load(), "the token request and the API request, both on the Client's transport")
	})
}

type fixedJar struct{}

func (*fixedJar) SetCookies(*url.URL, []*http.Cookie) {}
func (*fixedJar) Cookies(*url.URL) []*http.Cookie     { return nil }

func TestHTTPClientErrors(t *testing.T) {
	f := newM2MFixture(t)
	api := newBearerAPI(t, nil)

	_, err := f.client.HTTPClient("orders/nope").Get(api.srv.URL + "/orders")
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe, "the token endpoint's refusal")
	assert.Equal(t, "invalid_scope", oe.Code)

	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	_, err = f.client.HTTPClient("orders/read").Get(api.srv.URL + "/orders")
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	var ue *url.Error
	assert.ErrorAs(t, err, &ue)
	assert.Empty(t, api.seen("/orders"), "no request without a token")
}
