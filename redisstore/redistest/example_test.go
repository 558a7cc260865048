package redistest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/redisstore/redistest"
)

// A test of an app whose sessions and revocation list are in Redis. (Not
// run: it needs the test's t; TestSessionsOnRedis runs the same.)
func ExampleNewServer() {
	var t *testing.T // in a test: func TestX(t *testing.T)

	srv := redistest.NewServer(t) // skips the test when redis-server is not installed
	store := srv.Store(t)         // a redisstore.Store under a key prefix of the test's own
	cfg := cognitotest.NewServer(t).Config()
	client, err1 := cognito.NewClient(cfg)
	verifier, err2 := cognito.NewVerifier(cfg, cognito.WithRevocationList(store))
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	_ = sessions // route the app's handlers to it, and test them
}

// One server for a whole package, started by TestMain and stopped once the
// tests have run. (Not run: it is a TestMain.)
func ExampleStart() {
	var m *testing.M // func TestMain(m *testing.M)

	srv, err := redistest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // ErrNoRedisServer: the tests that need it skip
	}
	code := m.Run() // the tests open srv.URL() with redisstore.Open
	if srv != nil {
		srv.Close()
	}
	os.Exit(code)
}

// TestSessionsOnRedis is the guide's example: a user signs in to an app
// whose sessions are in a redis-server of the test's own.
func TestSessionsOnRedis(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	store := redistest.NewServer(t).Store(t) // skips the test without redis-server

	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	require.NoError(t, pool.SetRedirectURIs(pool.Config().ClientID, app.URL+"/callback"))
	cfg := pool.Config()
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	verifier, err := cognito.NewVerifier(cfg, cognito.WithRevocationList(store))
	require.NoError(t, err)
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	require.NoError(t, err)
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.IDToken.Username)
	})))

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	req, err := http.NewRequest(http.MethodGet, app.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load
	res, err := browser.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "hello alice", string(body))
	keys, err := store.Client().Keys(t.Context(), "redistest:*").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, keys, "the session is in Redis")
}
