package cognitotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"sync"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// testKeysPEM holds pre-generated 2048-bit RSA keys, because generating one
// takes a noticeable time and tests start many pools. They are public: tokens
// they sign prove nothing outside a test.
//
//go:embed testkeys.pem
var testKeysPEM []byte

var embeddedKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var keys []*rsa.PrivateKey
	for rest := testKeysPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return keys
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			if rk, ok := k.(*rsa.PrivateKey); ok {
				keys = append(keys, rk)
			}
		}
	}
})

// RotateOption changes what RotateKeys does.
type RotateOption interface{ applyRotate(*rotateSettings) }

type rotateSettings struct{ dropOld bool }

type dropOld struct{}

func (dropOld) applyRotate(s *rotateSettings) { s.dropOld = true }

// DropOld makes RotateKeys unpublish every previous key at once, as if their
// tokens had all expired, instead of keeping them in the JWKS.
var DropOld RotateOption = dropOld{}

// RotateKeys makes two fresh keys sign ID and access tokens from now on and
// publishes them first in the JWKS. The previous keys stay published, as
// Cognito keeps them while their tokens may be in use, until RetireKey
// removes them, or at once with RotateKeys(DropOld).
func (s *Server) RotateKeys(opts ...RotateOption) {
	var rs rotateSettings
	for _, o := range opts {
		if o != nil {
			o.applyRotate(&rs)
		}
	}
	id, err := s.keys.newKey()
	if err != nil {
		return // the old keys keep signing; crypto/rand does not fail in practice
	}
	access, err := s.keys.newKey()
	if err != nil {
		return
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if rs.dropOld {
		s.keys.published = nil
	}
	s.keys.published = append([]*signingKey{id, access}, s.keys.published...)
	s.keys.id, s.keys.access = id, access
}

// RetireKey removes the key kid from the JWKS and reports whether it was
// published. A retired key that still signs (one not rotated away yet) keeps
// signing, which makes tokens whose kid the JWKS lacks.
func (s *Server) RetireKey(kid string) bool {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	n := len(s.keys.published)
	s.keys.published = slices.DeleteFunc(s.keys.published, func(k *signingKey) bool { return k.kid == kid })
	return len(s.keys.published) < n
}

// KeyIDs lists the kids the JWKS publishes, newest first.
func (s *Server) KeyIDs() []string {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	kids := make([]string, len(s.keys.published))
	for i, k := range s.keys.published {
		kids[i] = k.kid
	}
	return kids
}

type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// keyring holds the pool's keys: two signers, as Cognito signs ID and access
// tokens with different keys, and the published ones.
type keyring struct {
	mu         sync.Mutex
	used       int // embedded keys taken so far
	id, access *signingKey
	published  []*signingKey          // the JWKS, newest first
	known      map[string]*signingKey // every key ever made, by kid
}

func (kr *keyring) init() error {
	id, err := kr.newKey()
	if err != nil {
		return err
	}
	access, err := kr.newKey()
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.id, kr.access = id, access
	kr.published = []*signingKey{id, access}
	return nil
}

// newKey takes the next embedded key, or generates one when they have run
// out, under a fresh random kid: pools share the embedded keys, not kids.
func (kr *keyring) newKey() (*signingKey, error) {
	kr.mu.Lock()
	var priv *rsa.PrivateKey
	if keys := embeddedKeys(); kr.used < len(keys) {
		priv = keys[kr.used]
		kr.used++
	}
	kr.mu.Unlock()
	if priv == nil {
		var err error
		if priv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("cognitotest: generating an RSA key: %w", err)
		}
	}
	// Cognito's kids are base64 (with + / =) of 32 bytes; keep that shape so
	// that consumers meet those characters in tests.
	b := make([]byte, 32)
	rand.Read(b)
	k := &signingKey{kid: base64.StdEncoding.EncodeToString(b), priv: priv}

	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.known == nil {
		kr.known = map[string]*signingKey{}
	}
	kr.known[k.kid] = k
	return k, nil
}

// signer is the key that signs tokens of the given use ("id" or "access").
func (kr *keyring) signer(use string) *signingKey {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if use == "access" {
		return kr.access
	}
	return kr.id
}

// verificationSet is every key the pool ever held, published or not: the
// pool itself keeps trusting its own tokens, as Cognito does.
func (kr *keyring) verificationSet() (jwk.Set, error) {
	kr.mu.Lock()
	keys := make([]*signingKey, 0, len(kr.known))
	for _, k := range kr.known {
		keys = append(keys, k)
	}
	kr.mu.Unlock()
	return publicSet(keys)
}

// jwks is the published key set.
func (kr *keyring) jwks() (jwk.Set, error) {
	kr.mu.Lock()
	keys := slices.Clone(kr.published)
	kr.mu.Unlock()
	return publicSet(keys)
}

func publicSet(keys []*signingKey) (jwk.Set, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.Import(&k.priv.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("cognitotest: %w", err)
		}
		for name, v := range map[string]any{
			jwk.KeyIDKey:     k.kid,
			jwk.AlgorithmKey: jwa.RS256(),
			jwk.KeyUsageKey:  jwk.ForSignature,
		} {
			if err := pub.Set(name, v); err != nil {
				return nil, fmt.Errorf("cognitotest: %w", err)
			}
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("cognitotest: %w", err)
		}
	}
	return set, nil
}
