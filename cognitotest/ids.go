package cognitotest

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// newUUID is a random version 4 UUID: Cognito's subs, codes, jtis and event IDs.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return uuidFrom(b)
}

// refreshTokenHeader is the protected header of Cognito's refresh tokens,
// which are JWEs that only Cognito can read.
var refreshTokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`))

// newRefreshToken is an opaque refresh token with the shape and size (about
// 1.7 KB) of Cognito's, so that apps that keep it in a cookie meet its real
// size in tests.
func newRefreshToken() string {
	part := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return strings.Join([]string{refreshTokenHeader, part(256), part(12), part(900), part(16)}, ".")
}
