package cognitotest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// myHandler stands for the handler a user tests behind the middleware.
var myHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	at, _ := cognito.AccessTokenFromContext(r.Context())
	_, _ = w.Write([]byte(at.Username))
})

// TestMyHandler is docs/testing.md's example of testing a handler against
// the fake pool, run as a test.
func TestMyHandler(t *testing.T) {
	pool := cognitotest.NewServer(t) // closed by t.Cleanup
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admins"}})
	verifier, err := cognito.NewVerifier(pool.Config())
	require.NoError(t, err)
	api := cognito.RequireAccessToken(verifier)(myHandler)

	for token, want := range map[string]int{
		pool.MintAccessToken("alice"):                        http.StatusOK,
		pool.MintAccessToken("alice", cognitotest.Expired()): http.StatusUnauthorized,
	} {
		w, r := httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		api.ServeHTTP(w, r)
		assert.Equal(t, want, w.Code)
	}
	pool.RotateKeys() // a new signing key, published in the JWKS
	pool.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: 500})
	// ... and pool.Requests(cognitotest.EndpointJWKS) counts the fetches
}
