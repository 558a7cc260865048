package cognitotest_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func TestFailNextAnswersTheFailureNTimes(t *testing.T) {
	pool := cognitotest.NewServer(t)
	jwks := pool.Issuer() + "/.well-known/jwks.json"

	pool.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: http.StatusServiceUnavailable, Body: `{"message":"down"}`})

	for range 2 {
		resp, body := get(t, jwks)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, `{"message":"down"}`, body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	resp, body := get(t, jwks)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"keys"`)
	assert.Equal(t, 3, pool.Requests(cognitotest.EndpointJWKS))
}

func TestFailNextQueuesInOrder(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusTooManyRequests})
	pool.FailNext(cognitotest.EndpointToken, 0, cognitotest.Failure{Status: http.StatusTeapot}) // no-op

	for _, want := range []int{http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusUnauthorized} {
		resp, _ := postForm(t, pool.URL()+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}}, "", "")
		assert.Equal(t, want, resp.StatusCode)
	}
}

func TestFailNextGarbageWithStatus200(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.FailNext(cognitotest.EndpointAuthorize, 1, cognitotest.Failure{Body: "<html>oops"})
	pool.FailNext(cognitotest.EndpointUserInfo, 1, cognitotest.Failure{Body: "<html>502", ContentType: "text/html"})

	resp, body := get(t, pool.URL()+"/oauth2/authorize")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "<html>oops", body)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, body = get(t, pool.URL()+"/oauth2/userInfo")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "<html>502", body)
	assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))
}

func TestFailNextDelayThenNormalAnswer(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Delay: time.Millisecond})

	resp, body := get(t, pool.Issuer()+"/.well-known/jwks.json")

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"keys"`)
}

// heldSignal makes pool report on the returned channel each request that a
// Hang or Delay starts holding.
func heldSignal(pool *cognitotest.Server) <-chan struct{} {
	held := make(chan struct{}, 8)
	pool.OnHold(func(cognitotest.Endpoint) { held <- struct{}{} })
	return held
}

func TestFailNextHangAndLongDelayLastUntilTheClientGivesUp(t *testing.T) {
	for name, f := range map[string]cognitotest.Failure{
		"hang":       {Hang: true},
		"long delay": {Delay: time.Hour, Status: http.StatusServiceUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			pool := cognitotest.NewServer(t)
			held := heldSignal(pool)
			pool.FailNext(cognitotest.EndpointJWKS, 1, f)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, pool.Issuer()+"/.well-known/jwks.json", nil)
				if err == nil {
					var resp *http.Response
					if resp, err = http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				done <- err
			}()

			select {
			case <-held:
			case err := <-done:
				t.Fatalf("the request was answered instead of held: %v", err)
			}
			resp, _ := get(t, pool.Issuer()+"/.well-known/jwks.json")
			assert.Equal(t, http.StatusOK, resp.StatusCode, "the next request is served meanwhile")
			select {
			case err := <-done:
				t.Fatalf("the held request was answered: %v", err)
			default:
			}

			cancel() // the client gives up

			assert.ErrorIs(t, <-done, context.Canceled)
		})
	}
}

func TestCloseEndsHungRequests(t *testing.T) {
	s, err := cognitotest.Start()
	require.NoError(t, err)
	held := heldSignal(s)
	s.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(s.URL()+"/oauth2/token", "application/x-www-form-urlencoded", nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the request was answered instead of held: %v", err)
	}

	s.Close() // returns only once the hung handler has

	assert.Error(t, <-done, "the client gets no answer")
}

func TestRequestsCountsPerEndpointAndResets(t *testing.T) {
	pool := cognitotest.NewServer(t)
	get(t, pool.Issuer()+"/.well-known/jwks.json")
	get(t, pool.Issuer()+"/.well-known/jwks.json")
	get(t, pool.Issuer()+"/.well-known/openid-configuration")
	get(t, pool.URL()+"/logout")
	get(t, pool.URL()+"/nowhere")

	assert.Equal(t, 2, pool.Requests(cognitotest.EndpointJWKS))
	assert.Equal(t, 1, pool.Requests(cognitotest.EndpointDiscovery))
	assert.Equal(t, 1, pool.Requests(cognitotest.EndpointLogout))
	assert.Equal(t, 0, pool.Requests(cognitotest.EndpointToken))

	pool.ResetCounts()

	assert.Equal(t, 0, pool.Requests(cognitotest.EndpointJWKS))
	get(t, pool.Issuer()+"/.well-known/jwks.json")
	assert.Equal(t, 1, pool.Requests(cognitotest.EndpointJWKS))
}

// TestConcurrentUse is for -race: flows, minting, rotation and faults at once.
func TestConcurrentUse(t *testing.T) {
	pool := cognitotest.NewServer(t, cognitotest.WithRefreshTokenRotation(true))
	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw"})
	pool.SignInAs("alice")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				_, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)
				resp, refreshed := refresh(t, pool, tokens["refresh_token"].(string))
				assert.Equal(t, http.StatusOK, resp.StatusCode, refreshed)
				resp, _ = userInfo(t, pool, tokens["access_token"].(string))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		})
		wg.Go(func() {
			pool.RotateKeys()
			pool.MintIDToken("alice")
			pool.FailNext(cognitotest.EndpointDiscovery, 1, cognitotest.Failure{Status: http.StatusBadGateway})
			get(t, pool.Issuer()+"/.well-known/openid-configuration")
			pool.AddUser(cognitotest.User{Username: "bob"})
			pool.KeyIDs()
			pool.Requests(cognitotest.EndpointToken)
		})
	}
	wg.Wait()
	assert.Equal(t, 4*3*2, pool.Requests(cognitotest.EndpointToken))
}
