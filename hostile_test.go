package cognito_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // crypto.SHA1, for a case signed with it
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// The hostile-token suite: RFC 8725 and OWASP JWT attacks, every claim of the
// wrong type, and each Cognito rule, each case with the one sentinel that says
// why it is refused (or nil when it must be accepted). Tokens are built from
// raw header and claims bytes and signed by the fake pool's keys, so that the
// hostile part is the only thing wrong with them. Every case runs on a fresh
// Verifier whose Issuer is derived from the pool ID, as in production.

// hostileIssuer is the issuer the suite's Verifier derives from the pool ID.
const hostileIssuer = "https://cognito-idp.us-east-1.amazonaws.com/" + cognitotest.DefaultPoolID

var b64u = base64.RawURLEncoding

// member is one member of a JSON object: name as written between the quotes
// (escapes allowed) and value as raw JSON.
type member struct{ name, value string }

// object is a JSON object kept in order, so that tests can repeat members and
// write values of any type.
type object []member

// set replaces the first member called name, or appends it.
func (o object) set(name, value string) object {
	out := append(object(nil), o...)
	for i, m := range out {
		if m.name == name {
			out[i].value = value
			return out
		}
	}
	return append(out, member{name, value})
}

// add appends a member even when one of that name exists.
func (o object) add(name, value string) object {
	return append(append(object(nil), o...), member{name, value})
}

func (o object) del(name string) object {
	var out object
	for _, m := range o {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

func (o object) bytes() []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m.name + `":` + m.value)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// sortedMap ranges over m in the order of its keys, so that the suite runs
// its cases in the same order every time.
func sortedMap[V any](m map[string]V) iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// q quotes s as a JSON string.
func q(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// hostileEnv is what the cases are built from.
type hostileEnv struct {
	pool               *cognitotest.Server
	clock              *cognitotest.Clock
	now                int64 // the clock's second, when every case runs
	kid, accessKid     string
	idKey, accessKey   *rsa.PrivateKey
	attacker, weak     *rsa.PrivateKey
	idJWK              string // the JWKS member of the ID key, as the pool serves it
	attackerURL        string // a loopback server that must never be contacted
	attackerHits       *atomic.Int64
	attackerCertDER    []byte
	idClaims, acClaims object
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	e := &hostileEnv{
		pool: pool, clock: clock, now: clock.Now().Unix(),
		kid: pool.SigningKeyID("id"), accessKid: pool.SigningKeyID("access"),
		idKey: pool.SigningKey("id"), accessKey: pool.SigningKey("access"),
		attackerHits: new(atomic.Int64),
	}
	var err error
	e.attacker, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	e.weak, err = rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	// The ID key's JWKS member, fetched as an attacker would.
	res, err := http.Get(pool.Issuer() + "/.well-known/jwks.json")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	var doc struct{ Keys []json.RawMessage }
	require.NoError(t, json.Unmarshal(body, &doc))
	for _, k := range doc.Keys {
		var m struct{ Kid string }
		require.NoError(t, json.Unmarshal(k, &m))
		if m.Kid == e.kid {
			e.idJWK = string(k)
		}
	}
	require.NotEmpty(t, e.idJWK)
	pool.ResetCounts()

	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cognito-idp.us-east-1.amazonaws.com"},
		NotBefore: clock.Now().Add(-time.Hour), NotAfter: clock.Now().Add(time.Hour),
	}
	e.attackerCertDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &e.attacker.PublicKey, e.attacker)
	require.NoError(t, err)

	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		e.attackerHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[`+jwkJSON(&e.attacker.PublicKey, "attacker", "RS256", "sig", "")+`]}`)
	}))
	t.Cleanup(attacker.Close)
	e.attackerURL = attacker.URL

	e.idClaims = object{
		{"sub", q("8d6b6f1e-8c1a-4a57-9e0b-6b1f3c2a9d10")},
		{"cognito:groups", `["admins"]`},
		{"email_verified", "true"},
		{"iss", q(hostileIssuer)},
		{"cognito:username", q("alice")},
		{"nonce", q("n-123")},
		{"origin_jti", q("5f1c8e3a-2b7d-4c9e-8a6f-1d2e3f4a5b6c")},
		{"aud", q(cognitotest.DefaultClientID)},
		{"event_id", q("0b9e6c1d-7a2f-4e8b-9c3d-5e6f7a8b9c0d")},
		{"token_use", q("id")},
		{"auth_time", e.at(-60)},
		{"exp", e.at(3600)},
		{"iat", e.at(-60)},
		{"jti", q("3c2b1a09-8f7e-4d6c-5b4a-392817160504")},
		{"email", q("alice@example.com")},
	}
	e.acClaims = object{
		{"sub", q("8d6b6f1e-8c1a-4a57-9e0b-6b1f3c2a9d10")},
		{"cognito:groups", `["admins"]`},
		{"iss", q(hostileIssuer)},
		{"version", "2"},
		{"client_id", q(cognitotest.DefaultClientID)},
		{"origin_jti", q("5f1c8e3a-2b7d-4c9e-8a6f-1d2e3f4a5b6c")},
		{"event_id", q("0b9e6c1d-7a2f-4e8b-9c3d-5e6f7a8b9c0d")},
		{"token_use", q("access")},
		{"scope", q("openid email")},
		{"auth_time", e.at(-60)},
		{"exp", e.at(3600)},
		{"iat", e.at(-60)},
		{"jti", q("a1b2c3d4-e5f6-4789-8abc-def012345678")},
		{"username", q("alice")},
	}
	return e
}

// at is the NumericDate d seconds from the clock.
func (e *hostileEnv) at(d int64) string { return strconv.FormatInt(e.now+d, 10) }

// hdr is the pool's ID-token header with alg and kid as raw JSON.
func hdr(kid, alg string) object { return object{{"kid", kid}, {"alg", alg}} }

func (e *hostileEnv) idHeader() object { return hdr(q(e.kid), q("RS256")) }

// id signs claims under the pool's ID-token header.
func (e *hostileEnv) id(claims object) string {
	return e.pool.SignRaw(e.idHeader().bytes(), claims.bytes())
}

// signInput signs the exact signing input with key, PKCS #1 v1.5 or PSS.
func signInput(key *rsa.PrivateKey, h crypto.Hash, pss bool, input string) []byte {
	hh := h.New()
	hh.Write([]byte(input))
	digest := hh.Sum(nil)
	var sig []byte
	var err error
	if pss {
		sig, err = rsa.SignPSS(rand.Reader, key, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(nil, key, h, digest)
	}
	if err != nil {
		panic(err)
	}
	return sig
}

// compact joins already-encoded header and payload parts and signs them RS256
// with key.
func compact(key *rsa.PrivateKey, h64, p64 string) string {
	input := h64 + "." + p64
	return input + "." + b64u.EncodeToString(signInput(key, crypto.SHA256, false, input))
}

// signed encodes header and claims and signs them with key, hash h and PSS or not.
func signed(key *rsa.PrivateKey, h crypto.Hash, pss bool, header, claims []byte) string {
	input := b64u.EncodeToString(header) + "." + b64u.EncodeToString(claims)
	return input + "." + b64u.EncodeToString(signInput(key, h, pss, input))
}

// hmacToken signs header and claims with HMAC keyed with secret.
func hmacToken(newHash func() hash.Hash, secret, header, claims []byte) string {
	input := b64u.EncodeToString(header) + "." + b64u.EncodeToString(claims)
	m := hmac.New(newHash, secret)
	m.Write([]byte(input))
	return input + "." + b64u.EncodeToString(m.Sum(nil))
}

// noncanonical sets an unused low bit of the last character of the base64url
// string s, which lenient decoders map to the same bytes.
func noncanonical(t *testing.T, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	require.Contains(t, []int{2, 3}, len(s)%4, "no unused bits in the last character")
	i := strings.IndexByte(alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(alphabet[i|1])
	require.NotEqual(t, s, out)
	lenient, err := base64.RawURLEncoding.DecodeString(out)
	require.NoError(t, err, "a lenient decoder accepts the variant")
	strict, err := b64u.DecodeString(s)
	require.NoError(t, err)
	require.Equal(t, strict, lenient, "the variant means the same bytes")
	return out
}

// unaligned pads a JSON object with trailing spaces until its base64 has
// unused bits in the last character.
func unaligned(b []byte) []byte {
	for len(b)%3 == 0 {
		b = append(b, ' ')
	}
	return b
}

// jwkJSON is an RSA JWK of pub; empty alg or use leave the member out, and
// extra is raw members appended (",\"key_ops\":[...]").
func jwkJSON(pub *rsa.PublicKey, kid, alg, use, extra string) string {
	m := `{"kty":"RSA","kid":` + q(kid)
	if alg != "" {
		m += `,"alg":` + q(alg)
	}
	if use != "" {
		m += `,"use":` + q(use)
	}
	return m + `,"n":"` + b64u.EncodeToString(pub.N.Bytes()) + `","e":"` +
		b64u.EncodeToString(big.NewInt(int64(pub.E)).Bytes()) + `"` + extra + `}`
}

func jwks(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

// escapeAll writes every character of s as a JSON \u escape.
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	b.WriteByte('"')
	return b.String()
}

type hostileCase struct {
	name   string
	access bool // verify with VerifyAccessToken
	opts   []cognito.Option
	// jwks, when set, is what the first fetch of the JWKS answers; the
	// case checks that exactly one fetch happened. (A first fetch that
	// lacks the kid starts the quiet period at once.)
	jwks  func(e *hostileEnv) string
	token func(t *testing.T, e *hostileEnv) string
	want  error // nil: accepted
}

// verifierSentinels are the sentinels a verification may wrap; a refusal
// wraps exactly one.
var verifierSentinels = []error{
	cognito.ErrMalformedToken, cognito.ErrInvalidSignature, cognito.ErrUnsupportedAlgorithm,
	cognito.ErrUnknownKey, cognito.ErrTokenExpired, cognito.ErrTokenNotYetValid,
	cognito.ErrInvalidIssuer, cognito.ErrInvalidAudience, cognito.ErrInvalidTokenUse,
	cognito.ErrJWKSUnavailable,
}

func TestHostileTokens(t *testing.T) {
	e := newHostileEnv(t)
	cases := hostileCases()
	require.GreaterOrEqual(t, len(cases), 60)
	names := map[string]bool{}
	refused := 0
	for _, tc := range cases {
		require.False(t, names[tc.name], "duplicate case name %q", tc.name)
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.token(t, e)
			require.NotEmpty(t, raw)
			cfg := cognito.Config{
				UserPoolID: cognitotest.DefaultPoolID,
				ClientID:   cognitotest.DefaultClientID,
				JWKSURL:    e.pool.Issuer() + "/.well-known/jwks.json",
			}
			v, err := cognito.NewVerifier(cfg, append([]cognito.Option{cognito.WithClock(e.clock.Now)}, tc.opts...)...)
			require.NoError(t, err)
			before := e.pool.Requests(cognitotest.EndpointJWKS)
			if tc.jwks != nil {
				e.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusOK, Body: tc.jwks(e)})
			}
			hitsBefore := e.attackerHits.Load()

			if tc.access {
				_, err = v.VerifyAccessToken(context.Background(), raw)
			} else {
				_, err = v.VerifyIDToken(context.Background(), raw)
			}

			assert.Equal(t, hitsBefore, e.attackerHits.Load(), "the attacker's server was contacted")
			if tc.jwks != nil {
				require.Equal(t, 1, e.pool.Requests(cognitotest.EndpointJWKS)-before,
					"the custom JWKS must be consumed exactly, or it would leak into the next case")
			}
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			var matched []string
			for _, s := range verifierSentinels {
				if errors.Is(err, s) {
					matched = append(matched, s.Error())
				}
			}
			assert.Len(t, matched, 1, "one sentinel says why: %v", matched)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "cognito: "), msg)
			assert.NotContains(t, msg, raw)
			assert.LessOrEqual(t, len(msg), 512, "a hostile token must not fill the logs")
			assert.False(t, strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }), "control characters in %q", msg)
			refused++
		})
	}
	t.Logf("hostile suite: %d cases, %d refused with the expected sentinel", len(cases), refused)
}

func hostileCases() []hostileCase {
	var cases []hostileCase
	add := func(c ...hostileCase) { cases = append(cases, c...) }
	idTok := func(edit func(e *hostileEnv, c object) object) func(*testing.T, *hostileEnv) string {
		return func(_ *testing.T, e *hostileEnv) string { return e.id(edit(e, e.idClaims)) }
	}
	acTok := func(edit func(e *hostileEnv, c object) object) func(*testing.T, *hostileEnv) string {
		return func(_ *testing.T, e *hostileEnv) string { return e.id(edit(e, e.acClaims)) }
	}
	withHeader := func(edit func(e *hostileEnv, h object) object) func(*testing.T, *hostileEnv) string {
		return func(_ *testing.T, e *hostileEnv) string {
			return e.pool.SignRaw(edit(e, e.idHeader()).bytes(), e.idClaims.bytes())
		}
	}
	same := func(_ *hostileEnv, c object) object { return c }

	// Controls: the untouched tokens are accepted, so every refusal below
	// is caused by what its case changes.
	add(
		hostileCase{name: "control: ID token", token: idTok(same)},
		hostileCase{name: "control: access token", access: true, token: acTok(same)},
	)

	// alg none, in every case spelling, with and without a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		add(
			hostileCase{name: "alg " + alg + " without signature", want: cognito.ErrUnsupportedAlgorithm,
				token: func(_ *testing.T, e *hostileEnv) string {
					return b64u.EncodeToString(hdr(q(e.kid), q(alg)).bytes()) + "." + b64u.EncodeToString(e.idClaims.bytes()) + "."
				}},
			hostileCase{name: "alg " + alg + " with the pool's RS256 signature", want: cognito.ErrUnsupportedAlgorithm,
				token: func(_ *testing.T, e *hostileEnv) string {
					return e.pool.SignRaw(hdr(q(e.kid), q(alg)).bytes(), e.idClaims.bytes())
				}},
		)
	}
	add(hostileCase{name: "alg none without kid", want: cognito.ErrUnsupportedAlgorithm,
		token: func(_ *testing.T, e *hostileEnv) string {
			return b64u.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64u.EncodeToString(e.idClaims.bytes()) + "."
		}})

	// HMAC keyed with the public key (the RS/HS confusion of CVE-2016-10555
	// and its kin), in each form a library might turn the key into bytes.
	keyForms := []struct {
		name  string
		bytes func(e *hostileEnv) []byte
	}{
		{"PEM (PKIX)", func(e *hostileEnv) []byte {
			der, err := x509.MarshalPKIXPublicKey(&e.idKey.PublicKey)
			if err != nil {
				panic(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}},
		{"JWK JSON", func(e *hostileEnv) []byte { return []byte(e.idJWK) }},
		{"modulus bytes", func(e *hostileEnv) []byte { return e.idKey.N.Bytes() }},
	}
	for _, alg := range []struct {
		name string
		h    func() hash.Hash
	}{{"HS256", sha256.New}, {"HS384", sha512.New384}, {"HS512", sha512.New}} {
		for _, form := range keyForms {
			add(hostileCase{name: alg.name + " keyed with the public key as " + form.name, want: cognito.ErrUnsupportedAlgorithm,
				token: func(_ *testing.T, e *hostileEnv) string {
					return hmacToken(alg.h, form.bytes(e), hdr(q(e.kid), q(alg.name)).bytes(), e.idClaims.bytes())
				}})
		}
	}
	add(hostileCase{name: "HS256 keyed with the public key as PEM (PKCS #1)", want: cognito.ErrUnsupportedAlgorithm,
		token: func(_ *testing.T, e *hostileEnv) string {
			p := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&e.idKey.PublicKey)})
			return hmacToken(sha256.New, p, hdr(q(e.kid), q("HS256")).bytes(), e.idClaims.bytes())
		}})

	// Other algorithms, correctly signed by the pool's own key: only RS256
	// is Cognito's, and accepting another widens what a forger may try.
	for _, a := range []struct {
		alg string
		h   crypto.Hash
		pss bool
	}{
		{"PS256", crypto.SHA256, true}, {"PS384", crypto.SHA384, true}, {"PS512", crypto.SHA512, true},
		{"RS384", crypto.SHA384, false}, {"RS512", crypto.SHA512, false},
	} {
		add(hostileCase{name: a.alg + " signed with " + a.alg + " by the pool's key", want: cognito.ErrUnsupportedAlgorithm,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.idKey, a.h, a.pss, hdr(q(e.kid), q(a.alg)).bytes(), e.idClaims.bytes())
			}})
	}
	for name, alg := range sortedMap(map[string]string{
		"alg ES256": `"ES256"`, "alg EdDSA": `"EdDSA"`, "alg with a trailing space": `"RS256 "`,
		"alg with a NUL": `"RS256\u0000"`, "alg rs256 in lower case": `"rs256"`,
	}) {
		add(hostileCase{name: name, want: cognito.ErrUnsupportedAlgorithm,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q(e.kid), alg).bytes(), e.idClaims.bytes())
			}})
	}
	for name, alg := range sortedMap(map[string]string{
		"alg empty": `""`, "alg as an array": `["RS256"]`, "alg null": `null`, "alg as a number": `256`,
	}) {
		add(hostileCase{name: name, want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q(e.kid), alg).bytes(), e.idClaims.bytes())
			}})
	}
	add(
		hostileCase{name: "RS256 header over a PSS signature by the pool's key", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.idKey, crypto.SHA256, true, e.idHeader().bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "RS256 header over a PKCS #1 v1.5 SHA-512 signature", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.idKey, crypto.SHA512, false, e.idHeader().bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "RS256 header over a PKCS #1 v1.5 SHA-1 signature", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.idKey, crypto.SHA1, false, e.idHeader().bytes(), e.idClaims.bytes())
			}},
	)

	// The JWKS's view of the key wins over the token's.
	add(
		hostileCase{name: "JWK alg RS512 for the token's kid", want: cognito.ErrUnsupportedAlgorithm,
			jwks: func(e *hostileEnv) string {
				return jwks(jwkJSON(&e.idKey.PublicKey, "k-rs512", "RS512", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q("k-rs512"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "JWK alg PS256 for the token's kid", want: cognito.ErrUnsupportedAlgorithm,
			jwks: func(e *hostileEnv) string {
				return jwks(jwkJSON(&e.idKey.PublicKey, "k-ps256", "PS256", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q("k-ps256"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "JWK without alg accepts RS256", want: nil,
			jwks: func(e *hostileEnv) string {
				return jwks(jwkJSON(&e.idKey.PublicKey, "k-noalg", "", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q("k-noalg"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "JWK of a 1024-bit key is skipped", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(e.idJWK, jwkJSON(&e.weak.PublicKey, "k-weak", "RS256", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.weak, crypto.SHA256, false, hdr(q("k-weak"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "JWK with use enc is skipped", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(jwkJSON(&e.accessKey.PublicKey, e.accessKid, "RS256", "sig", ""), jwkJSON(&e.idKey.PublicKey, e.kid, "RS256", "enc", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string { return e.id(e.idClaims) }},
		hostileCase{name: "JWK with key_ops encrypt only is skipped", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(jwkJSON(&e.accessKey.PublicKey, e.accessKid, "RS256", "sig", ""), jwkJSON(&e.idKey.PublicKey, e.kid, "RS256", "", `,"key_ops":["encrypt"]`))
			},
			token: func(_ *testing.T, e *hostileEnv) string { return e.id(e.idClaims) }},
		hostileCase{name: "JWK with exponent 1 is skipped", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(e.idJWK, jwkJSON(&rsa.PublicKey{N: e.attacker.N, E: 1}, "k-e1", "RS256", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				// With e = 1 the "signature" is the padded digest itself.
				input := b64u.EncodeToString(hdr(q("k-e1"), q("RS256")).bytes()) + "." + b64u.EncodeToString(e.idClaims.bytes())
				digest := sha256.Sum256([]byte(input))
				prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
				em := make([]byte, e.attacker.Size())
				em[1] = 1
				tail := append(prefix, digest[:]...)
				for i := 2; i < len(em)-len(tail)-1; i++ {
					em[i] = 0xff
				}
				copy(em[len(em)-len(tail):], tail)
				return input + "." + b64u.EncodeToString(em)
			}},
		hostileCase{name: "JWK of another key type under the kid is skipped", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(e.idJWK, `{"kty":"oct","kid":"k-oct","alg":"HS256","k":"`+b64u.EncodeToString(e.idKey.N.Bytes())+`"}`)
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return hmacToken(sha256.New, e.idKey.N.Bytes(), hdr(q("k-oct"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "JWKS with the kid twice trusts neither key", want: cognito.ErrUnknownKey,
			jwks: func(e *hostileEnv) string {
				return jwks(e.idJWK, jwkJSON(&e.idKey.PublicKey, "k-dup", "RS256", "sig", ""), jwkJSON(&e.attacker.PublicKey, "k-dup", "RS256", "sig", ""))
			},
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.attacker, crypto.SHA256, false, hdr(q("k-dup"), q("RS256")).bytes(), e.idClaims.bytes())
			}},
	)

	// Keys offered by the token itself are never fetched or trusted.
	for _, h := range []struct {
		name  string
		value func(e *hostileEnv) string
	}{
		{"jwk", func(e *hostileEnv) string { return jwkJSON(&e.attacker.PublicKey, "attacker", "RS256", "sig", "") }},
		{"jku", func(e *hostileEnv) string { return q(e.attackerURL + "/jwks.json") }},
		{"x5u", func(e *hostileEnv) string { return q(e.attackerURL + "/cert.pem") }},
		{"x5c", func(e *hostileEnv) string { return `[` + q(base64.StdEncoding.EncodeToString(e.attackerCertDER)) + `]` }},
	} {
		add(
			hostileCase{name: "embedded " + h.name + " with the attacker's kid, signed by the attacker", want: cognito.ErrUnknownKey,
				token: func(_ *testing.T, e *hostileEnv) string {
					header := hdr(q("attacker"), q("RS256")).set(h.name, h.value(e))
					return signed(e.attacker, crypto.SHA256, false, header.bytes(), e.idClaims.bytes())
				}},
			hostileCase{name: "embedded " + h.name + " with the pool's kid, signed by the attacker", want: cognito.ErrInvalidSignature,
				token: func(_ *testing.T, e *hostileEnv) string {
					header := e.idHeader().set(h.name, h.value(e))
					return signed(e.attacker, crypto.SHA256, false, header.bytes(), e.idClaims.bytes())
				}},
		)
	}
	add(hostileCase{name: "embedded jku and jwk without kid, signed by the attacker", want: cognito.ErrUnknownKey,
		token: func(_ *testing.T, e *hostileEnv) string {
			header := object{{"alg", q("RS256")}, {"jku", q(e.attackerURL)}, {"jwk", jwkJSON(&e.attacker.PublicKey, "attacker", "RS256", "sig", "")}}
			return signed(e.attacker, crypto.SHA256, false, header.bytes(), e.idClaims.bytes())
		}})

	// crit: extensions the verifier does not implement must be refused
	// (RFC 7515 section 4.1.11), notably b64 false (RFC 7797).
	for name, h := range sortedMap(map[string]func(e *hostileEnv) object{
		"crit b64 with b64 false": func(e *hostileEnv) object {
			return e.idHeader().set("b64", "false").set("crit", `["b64"]`)
		},
		"crit empty":     func(e *hostileEnv) object { return e.idHeader().set("crit", `[]`) },
		"crit null":      func(e *hostileEnv) object { return e.idHeader().set("crit", `null`) },
		"crit unknown":   func(e *hostileEnv) object { return e.idHeader().set("crit", `["urn:x"]`).set("urn:x", "1") },
		"crit escaped":   func(e *hostileEnv) object { return e.idHeader().set(`\u0063rit`, `["exp"]`) },
		"crit as string": func(e *hostileEnv) object { return e.idHeader().set("crit", `"exp"`) },
	}) {
		add(hostileCase{name: name, want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string { return e.pool.SignRaw(h(e).bytes(), e.idClaims.bytes()) }})
	}

	// kid: looked up exactly, never used as a path, URL or query.
	for name, kid := range sortedMap(map[string]string{
		"kid path traversal":           q("../../etc/passwd"),
		"kid absolute path":            q("/dev/random"),
		"kid SQL injection":            q("' OR '1'='1' --"),
		"kid with a NUL byte":          `"abc\u0000def"`,
		"kid header injection":         q("k\r\nX-Injected: 1"),
		"kid 4000 characters long":     q(strings.Repeat("k", 4000)),
		"kid empty":                    `""`,
		"kid a loopback URL":           q("http://127.0.0.1:1/key"),
		"kid with shell metacharacter": q("$(id);`id`|id"),
	}) {
		add(hostileCase{name: name, want: cognito.ErrUnknownKey,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(kid, q("RS256")).bytes(), e.idClaims.bytes())
			}})
	}
	add(
		hostileCase{name: "kid of the pool followed by NUL, signed by the pool", want: cognito.ErrUnknownKey,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(strings.TrimSuffix(q(e.kid), `"`)+`\u0000x"`, q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid of the pool after a NUL, signed by the pool", want: cognito.ErrUnknownKey,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(`"\u0000`+strings.TrimPrefix(q(e.kid), `"`), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid of the pool in upper case", want: cognito.ErrUnknownKey,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q(strings.ToUpper(e.kid)), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid of the pool written with JSON escapes", want: nil,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(escapeAll(e.kid), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid 30000 characters long: the header is over its cap", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(q(strings.Repeat("k", 30000)), q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid as a number", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(`1`, q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid as an array of the pool's kid", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(`[`+q(e.kid)+`]`, q("RS256")).bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "kid null", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(hdr(`null`, q("RS256")).bytes(), e.idClaims.bytes())
			}},
	)

	// Repeated members: parsers disagree on which copy wins.
	add(
		hostileCase{name: "header with two alg, none last", want: cognito.ErrMalformedToken,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.add("alg", q("none")) })},
		hostileCase{name: "header with two alg, RS256 last", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(object{{"alg", q("HS256")}, {"kid", q(e.kid)}, {"alg", q("RS256")}}.bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "header with two kid", want: cognito.ErrMalformedToken,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.add("kid", q("attacker")) })},
		hostileCase{name: "header with alg repeated as \\u0061lg", want: cognito.ErrMalformedToken,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.add(`\u0061lg`, q("none")) })},
		hostileCase{name: "header with kid repeated as \\u006bid", want: cognito.ErrMalformedToken,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.add(`\u006bid`, q("attacker")) })},
		hostileCase{name: "claims with two exp, the past one last", want: cognito.ErrMalformedToken,
			token: idTok(func(e *hostileEnv, c object) object { return c.add("exp", e.at(-3600)) })},
		hostileCase{name: "claims with two exp, the future one last", want: cognito.ErrMalformedToken,
			token: idTok(func(e *hostileEnv, c object) object {
				return c.set("exp", e.at(-3600)).add("exp", e.at(3600))
			})},
		hostileCase{name: "claims with two iss", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object {
				return c.add("iss", q("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker"))
			})},
		hostileCase{name: "claims with two aud", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.add("aud", q("attacker-client")) })},
		hostileCase{name: "claims with iss repeated as \\u0069ss", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object {
				return c.add(`\u0069ss`, q("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker"))
			})},
		hostileCase{name: "claims with exp repeated as \\u0065\\u0078\\u0070", want: cognito.ErrMalformedToken,
			token: idTok(func(e *hostileEnv, c object) object { return c.add(`\u0065\u0078\u0070`, e.at(99999)) })},
		hostileCase{name: "claims with two token_use", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.add("token_use", q("access")) })},
		hostileCase{name: "claims with two sub", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.add("sub", q("admin")) })},
		hostileCase{name: "claims with two cognito:groups", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.add("cognito:groups", `["root"]`) })},
		hostileCase{name: "access claims with two client_id", access: true, want: cognito.ErrMalformedToken,
			token: acTok(func(_ *hostileEnv, c object) object { return c.add("client_id", q("attacker-client")) })},
		hostileCase{name: "claims with iss written only as \\u0069ss", want: nil,
			token: idTok(func(_ *hostileEnv, c object) object { return c.del("iss").add(`\u0069ss`, q(hostileIssuer)) })},
	)

	// Names that differ only in case: Claims(v) decodes with encoding/json,
	// which matches a member to a field ignoring case, with Unicode folding
	// (ſ is s, the Kelvin sign is k). A claim the typed fields read must be
	// spelled exactly, and no two claims may fold alike, so that IDToken and
	// Claims(v) read the same member.
	for name, edit := range sortedMap(map[string]func(c object) object{
		"claims with email and EMAIL":                   func(c object) object { return c.add("EMAIL", q("mallory@example.com")) },
		"claims with EMAIL before email":                func(c object) object { return append(object{{"EMAIL", q("mallory@example.com")}}, c...) },
		"claims with sub and \\u017fub (ſub)":           func(c object) object { return c.add(`\u017fub`, q("admin")) },
		"claims with sub and ſub unescaped":             func(c object) object { return c.add("ſub", q("admin")) },
		"claims with cognito:groups and Cognito:Groups": func(c object) object { return c.add("Cognito:Groups", `["root"]`) },
		"claims with only EMAIL":                        func(c object) object { return c.del("email").add("EMAIL", q("mallory@example.com")) },
		"claims with only Email_Verified":               func(c object) object { return c.del("email_verified").add("Email_Verified", "true") },
		"claims with only ſub":                          func(c object) object { return c.del("sub").add("ſub", q("admin")) },
		"claims with only to\\u212Aen_use (Kelvin k)":   func(c object) object { return c.del("token_use").add(`to\u212Aen_use`, q("id")) },
		"claims with custom:tenant and CUSTOM:TENANT":   func(c object) object { return c.add("custom:tenant", q("a")).add("CUSTOM:TENANT", q("b")) },
		"claims with custom:k and custom:\\u212a":       func(c object) object { return c.add("custom:k", q("a")).add(`custom:\u212a`, q("b")) },
	}) {
		add(hostileCase{name: name, want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return edit(c) })})
	}
	add(
		// encoding/json folds by simple case folding only: İ (U+0130) is
		// no i to it, so İss is another claim, read by neither.
		hostileCase{name: "claims with İss beside iss", want: nil,
			token: idTok(func(_ *hostileEnv, c object) object { return c.add("İss", q("x")) })},
		// The header is never decoded by Claims(v); JOSE names are case
		// sensitive (RFC 7515 section 4), so ALG is an unknown member.
		hostileCase{name: "header with alg and ALG none", want: nil,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.add("ALG", q("none")) })},
	)

	// Encodings that lenient decoders accept: each token below is validly
	// signed over its exact text, so only the encoding check refuses it.
	add(
		hostileCase{name: "header with non-canonical trailing bits", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				h := noncanonical(t, b64u.EncodeToString(unaligned(e.idHeader().bytes())))
				return compact(e.idKey, h, b64u.EncodeToString(e.idClaims.bytes()))
			}},
		hostileCase{name: "claims with non-canonical trailing bits", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				p := noncanonical(t, b64u.EncodeToString(unaligned(e.idClaims.bytes())))
				return compact(e.idKey, b64u.EncodeToString(e.idHeader().bytes()), p)
			}},
		hostileCase{name: "signature with non-canonical trailing bits", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				i := strings.LastIndexByte(tok, '.')
				return tok[:i+1] + noncanonical(t, tok[i+1:])
			}},
		hostileCase{name: "header padded with =", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				h := base64.URLEncoding.EncodeToString(unaligned(e.idHeader().bytes()))
				return compact(e.idKey, h, b64u.EncodeToString(e.idClaims.bytes()))
			}},
		hostileCase{name: "claims padded with =", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				p := base64.URLEncoding.EncodeToString(unaligned(e.idClaims.bytes()))
				return compact(e.idKey, b64u.EncodeToString(e.idHeader().bytes()), p)
			}},
		hostileCase{name: "signature padded with =", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				i := strings.LastIndexByte(tok, '.')
				sig, _ := b64u.DecodeString(tok[i+1:])
				return tok[:i+1] + base64.URLEncoding.EncodeToString(sig)
			}},
		hostileCase{name: "header in the standard alphabet", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				raw := e.idHeader().set("x", q("?????")).bytes() // five '?' always encode a '/'
				h := base64.RawStdEncoding.EncodeToString(raw)
				require.NotEqual(t, b64u.EncodeToString(raw), h)
				return compact(e.idKey, h, b64u.EncodeToString(e.idClaims.bytes()))
			}},
		hostileCase{name: "claims in the standard alphabet", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				raw := e.idClaims.set("custom:x", q("?????")).bytes()
				p := base64.RawStdEncoding.EncodeToString(raw)
				require.NotEqual(t, b64u.EncodeToString(raw), p)
				return compact(e.idKey, b64u.EncodeToString(e.idHeader().bytes()), p)
			}},
		// Go's base64 decoders skip CR and LF: the signature below would
		// still verify if the token's characters were not checked first.
		hostileCase{name: "signature with a newline inside", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				return tok[:len(tok)-10] + "\n" + tok[len(tok)-10:]
			}},
		hostileCase{name: "claims with a carriage return inside", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				i := strings.IndexByte(tok, '.') + 5
				return tok[:i] + "\r" + tok[i:]
			}},
		hostileCase{name: "header with a UTF-8 byte order mark", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(append([]byte("\ufeff"), e.idHeader().bytes()...), e.idClaims.bytes())
			}},
		hostileCase{name: "header followed by a second object", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw(append(e.idHeader().bytes(), `{"alg":"none"}`...), e.idClaims.bytes())
			}},
		hostileCase{name: "header a JSON string", want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string {
				return e.pool.SignRaw([]byte(`"RS256"`), e.idClaims.bytes())
			}},
		hostileCase{name: "header typ as a number", want: cognito.ErrMalformedToken,
			token: withHeader(func(_ *hostileEnv, h object) object { return h.set("typ", "1") })},
		hostileCase{name: "header with typ JWT and unknown members", want: nil,
			token: withHeader(func(_ *hostileEnv, h object) object {
				return h.set("typ", q("JWT")).set("x-nested", `{"a":1,"a":2}`)
			})},
	)

	// Signatures of the wrong length or content.
	sigCase := func(name string, want error, sig func(e *hostileEnv, good []byte) []byte) hostileCase {
		return hostileCase{name: name, want: want, token: func(_ *testing.T, e *hostileEnv) string {
			tok := e.id(e.idClaims)
			i := strings.LastIndexByte(tok, '.')
			s, err := b64u.DecodeString(tok[i+1:])
			if err != nil {
				panic(err)
			}
			return tok[:i+1] + b64u.EncodeToString(sig(e, s))
		}}
	}
	add(
		sigCase("signature one byte long", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte { return append(s, 0) }),
		sigCase("signature one byte long with a leading zero", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte { return append([]byte{0}, s...) }),
		sigCase("signature empty", cognito.ErrInvalidSignature, func(*hostileEnv, []byte) []byte { return nil }),
		sigCase("signature all zeros", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte { return make([]byte, len(s)) }),
		sigCase("signature equal to the modulus", cognito.ErrInvalidSignature, func(e *hostileEnv, _ []byte) []byte { return e.idKey.N.Bytes() }),
		sigCase("signature all ones, above the modulus", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte {
			return []byte(strings.Repeat("\xff", len(s)))
		}),
		sigCase("signature twice as long", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte { return append(s, s...) }),
		sigCase("signature with one bit flipped", cognito.ErrInvalidSignature, func(_ *hostileEnv, s []byte) []byte {
			s = append([]byte(nil), s...)
			s[len(s)/2] ^= 1
			return s
		}),
		hostileCase{name: "signature of another token by the same key", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				other := e.id(e.idClaims.set("sub", q("someone-else")))
				tok := e.id(e.idClaims)
				return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
			}},
		hostileCase{name: "signed by an attacker's key under the pool's kid", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.attacker, crypto.SHA256, false, e.idHeader().bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "signed by the pool's access key under the ID key's kid", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.accessKey, crypto.SHA256, false, e.idHeader().bytes(), e.idClaims.bytes())
			}},
		hostileCase{name: "signature over the claims alone", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				p := b64u.EncodeToString(e.idClaims.bytes())
				return b64u.EncodeToString(e.idHeader().bytes()) + "." + p + "." + b64u.EncodeToString(signInput(e.idKey, crypto.SHA256, false, p))
			}},
		hostileCase{name: "claims re-encoded with other spacing under the original signature", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				parts := strings.Split(tok, ".")
				return parts[0] + "." + b64u.EncodeToString(append(e.idClaims.bytes(), ' ')) + "." + parts[2]
			}},
		hostileCase{name: "claims with the sub changed under the original signature", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				tok := e.id(e.idClaims)
				parts := strings.Split(tok, ".")
				return parts[0] + "." + b64u.EncodeToString(e.idClaims.set("sub", q("admin")).bytes()) + "." + parts[2]
			}},
	)

	// Which check speaks first, when two would refuse.
	add(
		hostileCase{name: "order: alg none with an unknown kid says the algorithm", want: cognito.ErrUnsupportedAlgorithm,
			token: func(_ *testing.T, e *hostileEnv) string {
				return b64u.EncodeToString(hdr(q("nobody"), q("none")).bytes()) + "." + b64u.EncodeToString(e.idClaims.bytes()) + "."
			}},
		hostileCase{name: "order: unknown kid with a non-canonical signature says malformed", want: cognito.ErrMalformedToken,
			token: func(t *testing.T, e *hostileEnv) string {
				tok := e.pool.SignRaw(hdr(q("nobody"), q("RS256")).bytes(), e.idClaims.bytes())
				i := strings.LastIndexByte(tok, '.')
				return tok[:i+1] + noncanonical(t, tok[i+1:])
			}},
		hostileCase{name: "order: a bad signature over claims of wrong types says the signature", want: cognito.ErrInvalidSignature,
			token: func(_ *testing.T, e *hostileEnv) string {
				return signed(e.attacker, crypto.SHA256, false, e.idHeader().bytes(), e.idClaims.set("exp", `"never"`).bytes())
			}},
		hostileCase{name: "order: wrong issuer and expired says the issuer", want: cognito.ErrInvalidIssuer,
			token: idTok(func(e *hostileEnv, c object) object {
				return c.set("iss", q("https://evil.example")).set("exp", e.at(-10))
			})},
		hostileCase{name: "order: wrong token_use and audience says token_use", want: cognito.ErrInvalidTokenUse,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("token_use", q("access")).set("aud", q("x")) })},
		hostileCase{name: "order: no sub and wrong audience says malformed", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.del("sub").set("aud", q("x")) })},
		hostileCase{name: "order: wrong audience and expired says the audience", want: cognito.ErrInvalidAudience,
			token: idTok(func(e *hostileEnv, c object) object { return c.set("aud", q("x")).set("exp", e.at(-10)) })},
	)

	// Claims that are not an object of the expected members.
	for name, raw := range sortedMap(map[string]string{
		"claims a JSON array":          `[{"sub":"x"}]`,
		"claims a JSON string":         `"sub"`,
		"claims null":                  `null`,
		"claims truncated":             `{"sub":"x","exp":`,
		"claims an empty object":       `{}`,
		"claims followed by garbage":   `{"sub":"x","exp":9999999999}x`,
		"claims nested 20000 deep":     `{"custom:x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		"claims with a trailing comma": `{"sub":"x","exp":9999999999,}`,
		"claims with a single-quote":   `{'sub':'x'}`,
		"claims with NaN exp":          `{"sub":"x","exp":NaN}`,
		"claims with hexadecimal exp":  `{"sub":"x","exp":0x7fffffff}`,
		"claims with an unquoted name": `{sub:"x"}`,
	}) {
		add(hostileCase{name: name, want: cognito.ErrMalformedToken,
			token: func(_ *testing.T, e *hostileEnv) string { return e.pool.SignRaw(e.idHeader().bytes(), []byte(raw)) }})
	}
	add(hostileCase{name: "claims with an ignored member nested 5000 deep", want: cognito.ErrMalformedToken,
		token: idTok(func(_ *hostileEnv, c object) object {
			return c.set("custom:deep", strings.Repeat("[", 5000)+strings.Repeat("]", 5000))
		})})
	add(hostileCase{name: "claims with an ignored member nested 31 deep", want: nil,
		token: idTok(func(_ *hostileEnv, c object) object {
			return c.set("custom:deep", strings.Repeat("[", 31)+strings.Repeat("]", 31))
		})})

	// Every claim of the wrong JSON type is malformed, never coerced.
	for _, claim := range []string{"exp", "iat", "nbf", "auth_time"} {
		for kind, v := range sortedMap(map[string]string{
			"string": `"` + "2000000000" + `"`, "bool": `true`, "array": `[2000000000]`, "object": `{"t":2000000000}`, "null": `null`,
		}) {
			add(hostileCase{name: claim + " as " + kind, want: cognito.ErrMalformedToken,
				token: idTok(func(_ *hostileEnv, c object) object { return c.set(claim, v) })})
		}
	}
	for name, v := range sortedMap(map[string]string{
		"exp beyond float range": `1e400`, "exp past year 9999": `253402300800`, "exp negative zero point five": `-0.5`,
	}) {
		add(hostileCase{name: name, want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("exp", v) })})
	}
	for kind, v := range sortedMap(map[string]string{
		"number": `12345`, "object": `{"aud":"` + cognitotest.DefaultClientID + `"}`, "array with a number": `[` + q(cognitotest.DefaultClientID) + `,1]`,
		"null": `null`, "bool": `true`, "array with null": `[` + q(cognitotest.DefaultClientID) + `,null]`,
	}) {
		add(hostileCase{name: "aud as " + kind, want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("aud", v) })})
	}
	for _, claim := range []struct {
		name   string
		access bool
	}{
		{"iss", false}, {"sub", false}, {"token_use", false}, {"email", false}, {"nonce", false},
		{"cognito:username", false}, {"name", false}, {"jti", false},
		{"client_id", true}, {"username", true}, {"scope", true},
	} {
		for kind, v := range map[string]string{"number": `1`, "array": `["x"]`, "null": `null`} {
			tok := idTok(func(_ *hostileEnv, c object) object { return c.set(claim.name, v) })
			if claim.access {
				tok = acTok(func(_ *hostileEnv, c object) object { return c.set(claim.name, v) })
			}
			add(hostileCase{name: claim.name + " as " + kind, access: claim.access, want: cognito.ErrMalformedToken, token: tok})
		}
	}
	for kind, v := range sortedMap(map[string]string{
		"string": `"admins"`, "array with a number": `["admins",1]`, "array with null": `["admins",null]`,
		"object": `{"0":"admins"}`, "nested array": `[["admins"]]`,
	}) {
		add(hostileCase{name: "cognito:groups as " + kind, want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("cognito:groups", v) })})
	}
	for kind, v := range map[string]string{"number": `1`, "string yes": `"yes"`, "null": `null`, "array": `[true]`, "string TRUE": `"TRUE"`} {
		add(hostileCase{name: "email_verified as " + kind, want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("email_verified", v) })})
	}
	add(
		hostileCase{name: "email_verified as the string true", want: nil,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("email_verified", `"true"`) })},
		hostileCase{name: "exp in exponent notation", want: nil,
			token: idTok(func(e *hostileEnv, c object) object {
				return c.set("exp", strconv.FormatFloat(float64(e.now+3600), 'e', -1, 64))
			})},
		hostileCase{name: "sub empty", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("sub", `""`) })},
	)

	// Cognito's rules: issuer.
	for name, iss := range sortedMap(map[string]string{
		"issuer in Cognito's legacy form":             q(hostileIssuer),
		"issuer in Cognito's issuer-cognito-idp form": q("https://issuer-cognito-idp.us-east-1.amazonaws.com/" + cognitotest.DefaultPoolID),
		"issuer written with escaped slashes":         `"` + strings.ReplaceAll(hostileIssuer, "/", `\/`) + `"`,
	}) {
		add(hostileCase{name: name, want: nil,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("iss", iss) })})
	}
	for name, iss := range sortedMap(map[string]string{
		"issuer of another region":                    "https://cognito-idp.eu-west-1.amazonaws.com/" + cognitotest.DefaultPoolID,
		"issuer-cognito-idp form of another region":   "https://issuer-cognito-idp.eu-west-1.amazonaws.com/" + cognitotest.DefaultPoolID,
		"issuer of another pool":                      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker1",
		"issuer with a trailing slash":                hostileIssuer + "/",
		"issuer over http":                            "http://cognito-idp.us-east-1.amazonaws.com/" + cognitotest.DefaultPoolID,
		"issuer in upper case":                        strings.ToUpper(hostileIssuer),
		"issuer with a path after the pool":           hostileIssuer + "/evil",
		"issuer empty":                                "",
		"issuer with a NUL after the pool":            hostileIssuer + "\x00",
		"issuer on another host with the pool's path": "https://cognito-idp.us-east-1.amazonaws.com.evil.example/" + cognitotest.DefaultPoolID,
		"issuer of the pool's fake server":            "http://127.0.0.1/" + cognitotest.DefaultPoolID,
	}) {
		add(hostileCase{name: name, want: cognito.ErrInvalidIssuer,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("iss", q(iss)) })})
	}
	add(hostileCase{name: "issuer missing", want: cognito.ErrInvalidIssuer,
		token: idTok(func(_ *hostileEnv, c object) object { return c.del("iss") })})

	// token_use.
	add(
		hostileCase{name: "ID token given to VerifyAccessToken", access: true, want: cognito.ErrInvalidTokenUse,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("client_id", q(cognitotest.DefaultClientID)) })},
		hostileCase{name: "access token given to VerifyIDToken", want: cognito.ErrInvalidTokenUse,
			token: acTok(func(_ *hostileEnv, c object) object { return c.set("aud", q(cognitotest.DefaultClientID)) })},
		hostileCase{name: "token_use ID in upper case", want: cognito.ErrInvalidTokenUse,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("token_use", q("ID")) })},
		hostileCase{name: "token_use id with a trailing space", want: cognito.ErrInvalidTokenUse,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("token_use", q("id ")) })},
		hostileCase{name: "token_use refresh", access: true, want: cognito.ErrInvalidTokenUse,
			token: acTok(func(_ *hostileEnv, c object) object { return c.set("token_use", q("refresh")) })},
		hostileCase{name: "access token without token_use", access: true, want: cognito.ErrInvalidTokenUse,
			token: acTok(func(_ *hostileEnv, c object) object { return c.del("token_use") })},
	)

	// aud of an ID token, client_id of an access token.
	add(
		hostileCase{name: "ID token with the right aud and another client_id", want: nil,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("client_id", q("other-client")) })},
		hostileCase{name: "ID token with another aud and the right client_id", want: cognito.ErrInvalidAudience,
			token: idTok(func(_ *hostileEnv, c object) object {
				return c.set("aud", q("other-client")).set("client_id", q(cognitotest.DefaultClientID))
			})},
		hostileCase{name: "ID token without aud, with the right client_id", want: cognito.ErrInvalidAudience,
			token: idTok(func(_ *hostileEnv, c object) object {
				return c.del("aud").set("client_id", q(cognitotest.DefaultClientID))
			})},
		hostileCase{name: "ID token with an empty aud array", want: cognito.ErrInvalidAudience,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("aud", `[]`) })},
		hostileCase{name: "ID token with aud in upper case", want: cognito.ErrInvalidAudience,
			token: idTok(func(_ *hostileEnv, c object) object {
				return c.set("aud", q(strings.ToUpper(cognitotest.DefaultClientID)))
			})},
		hostileCase{name: "access token with the right client_id and another aud", access: true, want: nil,
			token: acTok(func(_ *hostileEnv, c object) object { return c.set("aud", q("other-client")) })},
		hostileCase{name: "access token without client_id, with the right aud", access: true, want: cognito.ErrInvalidAudience,
			token: acTok(func(_ *hostileEnv, c object) object {
				return c.del("client_id").set("aud", q(cognitotest.DefaultClientID))
			})},
		hostileCase{name: "access token with another client_id and the right aud", access: true, want: cognito.ErrInvalidAudience,
			token: acTok(func(_ *hostileEnv, c object) object {
				return c.set("client_id", q("other-client")).set("aud", q(cognitotest.DefaultClientID))
			})},
		hostileCase{name: "access token with client_id as an array holding the client", access: true, want: cognito.ErrMalformedToken,
			token: acTok(func(_ *hostileEnv, c object) object {
				return c.set("client_id", `[`+q(cognitotest.DefaultClientID)+`]`)
			})},
	)

	// Expiry and validity boundaries, the clock standing still at e.now.
	leeway := []cognito.Option{cognito.WithLeeway(30 * time.Second)}
	timeCase := func(name string, opts []cognito.Option, claim string, d int64, want error) hostileCase {
		return hostileCase{name: name, opts: opts, want: want,
			token: idTok(func(e *hostileEnv, c object) object { return c.set(claim, e.at(d)) })}
	}
	add(
		timeCase("clock exactly at exp", nil, "exp", 0, cognito.ErrTokenExpired),
		timeCase("clock one second before exp", nil, "exp", 1, nil),
		timeCase("clock one second after exp", nil, "exp", -1, cognito.ErrTokenExpired),
		timeCase("leeway: clock exactly at exp", leeway, "exp", 0, nil),
		timeCase("leeway: clock one second before exp plus leeway", leeway, "exp", -29, nil),
		timeCase("leeway: clock exactly at exp plus leeway", leeway, "exp", -30, cognito.ErrTokenExpired),
		timeCase("leeway: clock one second after exp plus leeway", leeway, "exp", -31, cognito.ErrTokenExpired),
		hostileCase{name: "exp zero", want: cognito.ErrTokenExpired,
			token: idTok(func(_ *hostileEnv, c object) object { return c.set("exp", "0") })},
		timeCase("clock exactly at nbf", nil, "nbf", 0, nil),
		timeCase("clock one second before nbf", nil, "nbf", 1, cognito.ErrTokenNotYetValid),
		timeCase("leeway: clock exactly at nbf minus leeway", leeway, "nbf", 30, nil),
		timeCase("leeway: clock one second before nbf minus leeway", leeway, "nbf", 31, cognito.ErrTokenNotYetValid),
		timeCase("iat at the allowance", nil, "iat", int64(cognito.IssuedAtAllowance/time.Second), nil),
		timeCase("iat one second beyond the allowance", nil, "iat", int64(cognito.IssuedAtAllowance/time.Second)+1, cognito.ErrTokenNotYetValid),
		timeCase("leeway: iat at the allowance plus leeway", leeway, "iat", int64(cognito.IssuedAtAllowance/time.Second)+30, nil),
		timeCase("leeway: iat one second beyond the allowance plus leeway", leeway, "iat", int64(cognito.IssuedAtAllowance/time.Second)+31, cognito.ErrTokenNotYetValid),
		hostileCase{name: "exp half a second ahead", want: nil,
			token: idTok(func(e *hostileEnv, c object) object { return c.set("exp", e.at(0)+".5") })},
		hostileCase{name: "exp half a second ago", want: cognito.ErrTokenExpired,
			token: idTok(func(e *hostileEnv, c object) object { return c.set("exp", e.at(-1)+".5") })},
		hostileCase{name: "exp missing", want: cognito.ErrMalformedToken,
			token: idTok(func(_ *hostileEnv, c object) object { return c.del("exp") })},
		hostileCase{name: "access token: clock exactly at exp", access: true, want: cognito.ErrTokenExpired,
			token: acTok(func(e *hostileEnv, c object) object { return c.set("exp", e.at(0)) })},
	)
	return cases
}
