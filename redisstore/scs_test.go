package redisstore_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/redisstore"
)

var (
	_ cognito.SessionStore = (*redisstore.Store)(nil)
	_ scsStore             = (*goredisstore.RedisStore)(nil)
	// scs's own Redis store fits cognito.SessionStore with no adapter.
	_ cognito.SessionStore = (*goredisstore.RedisStore)(nil)
)

// scsStoreOn opens scs's goredisstore, as an app that already keeps its scs
// sessions in Redis has it, under a prefix of the test's own.
func scsStoreOn(u, prefix string) storeOpener {
	return func(t *testing.T) (cognito.SessionStore, func()) {
		o, err := redis.ParseURL(u)
		require.NoError(t, err)
		client := redis.NewClient(o)
		return goredisstore.NewWithPrefix(client, prefix), func() { _ = client.Close() }
	}
}

// TestSCSRedisStorePlugsIn runs two replicas whose sessions and revocation
// list are in scs's goredisstore, unchanged: sign-in on A is seen on B, B
// refreshes at expiry, and a sign-out on A is refused by B's API. Its plain
// Find, Commit and Delete panic ("missing context arg"), so this also shows
// that Sessions and the Verifier call only the ctx variants when a store has
// them.
func TestSCSRedisStorePlugsIn(t *testing.T) {
	u := redisURL(t)
	prefix := "test:" + randomID(t) + ":"
	clk := newClock(time.Now().Truncate(time.Second))
	lnA, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lnB, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	urlA, urlB := "http://"+lnA.Addr().String(), "http://"+lnB.Addr().String()
	pool := cognitotest.NewServer(t,
		cognitotest.WithClock(clk.Now),
		cognitotest.WithRefreshTokenRotation(true),
		cognitotest.WithRedirectURI(urlA+"/callback", urlB+"/callback"),
		cognitotest.WithLogoutURI(urlA+"/", urlB+"/"),
	)
	pool.AddUser(cognitotest.User{Username: "carol", Email: "carol@example.com"})
	pool.SignInAs("carol")
	a := startReplica(t, "A", lnA, pool, clk, scsStoreOn(u, prefix))
	b := startReplica(t, "B", lnB, pool, clk, scsStoreOn(u, prefix))
	browser := newUser(t)

	first := browser.signIn(a)
	assert.Equal(t, "carol@example.com", first.Email)
	assert.Equal(t, first.AccessToken, browser.mustPage(b).AccessToken, "B reads A's session from scs's store")

	clk.Advance(cognitotest.DefaultTokenLifetime)
	fresh := browser.mustPage(b)
	assert.NotEqual(t, first.AccessToken, fresh.AccessToken, "B refreshed and stored the tokens")
	assert.Equal(t, fresh.AccessToken, browser.mustPage(a).AccessToken, "A reads them")
	assert.Equal(t, 1, pool.Requests(cognitotest.EndpointAuthorize), "no new sign-in")

	require.Equal(t, http.StatusOK, callAPI(t, b, fresh.AccessToken).status)
	out, err := browser.do(browser.single, http.MethodPost, a.url+"/logout", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, out.status)
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, b, fresh.AccessToken).status, "B's API refuses the signed-out token")
	gone, _, err := browser.page(b)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, gone.status)
}
