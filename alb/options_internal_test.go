package alb

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// TestNewVerifierResolvesCognitoOptions pins the bridge through
// internal/options: each option NewVerifier honours lands where it is used,
// and the defaults are cognito's.
func TestNewVerifierResolvesCognitoOptions(t *testing.T) {
	cfg := Config{
		LoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/a/1"},
		ClientIDs:        []string{"client"},
		Issuer:           "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_X",
	}
	v, err := NewVerifier(cfg)
	require.NoError(t, err)
	assert.Equal(t, "https://public-keys.auth.elb.us-west-2.amazonaws.com", v.keys.baseURL)
	assert.Equal(t, cognito.DefaultJWKSFetchTimeout, v.keys.timeout)
	assert.Equal(t, cognito.DefaultJWKSMinRefetchPeriod, v.keys.minRefetch)
	assert.Zero(t, v.leeway)
	require.NotNil(t, v.keys.client)
	assert.Equal(t, cognito.DefaultHTTPTimeout, v.keys.client.Timeout)
	assert.NotNil(t, v.keys.client.CheckRedirect, "the default client follows no redirect")

	client := &http.Client{}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	v, err = NewVerifier(cfg, cognito.WithHTTPClient(client), cognito.WithClock(func() time.Time { return at }),
		cognito.WithLeeway(7*time.Second), cognito.WithJWKSFetchTimeout(3*time.Second),
		cognito.WithJWKSMinRefetchInterval(11*time.Second), cognito.WithTokenCacheSize(1), nil)
	require.NoError(t, err)
	assert.Same(t, client, v.keys.client)
	assert.Equal(t, at, v.now())
	assert.Equal(t, at, v.keys.now())
	assert.Equal(t, 7*time.Second, v.leeway)
	assert.Equal(t, 3*time.Second, v.keys.timeout)
	assert.Equal(t, 11*time.Second, v.keys.minRefetch)
}
