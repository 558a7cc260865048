package bench

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384 for the wrong-alg case
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// The one user pool, app client and key every contender checks against.
const (
	poolID   = "us-east-1_BenchPool"
	issuer   = "https://cognito-idp.us-east-1.amazonaws.com/" + poolID
	clientID = "5benchclient0id00000000000"
	keyID    = "bench-2048-rs256"

	// distinctTokens tokens differ only in their jti (and origin_jti,
	// event_id): cycling through them defeats any verified-token cache.
	distinctTokens = 1024
)

var (
	issuedAt = time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z
	expiry   = issuedAt.Add(time.Hour)
	// fixedNow is inside every fixture token's validity window.
	fixedNow = issuedAt.Add(10 * time.Minute)
)

func now() time.Time { return fixedNow }

// idClaims are the claims of a Cognito ID token, in the order Cognito writes them.
type idClaims struct {
	Sub             string   `json:"sub"`
	Groups          []string `json:"cognito:groups"`
	EmailVerified   bool     `json:"email_verified"`
	Iss             string   `json:"iss"`
	CognitoUsername string   `json:"cognito:username"`
	OriginJTI       string   `json:"origin_jti"`
	Aud             string   `json:"aud"`
	EventID         string   `json:"event_id"`
	TokenUse        string   `json:"token_use"`
	AuthTime        int64    `json:"auth_time"`
	Exp             int64    `json:"exp"`
	Iat             int64    `json:"iat"`
	JTI             string   `json:"jti"`
	Email           string   `json:"email"`
}

// accessClaims are the claims of a Cognito access token, in Cognito's order.
type accessClaims struct {
	Sub       string   `json:"sub"`
	Groups    []string `json:"cognito:groups"`
	Iss       string   `json:"iss"`
	Version   int      `json:"version"`
	ClientID  string   `json:"client_id"`
	OriginJTI string   `json:"origin_jti"`
	EventID   string   `json:"event_id"`
	TokenUse  string   `json:"token_use"`
	Scope     string   `json:"scope"`
	AuthTime  int64    `json:"auth_time"`
	Exp       int64    `json:"exp"`
	Iat       int64    `json:"iat"`
	JTI       string   `json:"jti"`
	Username  string   `json:"username"`
}

const subject = "94e8f4a8-5061-70d1-8e1c-2a5f0c6d3b7e"

// uuid is a fixed, UUID-shaped string per (kind, i).
func uuid(kind, i int) string {
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", i, kind, 0xbe7c4+i)
}

func idClaimsFor(i int) idClaims {
	return idClaims{
		Sub:             subject,
		Groups:          []string{"admins", "users"},
		EmailVerified:   true,
		Iss:             issuer,
		CognitoUsername: "jane.doe",
		OriginJTI:       uuid(1, i),
		Aud:             clientID,
		EventID:         uuid(2, i),
		TokenUse:        "id",
		AuthTime:        issuedAt.Unix(),
		Exp:             expiry.Unix(),
		Iat:             issuedAt.Unix(),
		JTI:             uuid(3, i),
		Email:           "jane.doe@example.com",
	}
}

func accessClaimsFor(i int) accessClaims {
	return accessClaims{
		Sub:       subject,
		Groups:    []string{"admins", "users"},
		Iss:       issuer,
		Version:   2,
		ClientID:  clientID,
		OriginJTI: uuid(1, i),
		EventID:   uuid(2, i),
		TokenUse:  "access",
		Scope:     "aws.cognito.signin.user.admin phone openid profile email",
		AuthTime:  issuedAt.Unix(),
		Exp:       expiry.Unix(),
		Iat:       issuedAt.Unix(),
		JTI:       uuid(4, i),
		Username:  "jane.doe",
	}
}

// fixture is the key, its JWKS and the pre-minted tokens shared by every
// contender. It is built once per test binary.
type fixture struct {
	key  *rsa.PrivateKey
	jwks []byte // {"keys":[{kid, alg RS256, use sig, n, e}]}

	idTokens     []string // distinctTokens ID tokens
	accessTokens []string // distinctTokens access tokens
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	key, err := readKey("testdata/rsa2048.pem")
	if err != nil {
		return nil, err
	}
	jwks, err := jwksFor(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	f := &fixture{key: key, jwks: jwks}
	for i := range distinctTokens {
		id, err := f.mint(nil, idClaimsFor(i))
		if err != nil {
			return nil, err
		}
		access, err := f.mint(nil, accessClaimsFor(i))
		if err != nil {
			return nil, err
		}
		f.idTokens = append(f.idTokens, id)
		f.accessTokens = append(f.accessTokens, access)
	}
	return f, nil
})

func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	f, err := loadFixture()
	if err != nil {
		tb.Fatalf("bench fixture: %v", err)
	}
	return f
}

func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok || key.N.BitLen() != 2048 {
		return nil, fmt.Errorf("%s: want a 2048-bit RSA key, got %T", path, k)
	}
	return key, nil
}

func jwksFor(pub *rsa.PublicKey) ([]byte, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	return json.Marshal(map[string]any{"keys": []map[string]string{{
		"kid": keyID,
		"alg": "RS256",
		"kty": "RSA",
		"use": "sig",
		"n":   b64(pub.N.Bytes()),
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// mint signs claims with the fixture key under header (nil: Cognito's
// {"kid","alg":"RS256"}).
func (f *fixture) mint(header, claims any) (string, error) {
	return f.mintWith(crypto.SHA256, header, claims)
}

// mintWith is mint with RSASSA-PKCS1-v1_5 over hash, whatever header says.
func (f *fixture) mintWith(hash crypto.Hash, header, claims any) (string, error) {
	if header == nil {
		header = struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		}{keyID, "RS256"}
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(h) + "." + b64(c)
	digest := hash.New()
	digest.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, f.key, hash, digest.Sum(nil))
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// jwksServer serves the fixture's JWKS on loopback until the benchmark ends.
func (f *fixture) jwksServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.jwks)
	}))
	tb.Cleanup(srv.Close)
	return srv
}
