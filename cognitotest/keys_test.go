package cognitotest_test

import (
	"net/http"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// kidOf reads the kid in tok's header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	msg, err := jws.ParseString(tok)
	require.NoError(t, err)
	kid, ok := msg.Signatures()[0].ProtectedHeaders().KeyID()
	require.True(t, ok)
	return kid
}

func jwksKids(t *testing.T, pool *cognitotest.Server) []string {
	t.Helper()
	resp, body := get(t, pool.Issuer()+"/.well-known/jwks.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var kids []string
	for _, k := range decodeJSON(t, body)["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"].(string))
	}
	return kids
}

func TestJWKSPublishesTwoRSAKeys(t *testing.T) {
	pool := cognitotest.NewServer(t)

	resp, body := get(t, pool.Issuer()+"/.well-known/jwks.json")

	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	keys := decodeJSON(t, body)["keys"].([]any)
	require.Len(t, keys, 2)
	for _, k := range keys {
		key := k.(map[string]any)
		assert.ElementsMatch(t, []string{"alg", "e", "kid", "kty", "n", "use"}, mapKeys(key))
		assert.Equal(t, "RS256", key["alg"])
		assert.Equal(t, "RSA", key["kty"])
		assert.Equal(t, "sig", key["use"])
		assert.Equal(t, "AQAB", key["e"])
		assert.Len(t, key["n"], 342, "a 2048-bit modulus")
		assert.Len(t, key["kid"], 44, "base64 of 32 bytes, as Cognito's kids")
	}
	assert.ElementsMatch(t, pool.KeyIDs(), jwksKids(t, pool))
}

func mapKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestIDAndAccessTokensUseDifferentKeys(t *testing.T) {
	pool := cognitotest.NewServer(t)
	pool.AddUser(cognitotest.User{Username: "alice"})
	_, tokens := exchange(t, pool, codeFor(t, pool, "alice", authorizeParams(pool)), nil)

	idKid, accessKid := kidOf(t, tokens["id_token"].(string)), kidOf(t, tokens["access_token"].(string))

	assert.NotEqual(t, idKid, accessKid)
	assert.ElementsMatch(t, []string{idKid, accessKid}, pool.KeyIDs())
	assert.Equal(t, idKid, kidOf(t, pool.MintIDToken("alice")))
	assert.Equal(t, accessKid, kidOf(t, pool.MintAccessToken("alice")))
}

func TestPoolsDoNotShareKids(t *testing.T) {
	a, b := cognitotest.NewServer(t), cognitotest.NewServer(t)
	assert.NotContains(t, b.KeyIDs(), a.KeyIDs()[0])
	assert.NotContains(t, b.KeyIDs(), a.KeyIDs()[1])
}

func TestRotateKeysKeepsOldKeysUntilRetired(t *testing.T) {
	pool := cognitotest.NewServer(t)
	old := pool.MintIDToken("alice")
	oldKids := pool.KeyIDs()

	pool.RotateKeys()

	kids := pool.KeyIDs()
	require.Len(t, kids, 4)
	assert.Equal(t, oldKids, kids[2:], "new keys come first, old ones stay")
	assert.Equal(t, kids, jwksKids(t, pool))
	fresh := pool.MintIDToken("alice")
	assert.Contains(t, kids[:2], kidOf(t, fresh))
	verify(t, pool, fresh)
	verify(t, pool, old)

	for _, kid := range oldKids {
		assert.True(t, pool.RetireKey(kid))
	}
	assert.False(t, pool.RetireKey(oldKids[0]), "already retired")
	assert.Equal(t, kids[:2], jwksKids(t, pool))
	verify(t, pool, fresh)
}

func TestRotateKeysDropOld(t *testing.T) {
	pool := cognitotest.NewServer(t)
	oldKids := pool.KeyIDs()

	pool.RotateKeys(cognitotest.DropOld)

	kids := jwksKids(t, pool)
	assert.Len(t, kids, 2)
	assert.NotContains(t, kids, oldKids[0])
	assert.NotContains(t, kids, oldKids[1])
}

func TestRotateKeysBeyondTheEmbeddedKeys(t *testing.T) {
	pool := cognitotest.NewServer(t)
	seen := map[string]bool{}
	for range 4 { // 2 + 4*2 = 10 keys: more than the 8 embedded ones
		pool.RotateKeys(cognitotest.DropOld)
		for _, kid := range pool.KeyIDs() {
			assert.False(t, seen[kid])
			seen[kid] = true
		}
	}
	verify(t, pool, pool.MintAccessToken("alice"))
}

func TestRetiringTheSigningKeyMakesUnknownKids(t *testing.T) {
	pool := cognitotest.NewServer(t)
	tok := pool.MintIDToken("alice")

	require.True(t, pool.RetireKey(kidOf(t, tok)))

	assert.NotContains(t, jwksKids(t, pool), kidOf(t, pool.MintIDToken("alice")))
}

func TestDiscoveryDocument(t *testing.T) {
	pool := cognitotest.NewServer(t)

	resp, body := get(t, pool.Issuer()+"/.well-known/openid-configuration")

	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc := decodeJSON(t, body)
	assert.Equal(t, pool.Issuer(), doc["issuer"])
	assert.Equal(t, pool.Issuer()+"/.well-known/jwks.json", doc["jwks_uri"])
	assert.Equal(t, pool.URL()+"/oauth2/authorize", doc["authorization_endpoint"])
	assert.Equal(t, pool.URL()+"/oauth2/token", doc["token_endpoint"])
	assert.Equal(t, pool.URL()+"/oauth2/userInfo", doc["userinfo_endpoint"])
	assert.Equal(t, pool.URL()+"/oauth2/revoke", doc["revocation_endpoint"])
	assert.Equal(t, pool.URL()+"/logout", doc["end_session_endpoint"])
	assert.Equal(t, []any{"RS256"}, doc["id_token_signing_alg_values_supported"])
}

func TestWellKnownRefusesPost(t *testing.T) {
	pool := cognitotest.NewServer(t)
	resp, _ := postForm(t, pool.Issuer()+"/.well-known/jwks.json", nil, "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
