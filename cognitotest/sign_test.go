package cognitotest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

func TestSigningKeyIDNamesThePublishedSigners(t *testing.T) {
	pool := cognitotest.NewServer(t)
	id, access := pool.SigningKeyID("id"), pool.SigningKeyID("access")
	assert.NotEqual(t, id, access, "Cognito signs ID and access tokens with different keys")
	assert.ElementsMatch(t, []string{id, access}, pool.KeyIDs())
	assert.Equal(t, id, kidOf(t, pool.MintIDToken("alice")))
	assert.Equal(t, access, kidOf(t, pool.MintAccessToken("alice")))

	pool.RotateKeys()
	assert.NotEqual(t, id, pool.SigningKeyID("id"))
	assert.Equal(t, pool.SigningKeyID("id"), kidOf(t, pool.MintIDToken("alice")))
}

func TestSigningKeyMatchesTheJWKS(t *testing.T) {
	pool := cognitotest.NewServer(t)
	set, err := jwk.Fetch(t.Context(), pool.Issuer()+"/.well-known/jwks.json")
	require.NoError(t, err)
	for _, use := range []string{"id", "access"} {
		k, ok := set.LookupKeyID(pool.SigningKeyID(use))
		require.True(t, ok, use)
		var pub rsa.PublicKey
		require.NoError(t, jwk.Export(k, &pub))
		assert.True(t, pub.Equal(pool.SigningKey(use).Public()), use)
	}
}

func TestSignRawKeepsTheBytesAndVerifies(t *testing.T) {
	pool := cognitotest.NewServer(t)
	// Repeated members and odd spacing survive: SignRaw does not parse.
	header := `{"alg":"RS256", "kid":"` + pool.SigningKeyID("id") + `","typ":"JWT","typ":"x"}`
	claims := `{"sub":"mallory","exp":"soon","exp":1}`

	tok := pool.SignRaw([]byte(header), []byte(claims))

	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	c, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	assert.Equal(t, header, string(h))
	assert.Equal(t, claims, string(c))

	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := pool.SigningKey("id").Public().(*rsa.PublicKey)
	require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig))
}

func TestSignRawVerifiesAgainstTheJWKS(t *testing.T) {
	pool := cognitotest.NewServer(t)
	tok := pool.SignRaw([]byte(`{"kid":"`+pool.SigningKeyID("id")+`","alg":"RS256"}`), []byte(`{"sub":"s1","n":1}`))
	c := verify(t, pool, tok)
	assert.Equal(t, "s1", c["sub"])
}
