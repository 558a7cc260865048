package cognitotest_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func TestFailNextTrickleSendsHeadersThenOneByteAtATime(t *testing.T) {
	pool := cognitotest.NewServer(t)
	held := heldSignal(pool)
	pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: `{"keys":[]}`, Trickle: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pool.Issuer()+"/.well-known/jwks.json", nil)
	require.NoError(t, err)

	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the status and headers come at once")
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	<-held
	first := make([]byte, 4)
	n, err := resp.Body.Read(first)
	require.NoError(t, err)
	assert.Equal(t, "{", string(first[:n]), "the first byte comes alone, the next one an hour later")

	cancel() // the client gives up mid-body
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.Canceled)
	resp2, body := get(t, pool.Issuer()+"/.well-known/jwks.json")
	assert.Equal(t, http.StatusOK, resp2.StatusCode, "the next request is served")
	assert.Contains(t, body, `"kty":"RSA"`)
}

func TestFailNextTrickleDeliversTheWholeBody(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html", Trickle: time.Microsecond})

	resp, err := http.Post(pool.URL()+"/oauth2/token", "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "<html>bad gateway</html>", string(body))
}

func TestCloseEndsATrickle(t *testing.T) {
	s, err := cognitotest.Start()
	require.NoError(t, err)
	held := heldSignal(s)
	s.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Body: "0123456789", Trickle: time.Hour})
	resp, err := http.Get(s.Issuer() + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	<-held

	s.Close() // returns only once the trickling handler has

	body, err := io.ReadAll(resp.Body)
	assert.Error(t, err, "the body ends early")
	assert.Equal(t, "0", string(body))
}
