package alb_test

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
	"github.com/cognitokit/cognito/alb/albtest"
)

// The hostile suite: values and key servers an attacker (or a broken
// network) could produce, each refused with exactly one sentinel, and, for
// what the header alone condemns, without a single request to the key
// server.

// header is the JSON header a load balancer would send for f's current key.
func albHeader(f *fixture, changes map[string]any) []byte {
	h := map[string]any{
		"typ": "JWT", "kid": f.lb.KeyID(), "alg": "ES256", "iss": albtest.Issuer,
		"client": albtest.ClientID, "signer": albtest.ARN, "exp": f.clock.Now().Add(time.Minute).Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	b, _ := json.Marshal(h)
	return b
}

func claimsJSON(f *fixture) []byte {
	b, _ := json.Marshal(map[string]any{"sub": "sub-1", "exp": f.clock.Now().Add(time.Minute).Unix(), "iss": albtest.Issuer})
	return b
}

// pemOf fetches the PEM the key server serves for f's current kid, as an
// attacker can.
func pemOf(t testing.TB, f *fixture) []byte {
	t.Helper()
	res, err := f.lb.Client().Get(f.lb.URL() + "/" + f.lb.KeyID())
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return b
}

func TestHostileValues(t *testing.T) {
	b64 := base64.URLEncoding
	tests := []struct {
		name    string
		data    func(t *testing.T, f *fixture) string
		want    error
		fetches int // requests the key server may see
	}{
		{"alg RS256 with a signature keyed by the PEM", func(t *testing.T, f *fixture) string {
			input := b64.EncodeToString(albHeader(f, map[string]any{"alg": "RS256"})) + "." + b64.EncodeToString(claimsJSON(f))
			mac := hmac.New(sha256.New, pemOf(t, f))
			mac.Write([]byte(input))
			return input + "." + b64.EncodeToString(append(mac.Sum(nil), make([]byte, 224)...))
		}, cognito.ErrUnsupportedAlgorithm, 0},
		{"alg HS256 keyed with the PEM", func(t *testing.T, f *fixture) string {
			input := b64.EncodeToString(albHeader(f, map[string]any{"alg": "HS256"})) + "." + b64.EncodeToString(claimsJSON(f))
			mac := hmac.New(sha256.New, pemOf(t, f))
			mac.Write([]byte(input))
			return input + "." + b64.EncodeToString(mac.Sum(nil))
		}, cognito.ErrUnsupportedAlgorithm, 0},
		{"alg none without a signature", func(t *testing.T, f *fixture) string {
			return b64.EncodeToString(albHeader(f, map[string]any{"alg": "none"})) + "." + b64.EncodeToString(claimsJSON(f)) + "."
		}, cognito.ErrUnsupportedAlgorithm, 0},
		{"alg None with a valid ES256 signature", func(t *testing.T, f *fixture) string {
			return f.lb.Sign(albHeader(f, map[string]any{"alg": "None"}), claimsJSON(f))
		}, cognito.ErrUnsupportedAlgorithm, 0},
		{"no alg", func(t *testing.T, f *fixture) string {
			return f.lb.Sign(albHeader(f, map[string]any{"alg": nil}), claimsJSON(f))
		}, cognito.ErrMalformedToken, 0},
		{"kid with ../", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "../"+f.lb.KeyID()))
		}, cognito.ErrUnknownKey, 0},
		{"kid a UUID then /../x", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", f.lb.KeyID()+"/../x"))
		}, cognito.ErrUnknownKey, 0},
		{"kid with encoded dots", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "%2e%2e%2fc2f80c8b-c05c-4068-af14-17299f78"))
		}, cognito.ErrUnknownKey, 0},
		{"kid a URL", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "https://attacker.example/key.pem"))
		}, cognito.ErrUnknownKey, 0},
		{"kid the key server's own URL", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", f.lb.URL()+"/"+f.lb.KeyID()))
		}, cognito.ErrUnknownKey, 0},
		{"kid a UUID with a query", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", f.lb.KeyID()[:30]+"?a=b"))
		}, cognito.ErrUnknownKey, 0},
		{"kid a UUID with a NUL", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", f.lb.KeyID()[:35]+"\x00"))
		}, cognito.ErrUnknownKey, 0},
		{"kid a UUID with a newline", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", f.lb.KeyID()+"\n"))
		}, cognito.ErrUnknownKey, 0},
		{"kid not a UUID", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "key-1"))
		}, cognito.ErrUnknownKey, 0},
		{"kid a UUID of non-hex digits", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "g2f80c8b-c05c-4068-af14-17299f7896b1"))
		}, cognito.ErrUnknownKey, 0},
		{"jku, x5u and jwk naming the attacker's key", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithHeader("kid", "x"), albtest.WithHeader("jku", "https://attacker.example/jwks"),
				albtest.WithHeader("x5u", "https://attacker.example/cert"), albtest.WithHeader("jwk", map[string]string{"kty": "EC"}))
		}, cognito.ErrUnknownKey, 0},
		{"signer of another load balancer", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithSigner("arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/theirs/1"))
		}, cognito.ErrInvalidIssuer, 0},
		{"client of another app", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithClient("theirclient"))
		}, cognito.ErrInvalidAudience, 0},
		{"another issuer", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithIssuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Theirs"))
		}, cognito.ErrInvalidIssuer, 0},
		{"expired", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithExpiry(f.clock.Now().Add(-time.Second)))
		}, cognito.ErrTokenExpired, 0},
		{"expiring now", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithExpiry(f.clock.Now()))
		}, cognito.ErrTokenExpired, 0},
		{"padding between parts", func(t *testing.T, f *fixture) string {
			d := f.lb.Mint("sub-1")
			return strings.Replace(d, ".", "=.", 1) // a header already padded gets one more
		}, cognito.ErrMalformedToken, 0},
		{"padding in the middle of the claims", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Mint("sub-1"), ".")
			return p[0] + "." + p[1][:8] + "==" + p[1][8:] + "." + p[2]
		}, cognito.ErrMalformedToken, 0},
		{"mixed padding", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Mint("sub-1"), ".")
			return p[0] + "." + p[1] + "." + strings.TrimRight(p[2], "=")
		}, cognito.ErrMalformedToken, 0},
		{"a huge value", func(t *testing.T, f *fixture) string {
			return f.lb.Mint("sub-1", albtest.WithClaim("blob", strings.Repeat("a", 1<<20)))
		}, cognito.ErrMalformedToken, 0},
		{"one byte over the limit", func(t *testing.T, f *fixture) string {
			return strings.Repeat("a", alb.MaxDataBytes+1)
		}, cognito.ErrMalformedToken, 0},
		{"a repeated signer, ours last", func(t *testing.T, f *fixture) string {
			h := strings.Replace(string(albHeader(f, nil)), `"signer":`, `"signer":"arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/theirs/1","signer":`, 1)
			return f.lb.Sign([]byte(h), claimsJSON(f))
		}, cognito.ErrMalformedToken, 0},
		{"a repeated client, escaped", func(t *testing.T, f *fixture) string {
			h := strings.Replace(string(albHeader(f, nil)), `"client":`, `"\u0063lient":"theirs","client":`, 1)
			return f.lb.Sign([]byte(h), claimsJSON(f))
		}, cognito.ErrMalformedToken, 0},
		{"a repeated sub", func(t *testing.T, f *fixture) string {
			c := strings.Replace(string(claimsJSON(f)), `"sub":`, `"sub":"admin","sub":`, 1)
			return f.lb.Sign(albHeader(f, nil), []byte(c))
		}, cognito.ErrMalformedToken, 1},
		{"header JSON with trailing data", func(t *testing.T, f *fixture) string {
			return f.lb.Sign(append(albHeader(f, nil), `{"alg":"none"}`...), claimsJSON(f))
		}, cognito.ErrMalformedToken, 0},
		{"header an array", func(t *testing.T, f *fixture) string {
			return f.lb.Sign([]byte(`["ES256"]`), claimsJSON(f))
		}, cognito.ErrMalformedToken, 0},
		{"claims an array", func(t *testing.T, f *fixture) string {
			return f.lb.Sign(albHeader(f, nil), []byte(`[{"sub":"x"}]`))
		}, cognito.ErrMalformedToken, 1},
		{"a flipped bit in the signature", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Mint("sub-1"), ".")
			sig, err := b64.DecodeString(p[2])
			require.NoError(t, err)
			sig[10] ^= 1
			return p[0] + "." + p[1] + "." + b64.EncodeToString(sig)
		}, cognito.ErrInvalidSignature, 1},
		{"signed by another P-256 key", func(t *testing.T, f *fixture) string {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			require.NoError(t, err)
			input := b64.EncodeToString(albHeader(f, nil)) + "." + b64.EncodeToString(claimsJSON(f))
			return input + "." + b64.EncodeToString(albtest.SignES256(k, []byte(input)))
		}, cognito.ErrInvalidSignature, 1},
		{"a header changed after signing", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Sign(albHeader(f, map[string]any{"client": "theirclient"}), claimsJSON(f)), ".")
			return b64.EncodeToString(albHeader(f, nil)) + "." + p[1] + "." + p[2]
		}, cognito.ErrInvalidSignature, 1},
		{"claims changed after signing", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Mint("sub-1"), ".")
			c := strings.Replace(string(claimsJSON(f)), "sub-1", "admin", 1)
			return p[0] + "." + b64.EncodeToString([]byte(c)) + "." + p[2]
		}, cognito.ErrInvalidSignature, 1},
		{"r and s zero", func(t *testing.T, f *fixture) string {
			input := b64.EncodeToString(albHeader(f, nil)) + "." + b64.EncodeToString(claimsJSON(f))
			return input + "." + b64.EncodeToString(make([]byte, 64))
		}, cognito.ErrInvalidSignature, 1},
		{"the signature DER-encoded", func(t *testing.T, f *fixture) string {
			input := b64.EncodeToString(albHeader(f, nil)) + "." + b64.EncodeToString(claimsJSON(f))
			der := append([]byte{0x30, 0x44, 0x02, 0x20}, make([]byte, 32)...)
			der = append(append(der, 0x02, 0x20), make([]byte, 32)...)
			return input + "." + b64.EncodeToString(der)
		}, cognito.ErrInvalidSignature, 0},
		{"the signature one byte short", func(t *testing.T, f *fixture) string {
			p := strings.Split(f.lb.Mint("sub-1"), ".")
			sig, err := b64.DecodeString(p[2])
			require.NoError(t, err)
			return p[0] + "." + p[1] + "." + b64.EncodeToString(sig[:63])
		}, cognito.ErrInvalidSignature, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			data := tc.data(t, f)
			before := f.lb.Requests() // the test's own look at the key
			_, err := f.v.Verify(context.Background(), data)
			requireOnly(t, err, tc.want)
			assert.Equal(t, tc.fetches, f.lb.Requests()-before, "requests to the key server")
			assert.NotContains(t, err.Error(), data, "the value never reaches an error")
		})
	}
}

// TestNoKidReachesTheKeyServerUnchecked sends kids that would change the key
// URL, and proves by the key server's count that none is ever requested,
// whatever else the value gets right.
func TestNoKidReachesTheKeyServerUnchecked(t *testing.T) {
	f := newFixture(t)
	kid := f.lb.KeyID()
	var paths []string
	f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.RawPath+r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}))
	for _, bad := range []string{
		"..", "../", "../../etc/passwd", "/" + kid, kid + "/", kid + "/..", "./" + kid, kid + "%2f..", kid + "?", kid + "#",
		"http://127.0.0.1/" + kid, "//attacker.example/" + kid, "@attacker.example", kid[:35], kid + "0", strings.ToUpper(kid),
		" " + kid, kid + " ", "\t" + kid, kid[:8] + "_" + kid[9:], kid[:8] + "/" + kid[9:], kid[:8] + "." + kid[9:],
		"", "null", "00000000-0000-0000-0000-00000000000g", "ＡＢＣＤ0000-0000-0000-0000-000000000000",
	} {
		_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1", albtest.WithHeader("kid", bad)))
		requireOnly(t, err, cognito.ErrUnknownKey)
	}
	assert.Empty(t, paths, "no request reached the key server")
	assert.Zero(t, f.lb.Requests())
}

func TestHostileKeyServers(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)

	body := func(b []byte) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) })
	}
	tests := []struct {
		name    string
		handler func(t *testing.T, f *fixture) http.Handler
		want    error
	}{
		{"an HTML page", func(t *testing.T, f *fixture) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "<!doctype html><html><body>Sign in to the Wi-Fi</body></html>")
			})
		}, cognito.ErrJWKSUnavailable},
		{"an HTML page quoting the right key", func(t *testing.T, f *fixture) http.Handler {
			return body(append([]byte("<html><pre>\n"), append(pemOf(t, f), "</pre></html>"...)...))
		}, cognito.ErrJWKSUnavailable},
		{"text, then the right key", func(t *testing.T, f *fixture) http.Handler {
			return body(append([]byte("Here is your key:\n"), pemOf(t, f)...))
		}, cognito.ErrJWKSUnavailable},
		{"the right key, then more", func(t *testing.T, f *fixture) http.Handler {
			return body(append(pemOf(t, f), "<script>x</script>"...))
		}, cognito.ErrJWKSUnavailable},
		{"the right key, then 8 KiB of white space", func(t *testing.T, f *fixture) http.Handler {
			return body(append(pemOf(t, f), strings.Repeat(" ", 8<<10)...))
		}, cognito.ErrJWKSUnavailable},
		{"the right key twice", func(t *testing.T, f *fixture) http.Handler {
			k := pemOf(t, f)
			return body(append(k, k...))
		}, cognito.ErrJWKSUnavailable},
		{"50 MiB", func(t *testing.T, f *fixture) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				chunk := []byte(strings.Repeat("A", 1<<20))
				for range 50 {
					if _, err := w.Write(chunk); err != nil {
						return // the client stopped reading
					}
				}
			})
		}, cognito.ErrJWKSUnavailable},
		{"a P-384 key", func(t *testing.T, f *fixture) http.Handler { return body(albtest.PublicKeyPEM(&p384.PublicKey)) }, cognito.ErrJWKSUnavailable},
		{"a P-521 key", func(t *testing.T, f *fixture) http.Handler { return body(albtest.PublicKeyPEM(&p521.PublicKey)) }, cognito.ErrJWKSUnavailable},
		{"an RSA key", func(t *testing.T, f *fixture) http.Handler { return body(albtest.PublicKeyPEM(&rsaKey.PublicKey)) }, cognito.ErrJWKSUnavailable},
		{"an Ed25519 key", func(t *testing.T, f *fixture) http.Handler { return body(albtest.PublicKeyPEM(edPub)) }, cognito.ErrJWKSUnavailable},
		{"an X25519 key", func(t *testing.T, f *fixture) http.Handler { return body(albtest.PublicKeyPEM(x25519.PublicKey())) }, cognito.ErrJWKSUnavailable},
		{"a PEM block of another type", func(t *testing.T, f *fixture) http.Handler {
			return body([]byte(strings.ReplaceAll(string(pemOf(t, f)), "PUBLIC KEY", "CERTIFICATE")))
		}, cognito.ErrJWKSUnavailable},
		{"a PEM block with headers", func(t *testing.T, f *fixture) http.Handler {
			return body([]byte(strings.Replace(string(pemOf(t, f)), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)))
		}, cognito.ErrJWKSUnavailable},
		{"PEM of garbage", func(t *testing.T, f *fixture) http.Handler {
			return body([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
		}, cognito.ErrJWKSUnavailable},
		{"an empty body", func(t *testing.T, f *fixture) http.Handler { return body(nil) }, cognito.ErrJWKSUnavailable},
		{"another P-256 key", func(t *testing.T, f *fixture) http.Handler {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			require.NoError(t, err)
			return body(albtest.PublicKeyPEM(&k.PublicKey))
		}, cognito.ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.lb.SetHandler(tc.handler(t, f))
			_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
			requireOnly(t, err, tc.want)
		})
	}

	t.Run("a key server that hangs", func(t *testing.T) {
		t.Parallel() // waits out the fetch timeout
		f := newFixture(t, cognito.WithJWKSFetchTimeout(200*time.Millisecond))
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.lb.SetHandler(blockUntil(release))
		_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
		requireOnly(t, err, cognito.ErrJWKSUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("a key server that trickles a valid key", func(t *testing.T) {
		t.Parallel() // waits out the fetch timeout
		f := newFixture(t, cognito.WithJWKSFetchTimeout(200*time.Millisecond))
		k := pemOf(t, f)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.lb.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(k[:10])
			w.(http.Flusher).Flush()
			blockUntil(release).ServeHTTP(w, r)
		}))
		_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
		requireOnly(t, err, cognito.ErrJWKSUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}
