package cognitotest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
)

// SigningKeyID returns the kid of the key that signs the pool's tokens of use:
// "access" for access tokens, anything else for ID tokens. It changes when
// RotateKeys makes new keys.
func (s *Server) SigningKeyID(use string) string { return s.keys.signer(use).kid }

// SigningKey returns the private key that signs the pool's tokens of use, as
// SigningKeyID names it. Tests use it to sign what SignRaw does not: another
// algorithm or hash, or a signing input with hand-made base64. Like every key
// of the fake, it is public test material.
func (s *Server) SigningKey(use string) *rsa.PrivateKey { return s.keys.signer(use).priv }

// SignRaw returns the compact JWS base64url(header).base64url(claims).sig,
// where sig is RS256 by the key that signs the pool's ID tokens over exactly
// these bytes: nothing is parsed, reordered or checked, so a test can make
// tokens with repeated members, claims of the wrong type or any alg. The
// header names the key with its kid, SigningKeyID("id"), for the token to
// verify. If signing fails, it reports the error to the test of NewServer and
// returns "".
func (s *Server) SignRaw(header, claims []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, s.SigningKey("id"), crypto.SHA256, digest[:])
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Errorf("cognitotest: signing a raw token: %v", err)
		}
		return ""
	}
	return input + "." + enc.EncodeToString(sig)
}
