package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cognitokit/cognito/cognitotest"
)

// TestNetworkVerbsTimeOut: an endpoint that never answers is given up on
// after --timeout, with one line that names it.
func TestNetworkVerbsTimeOut(t *testing.T) {
	for _, tt := range []struct {
		name     string
		endpoint cognitotest.Endpoint
		args     []string
		stdin    string
		want     string
	}{
		{"refresh", cognitotest.EndpointToken, []string{"refresh", "-"}, "some-refresh-token", "cognito refresh: endpoint unavailable: POST {{URL}}/oauth2/token: context deadline exceeded (timed out: raise --timeout if the endpoint is slow)\n"},
		{"revoke", cognitotest.EndpointRevoke, []string{"revoke", "-"}, "some-refresh-token", "cognito revoke: endpoint unavailable: POST {{URL}}/oauth2/revoke: context deadline exceeded (timed out: raise --timeout if the endpoint is slow)\n"},
		{"token", cognitotest.EndpointToken, []string{"token", "--client-credentials", "--scope", "orders/read"}, "", "cognito token: endpoint unavailable: POST {{URL}}/oauth2/token: context deadline exceeded (timed out: raise --timeout if the endpoint is slow)\n"},
		{"jwks", cognitotest.EndpointJWKS, []string{"jwks"}, "", "cognito jwks: GET {{URL}}/us-east-1_TestPool1/.well-known/jwks.json: context deadline exceeded (timed out: raise --timeout if the endpoint is slow)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pool := cognitotest.NewServer(t, cognitotest.WithAllowedScopes("openid", "orders/read"))
			pool.FailNext(tt.endpoint, 1, cognitotest.Failure{Hang: true})
			var stdout, stderr bytes.Buffer
			e := &env{stdin: strings.NewReader(tt.stdin), stdout: &stdout, stderr: &stderr, getenv: poolEnv(pool), now: time.Now}
			code := run(context.Background(), append(tt.args, "--timeout", "100ms"), e)
			assert.Equal(t, exitFailure, code)
			assert.Equal(t, strings.ReplaceAll(tt.want, "{{URL}}", pool.URL()), stderr.String())
			assert.Empty(t, stdout.String())
			assert.NotContains(t, stderr.String(), "some-refresh-token")
			assert.NotContains(t, stderr.String(), pool.Config().ClientSecret)
		})
	}

	t.Run("verify", func(t *testing.T) {
		pool := cognitotest.NewServer(t)
		tok := pool.MintIDToken("alice")
		pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Hang: true})
		var stdout, stderr bytes.Buffer
		e := &env{stdin: strings.NewReader(tok), stdout: &stdout, stderr: &stderr, getenv: poolEnv(pool), now: time.Now}
		code := run(context.Background(), []string{"verify", "--timeout", "100ms", "-"}, e)
		assert.Equal(t, exitFailure, code)
		assert.Regexp(t, `^invalid: jwks: could not fetch the pool's keys from `+pool.Issuer()+`/.well-known/jwks.json \(.*\): the token may be fine; .* \(cognito.ErrJWKSUnavailable\)\n$`, stderr.String())
	})
}
