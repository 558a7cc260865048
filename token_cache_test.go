package cognito

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenCacheBound(t *testing.T) {
	c := newTokenCache(64)
	for i := range 1000 {
		c.put(fmt.Sprintf("token-%d.sig-%d", i, i), &verified{use: "id"})
	}
	assert.LessOrEqual(t, c.len(), 64)
	assert.Equal(t, 64, c.len(), "the cache fills up to its bound")

	c.put("token-x", &verified{use: "id"})
	assert.NotNil(t, c.get("token-x"), "the newest entry is kept")
	c.remove("token-x")
	assert.Nil(t, c.get("token-x"))
	assert.Equal(t, 63, c.len(), "a removal counts")
	c.remove("token-x")
	assert.Equal(t, 63, c.len(), "removing what is gone counts nothing")
	c.put("token-y", &verified{use: "id"})
	c.put("token-y", &verified{use: "access"})
	assert.Equal(t, 64, c.len(), "storing a token again replaces it")
	assert.Equal(t, "access", c.get("token-y").use)
}

func TestTokenCacheOff(t *testing.T) {
	assert.Nil(t, newTokenCache(0))
	assert.Nil(t, newTokenCache(-1))
}

func TestTokenCacheRetain(t *testing.T) {
	k1, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	a := &publicKey{pub: &k1.PublicKey}
	b := &publicKey{pub: &k2.PublicKey}

	mine, other := &Verifier{}, &Verifier{}
	c := newTokenCache(1024) // roomy: no entry may be evicted for want of space
	c.put("signed-by-a", &verified{kid: "a", key: a, by: mine})
	c.put("signed-by-b", &verified{kid: "b", key: b, by: mine})
	c.put("signed-by-c", &verified{kid: "c", key: b, by: mine})
	c.put("another pool's", &verified{kid: "c", key: b, by: other})

	// The same material under a new pointer, as a refetch parses it, is kept;
	// a kid whose material changed, and a kid that left, are dropped.
	c.retain(mine, &keySet{keys: map[string]*publicKey{
		"a": {pub: &rsa.PublicKey{N: k1.N, E: k1.E}},
		"b": a,
	}})
	assert.NotNil(t, c.get("signed-by-a"))
	assert.Nil(t, c.get("signed-by-b"))
	assert.Nil(t, c.get("signed-by-c"))
	assert.NotNil(t, c.get("another pool's"), "a shared cache keeps what another Verifier's keys signed")
	assert.Equal(t, 2, c.len())

	c.dropBy(other)
	assert.Nil(t, c.get("another pool's"))
	assert.NotNil(t, c.get("signed-by-a"), "dropBy drops only that Verifier's tokens")
	assert.Equal(t, 1, c.len())
}
