package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cognitokit/cognito"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// verifyFunc verifies one token under the rules its contender can check. It
// is safe for concurrent use.
type verifyFunc func(ctx context.Context, raw string) error

// contender is one way to trust a token. setup runs outside the timer.
type contender struct {
	name     string
	kind     string // "id" or "access": which tokens it verifies
	repeated bool   // one token over and over, instead of distinctTokens of them
	setup    func(tb testing.TB, f *fixture) (verifyFunc, error)
}

// contenders in the order the table prints them; the floor comes first
// because every ratio is taken to it.
var contenders = []contender{
	{name: "floor", kind: "id", setup: newFloor},
	{name: "cognito-id", kind: "id", setup: newCognito("id", cognito.WithTokenCacheSize(0))},
	{name: "cognito-access", kind: "access", setup: newCognito("access", cognito.WithTokenCacheSize(0))},
	{name: "cognito-id-repeated", kind: "id", repeated: true, setup: newCognito("id")},
	// Every verify misses a small cache and evicts: the cache's cost when
	// tokens are rarely seen twice.
	{name: "cognito-id-cachemiss", kind: "id", setup: newCognito("id", cognito.WithTokenCacheSize(distinctTokens/4))},
	{name: "go-oidc", kind: "id", setup: newGoOIDC},
	{name: "golang-jwt", kind: "id", setup: newGolangJWT},
	{name: "jwx", kind: "id", setup: newJWX},
}

// tokens are the tokens c verifies, in the order it cycles through them.
func (c contender) tokens(f *fixture) []string {
	all := f.idTokens
	if c.kind == "access" {
		all = f.accessTokens
	}
	if c.repeated {
		return all[:1]
	}
	return all
}

// idFields are the Cognito claims beyond the registered ones that a caller
// of any contender wants in hand; peers that leave claims undecoded decode
// these, so every contender ends with the same typed values.
type idFields struct {
	TokenUse      string   `json:"token_use"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Username      string   `json:"cognito:username"`
	Groups        []string `json:"cognito:groups"`
	AuthTime      int64    `json:"auth_time"`
}

// newFloor checks the signature and nothing else: base64-decode it, SHA-256
// the signing input, rsa.VerifyPKCS1v15. No verifier can do less.
func newFloor(_ testing.TB, f *fixture) (verifyFunc, error) {
	pub := &f.key.PublicKey
	return func(_ context.Context, raw string) error {
		dot := strings.LastIndexByte(raw, '.')
		if dot < 0 {
			return errors.New("floor: no signature")
		}
		sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
		if err != nil {
			return err
		}
		digest := sha256.Sum256([]byte(raw[:dot]))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	}, nil
}

// newCognito is this library's VerifyIDToken or VerifyAccessToken (by kind)
// with opts, its JWKS served on loopback and the clock fixed. Its checks are
// the core's, all of them.
func newCognito(kind string, opts ...cognito.Option) func(testing.TB, *fixture) (verifyFunc, error) {
	return func(tb testing.TB, f *fixture) (verifyFunc, error) {
		srv := f.jwksServer(tb)
		v, err := cognito.NewVerifier(cognito.Config{
			UserPoolID: poolID,
			ClientID:   clientID,
			JWKSURL:    srv.URL + "/.well-known/jwks.json",
		}, append([]cognito.Option{cognito.WithHTTPClient(srv.Client()), cognito.WithClock(now)}, opts...)...)
		if err != nil {
			return nil, err
		}
		if kind == "access" {
			return func(ctx context.Context, raw string) error {
				_, err := v.VerifyAccessToken(ctx, raw)
				return err
			}, nil
		}
		return func(ctx context.Context, raw string) error {
			_, err := v.VerifyIDToken(ctx, raw)
			return err
		}, nil
	}
}

// newGoOIDC is go-oidc's IDTokenVerifier over a static key set (it ignores
// kid and tries each key), then token_use from the claims.
func newGoOIDC(_ testing.TB, f *fixture) (verifyFunc, error) {
	v := oidc.NewVerifier(issuer,
		&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&f.key.PublicKey}},
		&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{oidc.RS256}, Now: now})
	return func(ctx context.Context, raw string) error {
		tok, err := v.Verify(ctx, raw)
		if err != nil {
			return err
		}
		var c idFields
		if err := tok.Claims(&c); err != nil {
			return err
		}
		if c.TokenUse != "id" {
			return fmt.Errorf("go-oidc: token_use %q, want id", c.TokenUse)
		}
		return nil
	}, nil
}

// jwtIDClaims are golang-jwt's registered claims plus Cognito's, decoded in
// the one pass; Validate adds the token_use check to the parser's.
type jwtIDClaims struct {
	jwt.RegisteredClaims
	idFields
}

func (c *jwtIDClaims) Validate() error {
	if c.TokenUse != "id" {
		return fmt.Errorf("golang-jwt: token_use %q, want id", c.TokenUse)
	}
	return nil
}

// newGolangJWT is golang-jwt v5 restricted to RS256, with issuer, audience,
// exp required, iat not in the future, and the key found by kid in a map.
func newGolangJWT(_ testing.TB, f *fixture) (verifyFunc, error) {
	keys := map[string]*rsa.PublicKey{keyID: &f.key.PublicKey}
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("golang-jwt: unknown kid %q", kid)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(clientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	)
	return func(_ context.Context, raw string) error {
		_, err := p.ParseWithClaims(raw, &jwtIDClaims{}, keyfunc)
		return err
	}, nil
}

// newJWX is jwx v3's jwt.Parse with the JWKS as a key set (kid required, alg
// from the key) and validation of iss, aud, exp (required) and token_use.
func newJWX(_ testing.TB, f *fixture) (verifyFunc, error) {
	set, err := jwk.Parse(f.jwks)
	if err != nil {
		return nil, err
	}
	opts := []jwxjwt.ParseOption{
		jwxjwt.WithKeySet(set),
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(issuer),
		jwxjwt.WithAudience(clientID),
		jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
		jwxjwt.WithClaimValue("token_use", "id"),
		jwxjwt.WithClock(jwxjwt.ClockFunc(now)),
	}
	return func(_ context.Context, raw string) error {
		_, err := jwxjwt.ParseString(raw, opts...)
		return err
	}, nil
}
