package alb_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
	"github.com/cognitokit/cognito/alb/albtest"
	"github.com/cognitokit/cognito/cognitotest"
)

// newClock is a clock tests move by hand.
func newClock() *cognitotest.Clock {
	return cognitotest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// fixture is a fake load balancer and a Verifier of its values on one clock.
type fixture struct {
	lb    *albtest.Server
	v     *alb.Verifier
	clock *cognitotest.Clock
}

func newFixture(t testing.TB, opts ...cognito.Option) *fixture {
	t.Helper()
	clock := newClock()
	lb := albtest.NewServer(t, albtest.WithClock(clock.Now))
	v, err := alb.NewVerifier(lb.Config(), append([]cognito.Option{cognito.WithHTTPClient(lb.Client()), cognito.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return &fixture{lb: lb, v: v, clock: clock}
}

func newVerifierFor(t testing.TB, cfg alb.Config, lb *albtest.Server, clock *cognitotest.Clock, opts ...cognito.Option) *alb.Verifier {
	t.Helper()
	v, err := alb.NewVerifier(cfg, append([]cognito.Option{cognito.WithHTTPClient(lb.Client()), cognito.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return v
}

// sentinels are every sentinel Verify may return; a refusal wraps exactly one.
var sentinels = []error{
	cognito.ErrMalformedToken, cognito.ErrUnsupportedAlgorithm, cognito.ErrUnknownKey,
	cognito.ErrInvalidSignature, cognito.ErrTokenExpired, cognito.ErrTokenNotYetValid,
	cognito.ErrInvalidIssuer, cognito.ErrInvalidAudience, cognito.ErrInvalidTokenUse,
	cognito.ErrJWKSUnavailable, cognito.ErrInvalidConfig,
}

// requireOnly fails unless err wraps want and no other sentinel.
func requireOnly(t testing.TB, err, want error) {
	t.Helper()
	require.ErrorIs(t, err, want)
	for _, s := range sentinels {
		if s != want {
			require.NotErrorIs(t, err, s, "the error wraps a second sentinel")
		}
	}
	require.True(t, strings.HasPrefix(err.Error(), "cognito: "), "%q does not start with the package's prefix", err)
}

func TestVerifyAcceptsWhatTheLoadBalancerSends(t *testing.T) {
	f := newFixture(t)
	data := f.lb.Mint("3d4e5f60-sub",
		albtest.WithEmail("alice@example.com"), albtest.WithUsername("alice"),
		albtest.WithGroups("admins", "staff"), albtest.WithClaim("email_verified", "true"),
		albtest.WithClaim("custom:tenant", "acme"))
	require.Contains(t, data, "=", "the minted value is padded, as a load balancer's is")

	tok, err := f.v.Verify(context.Background(), data)
	require.NoError(t, err)
	assert.Equal(t, "3d4e5f60-sub", tok.Subject)
	assert.Equal(t, "alice@example.com", tok.Email)
	assert.Equal(t, "alice", tok.Username)
	assert.Equal(t, []string{"admins", "staff"}, tok.Groups)
	assert.Equal(t, f.clock.Now().Add(albtest.Lifetime).Unix(), tok.Expiry.Unix())
	assert.Equal(t, albtest.Issuer, tok.Issuer)
	assert.Equal(t, albtest.ClientID, tok.ClientID)
	assert.Equal(t, albtest.ARN, tok.LoadBalancerARN)

	var extra struct {
		EmailVerified string `json:"email_verified"`
		Tenant        string `json:"custom:tenant"`
	}
	require.NoError(t, tok.Claims(&extra))
	assert.Equal(t, "true", extra.EmailVerified)
	assert.Equal(t, "acme", extra.Tenant)

	var wrong struct {
		Tenant int `json:"custom:tenant"`
	}
	err = tok.Claims(&wrong)
	requireOnly(t, err, cognito.ErrMalformedToken)
	assert.NotContains(t, err.Error(), "acme", "a claim's value never reaches an error")
}

func TestVerifyOnANilVerifier(t *testing.T) {
	var v *alb.Verifier
	_, err := v.Verify(context.Background(), "a.b.c")
	requireOnly(t, err, cognito.ErrInvalidConfig)
}

func TestVerifyAcceptsAnUnpaddedValue(t *testing.T) {
	f := newFixture(t)
	data := f.lb.Mint("sub-1", albtest.Unpadded())
	require.NotContains(t, data, "=")
	tok, err := f.v.Verify(context.Background(), data)
	require.NoError(t, err)
	assert.Equal(t, "sub-1", tok.Subject)
}

func TestVerifyFetchesEachKeyOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		_, err := f.v.Verify(ctx, f.lb.Mint("sub-1"))
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.lb.Requests())
	f.lb.RotateKey()
	for range 3 {
		_, err := f.v.Verify(ctx, f.lb.Mint("sub-1"))
		require.NoError(t, err)
	}
	assert.Equal(t, 2, f.lb.Requests(), "one fetch for the new kid")
}

func TestVerifyExpiry(t *testing.T) {
	f := newFixture(t, cognito.WithLeeway(10*time.Second))
	ctx := context.Background()
	exp := f.clock.Now().Add(time.Minute)

	_, err := f.v.Verify(ctx, f.lb.Mint("sub-1", albtest.WithExpiry(exp)))
	require.NoError(t, err)

	f.clock.Advance(time.Minute + 9*time.Second)
	_, err = f.v.Verify(ctx, f.lb.Mint("sub-1", albtest.WithExpiry(exp)))
	require.NoError(t, err, "within the leeway")

	f.clock.Advance(time.Second)
	_, err = f.v.Verify(ctx, f.lb.Mint("sub-1", albtest.WithExpiry(exp)))
	requireOnly(t, err, cognito.ErrTokenExpired)

	t.Run("the claims' exp counts too", func(t *testing.T) {
		f := newFixture(t)
		data := f.lb.Mint("sub-1", albtest.WithClaim("exp", f.clock.Now().Add(-time.Second).Unix()))
		_, err := f.v.Verify(ctx, data)
		requireOnly(t, err, cognito.ErrTokenExpired)
	})
	t.Run("Expiry is the earlier exp", func(t *testing.T) {
		f := newFixture(t)
		soon := f.clock.Now().Add(30 * time.Second)
		tok, err := f.v.Verify(ctx, f.lb.Mint("sub-1", albtest.WithClaim("exp", soon.Unix())))
		require.NoError(t, err)
		assert.Equal(t, soon.Unix(), tok.Expiry.Unix())
	})
}

func TestVerifyRules(t *testing.T) {
	otherARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/0123456789abcdef"
	tests := []struct {
		name string
		mint []albtest.MintOption
		want error
	}{
		{"alg ES384", []albtest.MintOption{albtest.WithHeader("alg", "ES384")}, cognito.ErrUnsupportedAlgorithm},
		{"alg es256 in lower case", []albtest.MintOption{albtest.WithHeader("alg", "es256")}, cognito.ErrUnsupportedAlgorithm},
		{"no kid", []albtest.MintOption{albtest.WithHeader("kid", nil)}, cognito.ErrUnknownKey},
		{"kid in upper case", []albtest.MintOption{albtest.WithHeader("kid", "C2F80C8B-C05C-4068-AF14-17299F7896B1")}, cognito.ErrUnknownKey},
		{"kid without dashes", []albtest.MintOption{albtest.WithHeader("kid", "c2f80c8bc05c4068af1417299f7896b1")}, cognito.ErrUnknownKey},
		{"kid with braces", []albtest.MintOption{albtest.WithHeader("kid", "{c2f80c8b-c05c-4068-af14-17299f7896b}")}, cognito.ErrUnknownKey},
		{"kid a number", []albtest.MintOption{albtest.WithHeader("kid", 7)}, cognito.ErrMalformedToken},
		{"signer of another load balancer", []albtest.MintOption{albtest.WithSigner(otherARN)}, cognito.ErrInvalidIssuer},
		{"no signer", []albtest.MintOption{albtest.WithSigner("")}, cognito.ErrInvalidIssuer},
		{"signer missing", []albtest.MintOption{albtest.WithHeader("signer", nil)}, cognito.ErrMalformedToken},
		{"client of another app", []albtest.MintOption{albtest.WithClient("otherclient")}, cognito.ErrInvalidAudience},
		{"client missing", []albtest.MintOption{albtest.WithHeader("client", nil)}, cognito.ErrMalformedToken},
		{"another issuer", []albtest.MintOption{albtest.WithIssuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")}, cognito.ErrInvalidIssuer},
		{"the claims' iss differs from the header's", []albtest.MintOption{albtest.WithClaim("iss", "https://evil.example")}, cognito.ErrInvalidIssuer},
		{"iss missing", []albtest.MintOption{albtest.WithHeader("iss", nil)}, cognito.ErrMalformedToken},
		{"exp missing", []albtest.MintOption{albtest.WithHeader("exp", nil)}, cognito.ErrMalformedToken},
		{"exp a string", []albtest.MintOption{albtest.WithHeader("exp", "4102444800")}, cognito.ErrMalformedToken},
		{"exp negative", []albtest.MintOption{albtest.WithHeader("exp", -1)}, cognito.ErrMalformedToken},
		{"exp past year 9999", []albtest.MintOption{albtest.WithHeader("exp", 1e12)}, cognito.ErrMalformedToken},
		{"crit", []albtest.MintOption{albtest.WithHeader("crit", []string{"exp"})}, cognito.ErrMalformedToken},
		{"no sub", []albtest.MintOption{albtest.WithClaim("sub", nil)}, cognito.ErrMalformedToken},
		{"sub a number", []albtest.MintOption{albtest.WithClaim("sub", 1)}, cognito.ErrMalformedToken},
		{"email an array", []albtest.MintOption{albtest.WithClaim("email", []string{"a@example.com"})}, cognito.ErrMalformedToken},
		{"groups a string", []albtest.MintOption{albtest.WithClaim("cognito:groups", "admins")}, cognito.ErrMalformedToken},
		{"the claims' exp a string", []albtest.MintOption{albtest.WithClaim("exp", "soon")}, cognito.ErrMalformedToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1", tc.mint...))
			requireOnly(t, err, tc.want)
		})
	}
}

func TestVerifyAcceptsAnyConfiguredSignerAndClient(t *testing.T) {
	clock := newClock()
	lb := albtest.NewServer(t, albtest.WithClock(clock.Now))
	second := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/second/0123456789abcdef"
	cfg := lb.Config()
	cfg.LoadBalancerARNs = append(cfg.LoadBalancerARNs, second)
	cfg.ClientIDs = append(cfg.ClientIDs, "secondclient")
	v, err := alb.NewVerifier(cfg, cognito.WithHTTPClient(lb.Client()), cognito.WithClock(clock.Now))
	require.NoError(t, err)
	tok, err := v.Verify(context.Background(), lb.Mint("sub-1", albtest.WithSigner(second), albtest.WithClient("secondclient")))
	require.NoError(t, err)
	assert.Equal(t, second, tok.LoadBalancerARN)
	assert.Equal(t, "secondclient", tok.ClientID)
}

// parts decodes data's three parts, padded or not.
func parts(t testing.TB, data string) [3][]byte {
	t.Helper()
	var out [3][]byte
	for i, p := range strings.Split(data, ".") {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

func TestVerifyPadding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	padded := f.lb.Mint("sub-1")
	// The standard-alphabet case needs a '-' or '_' to replace; the JSON
	// parts rarely have one, and a random signature lacks both about one
	// time in fifteen.
	for i := 0; i < 100 && !strings.ContainsAny(padded, "-_"); i++ {
		padded = f.lb.Mint("sub-1")
	}
	require.True(t, strings.ContainsAny(padded, "-_"))
	segs := strings.Split(padded, ".")
	require.Len(t, segs, 3)
	raw := parts(t, padded)
	// The fixture's header and claims need padding; check, so that the
	// cases below test what they say.
	require.NotZero(t, len(raw[0])%3, "header needs padding")
	require.NotZero(t, len(raw[2])%3, "signature needs padding")

	tests := []struct {
		name string
		data string
	}{
		{"header unpadded, the rest padded", strings.TrimRight(segs[0], "=") + "." + segs[1] + "." + segs[2]},
		{"signature unpadded, the rest padded", segs[0] + "." + segs[1] + "." + strings.TrimRight(segs[2], "=")},
		{"one '=' too many on the signature", segs[0] + "." + segs[1] + "." + segs[2] + "="},
		{"one '=' too few on the signature", segs[0] + "." + segs[1] + "." + segs[2][:len(segs[2])-1]},
		{"padding inside the header", segs[0][:4] + "=" + segs[0][4:] + "." + segs[1] + "." + segs[2]},
		{"padding at the start of the claims", segs[0] + ".=" + segs[1] + "." + segs[2]},
		{"padding on its own after the signature", segs[0] + "." + segs[1] + "." + segs[2] + "===="},
		{"padding on a part that needs none", segs[0] + "." + segs[1] + "====." + segs[2]},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(padded)},
		{"a line break", segs[0] + "\n." + segs[1] + "." + segs[2]},
		{"a space", segs[0] + " ." + segs[1] + "." + segs[2]},
		{"an empty signature", segs[0] + "." + segs[1] + "."},
		{"four parts", padded + "." + segs[2]},
		{"two parts", segs[0] + "." + segs[1]},
		{"one part", segs[0]},
		{"one character", "e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, padded, tc.data)
			_, err := f.v.Verify(ctx, tc.data)
			requireOnly(t, err, cognito.ErrMalformedToken)
		})
	}
	_, err := f.v.Verify(ctx, padded)
	require.NoError(t, err, "the value as sent still verifies")

	t.Run("non-zero unused bits", func(t *testing.T) {
		// The last character of a part needing padding carries unused bits;
		// flipping one of them decodes to the same bytes in a lax decoder.
		sig := []byte(strings.TrimRight(segs[2], "="))
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
		sig[len(sig)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]
		_, err := f.v.Verify(ctx, segs[0]+"."+segs[1]+"."+string(sig)+"==")
		requireOnly(t, err, cognito.ErrMalformedToken)
	})
	t.Run("the signature covers the padding", func(t *testing.T) {
		// The same bytes, unpadded throughout, with the padded value's signature.
		enc := base64.RawURLEncoding
		data := enc.EncodeToString(raw[0]) + "." + enc.EncodeToString(raw[1]) + "." + enc.EncodeToString(raw[2])
		_, err := f.v.Verify(ctx, data)
		requireOnly(t, err, cognito.ErrInvalidSignature)
	})
}

// TestVerifyJudgesTheShapeFirst: a value that is not three parts is refused
// as malformed, whatever its header would have been refused for, and costs no
// request to the key server.
func TestVerifyJudgesTheShapeFirst(t *testing.T) {
	f := newFixture(t)
	for name, data := range map[string]string{
		"expired":    f.lb.Mint("sub-1", albtest.WithExpiry(f.clock.Now().Add(-time.Hour))),
		"another LB": f.lb.Mint("sub-1", albtest.WithSigner("arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/theirs/1")),
		"alg none":   f.lb.Mint("sub-1", albtest.WithHeader("alg", "none")),
	} {
		segs := strings.Split(data, ".")
		require.Len(t, segs, 3)
		for shape, d := range map[string]string{
			"an empty third part of four": segs[0] + "." + segs[1] + ".." + segs[2],
			"a fourth part":               data + "." + segs[2],
			"one part":                    segs[0],
		} {
			_, err := f.v.Verify(context.Background(), d)
			requireOnly(t, err, cognito.ErrMalformedToken)
			assert.ErrorContains(t, err, "not three parts", "%s, %s", name, shape)
		}
	}
	assert.Zero(t, f.lb.Requests())
}

// TestVerifyNamesAnEmptyPart: of three parts, the empty one is named.
func TestVerifyNamesAnEmptyPart(t *testing.T) {
	f := newFixture(t)
	segs := strings.Split(f.lb.Mint("sub-1"), ".")
	for part, data := range map[string]string{
		"header":    "." + segs[1] + "." + segs[2],
		"claims":    segs[0] + ".." + segs[2],
		"signature": segs[0] + "." + segs[1] + ".",
	} {
		_, err := f.v.Verify(context.Background(), data)
		requireOnly(t, err, cognito.ErrMalformedToken)
		assert.ErrorContains(t, err, part+" is empty")
	}
	assert.Zero(t, f.lb.Requests())
}

func TestNewVerifierValidatesConfig(t *testing.T) {
	good := alb.Config{
		Region:           "eu-central-1",
		LoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/a/1"},
		ClientIDs:        []string{"client"},
		Issuer:           "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_X",
	}
	_, err := alb.NewVerifier(good)
	require.NoError(t, err)
	noRegion := good
	noRegion.Region = ""
	_, err = alb.NewVerifier(noRegion)
	require.NoError(t, err, "the region comes from the ARN")
	for _, keysURL := range []string{"https://keys.example", "https://keys.example/elb/", "http://127.0.0.1:8080"} {
		withKeys := good
		withKeys.KeysURL = keysURL
		_, err = alb.NewVerifier(withKeys)
		require.NoError(t, err, "KeysURL %s", keysURL)
	}

	tests := []struct {
		name   string
		change func(*alb.Config)
	}{
		{"no ARN", func(c *alb.Config) { c.LoadBalancerARNs = nil }},
		{"not an ARN", func(c *alb.Config) { c.LoadBalancerARNs = []string{"my-alb"} }},
		{"a target group's ARN", func(c *alb.Config) {
			c.LoadBalancerARNs = []string{"arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/t/1"}
		}},
		{"an ARN of another region", func(c *alb.Config) {
			c.LoadBalancerARNs = append(c.LoadBalancerARNs, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/b/2")
		}},
		{"a bad region", func(c *alb.Config) { c.Region = "eu-central-1/../x" }},
		{"no client ID", func(c *alb.Config) { c.ClientIDs = nil }},
		{"an empty client ID", func(c *alb.Config) { c.ClientIDs = []string{""} }},
		{"no issuer", func(c *alb.Config) { c.Issuer = "" }},
		{"keys URL not http", func(c *alb.Config) { c.KeysURL = "file:///etc" }},
		{"keys URL of another scheme with a host", func(c *alb.Config) { c.KeysURL = "ftp://keys.example" }},
		{"keys URL with a query", func(c *alb.Config) { c.KeysURL = "https://keys.example/?k=" }},
		{"keys URL with credentials", func(c *alb.Config) { c.KeysURL = "https://u:p@keys.example" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			cfg.LoadBalancerARNs = append([]string(nil), good.LoadBalancerARNs...)
			tc.change(&cfg)
			_, err := alb.NewVerifier(cfg)
			requireOnly(t, err, cognito.ErrInvalidConfig)
		})
	}
}

// TestConfiguredURLsShowWithoutTheirPassword: the KeysURL refused for its
// credentials, and an Issuer that carries some, are named in errors without
// the password.
func TestConfiguredURLsShowWithoutTheirPassword(t *testing.T) {
	f := newFixture(t)
	cfg := f.lb.Config()
	cfg.KeysURL = "https://alice:s3cret@keys.example"
	_, err := alb.NewVerifier(cfg)
	requireOnly(t, err, cognito.ErrInvalidConfig)
	assert.Contains(t, err.Error(), `"https://alice:xxxxx@keys.example"`)
	assert.NotContains(t, err.Error(), "s3cret")

	cfg = f.lb.Config()
	cfg.Issuer = "https://alice:s3cret@issuer.example/pool"
	v := newVerifierFor(t, cfg, f.lb, f.clock)
	for _, data := range []string{
		f.lb.Mint("sub-1"), // the header's iss
		f.lb.Sign(albHeader(f, map[string]any{"iss": cfg.Issuer}), claimsJSON(f)), // the claims' iss
	} {
		_, err = v.Verify(context.Background(), data)
		requireOnly(t, err, cognito.ErrInvalidIssuer)
		assert.Contains(t, err.Error(), `(want "https://alice:xxxxx@issuer.example/pool")`)
		assert.NotContains(t, err.Error(), "s3cret")
	}
}

// TestErrorsDropC1ControlCharacters: U+009B starts a terminal's control
// sequence as ESC [ does; text from the value never brings one into an error.
func TestErrorsDropC1ControlCharacters(t *testing.T) {
	f := newFixture(t)
	_, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1", albtest.WithHeader("alg", "ES\u009b2J\u0085256")))
	requireOnly(t, err, cognito.ErrUnsupportedAlgorithm)
	assert.Contains(t, err.Error(), `alg "ES2J256"`)
	assert.False(t, strings.ContainsFunc(err.Error(), func(r rune) bool { return r >= 0x80 && r <= 0x9f }))
}

func TestVerifierHonoursTheHTTPClient(t *testing.T) {
	f := newFixture(t)
	// Without the fixture's client, requests go through the default one,
	// which works against an httptest server too; count them on a wrapper.
	var n atomic.Int32
	c := *f.lb.Client()
	base := c.Transport
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		return base.RoundTrip(r)
	})
	v, err := alb.NewVerifier(f.lb.Config(), cognito.WithHTTPClient(&c), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), f.lb.Mint("sub-1"))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n.Load())
}

func TestVerifyHonoursTheContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	f.lb.SetHandler(blockUntil(hold))
	_, err := f.v.Verify(ctx, f.lb.Mint("sub-1"))
	requireOnly(t, err, cognito.ErrJWKSUnavailable)
	assert.True(t, errors.Is(err, context.Canceled))
}

// TestVerifySizeLimit finds the longest value at most MaxDataBytes long and
// the shortest longer one, both otherwise valid: the first is accepted, the
// second refused.
func TestVerifySizeLimit(t *testing.T) {
	f := newFixture(t)
	var under, over string
	base := len(f.lb.Mint("sub-1", albtest.Unpadded(), albtest.WithClaim("blob", "")))
	// Each 3 bytes of claims add 4 characters; step one byte at a time near the limit.
	start := (alb.MaxDataBytes-base)*3/4 - 8
	for n := start; over == ""; n++ {
		d := f.lb.Mint("sub-1", albtest.Unpadded(), albtest.WithClaim("blob", strings.Repeat("a", n)))
		if len(d) <= alb.MaxDataBytes {
			under = d
		} else {
			over = d
		}
	}
	require.NotEmpty(t, under)
	require.GreaterOrEqual(t, len(under), alb.MaxDataBytes-2)
	_, err := f.v.Verify(context.Background(), under)
	require.NoError(t, err, "%d bytes", len(under))
	_, err = f.v.Verify(context.Background(), over)
	requireOnly(t, err, cognito.ErrMalformedToken)
}

func TestTokenPrintsWithoutRawClaims(t *testing.T) {
	f := newFixture(t)
	tok, err := f.v.Verify(context.Background(), f.lb.Mint("sub-1"))
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%s"} {
		out := fmt.Sprintf(format, tok)
		assert.Contains(t, out, "sub-1", format)
		assert.NotContains(t, out, "[123 34", format+": the claims' bytes")
	}
	assert.Contains(t, fmt.Sprintf("%#v", *tok), "alb.Token{")
}

// TestClaimNamesThatFoldAlikeAreRefused: encoding/json, which Token.Claims
// uses, matches member names to fields ignoring case (and folds "ſ" to "s"),
// the last copy winning. A value whose claims name one field twice in two
// cases, or spell a claim Token reads in another case, would read one way in
// Token and another in Claims: Verify refuses it, as the cognito package's
// Verifier does.
func TestClaimNamesThatFoldAlikeAreRefused(t *testing.T) {
	refused := map[string][]any{
		"SUB beside sub":                {"sub", "sub-1", "SUB", "admin"},
		"\u017fub beside sub":           {"sub", "sub-1", "\u017fub", "admin"},
		"EMAIL alone":                   {"sub", "sub-1", "EMAIL", "admin@example.com"},
		"Username alone":                {"sub", "sub-1", "Username", "admin"},
		"COGNITO:GROUPS alone":          {"sub", "sub-1", "COGNITO:GROUPS", []string{"admins"}},
		"Iss alone":                     {"sub", "sub-1", "Iss", albtest.Issuer},
		"two custom claims, two cases":  {"sub", "sub-1", "custom:tenant", "acme", "Custom:Tenant", "evil"},
		"a \u212aelvin-sign k beside k": {"sub", "sub-1", "k", "1", "\u212a", "2"},
	}
	for name, members := range refused {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.v.Verify(context.Background(), f.lb.Sign(albHeader(f, nil), orderedClaims(f, members...)))
			requireOnly(t, err, cognito.ErrMalformedToken)
		})
	}

	f := newFixture(t)
	tok, err := f.v.Verify(context.Background(), f.lb.Sign(albHeader(f, nil), orderedClaims(f, "sub", "sub-1", "email", "a@example.com", "Custom:Tenant", "acme")))
	require.NoError(t, err, "a name in any case is fine when nothing else folds alike with it")
	var c struct {
		Sub    string `json:"sub"`
		Email  string `json:"email"`
		Tenant string `json:"custom:tenant"`
	}
	require.NoError(t, tok.Claims(&c))
	assert.Equal(t, tok.Subject, c.Sub)
	assert.Equal(t, tok.Email, c.Email)
	assert.Equal(t, "acme", c.Tenant)
}

// orderedClaims encodes members, name then value, in the order given, with
// an exp a minute ahead: a map would lose the order and the repeats.
func orderedClaims(f *fixture, members ...any) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"exp":%d`, f.clock.Now().Add(time.Minute).Unix())
	for i := 0; i < len(members); i += 2 {
		name, _ := json.Marshal(members[i])
		value, _ := json.Marshal(members[i+1])
		fmt.Fprintf(&b, ",%s:%s", name, value)
	}
	b.WriteString("}")
	return b.Bytes()
}

// TestVerifyReadsStringsAsClaimsDoes: Token's fields hold what Token.Claims
// (encoding/json) reads from the same claims, for strings with escapes and
// invalid UTF-8 as for plain ones.
func TestVerifyReadsStringsAsClaimsDoes(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string // raw: the JSON string's text between its quotes
	}{
		{"plain", "alice", "alice"},
		{"non-ASCII", "Ren\u00e9 and Ren\xc3\xa9", "Ren\u00e9 and Ren\u00e9"},
		{"a lone continuation byte", "a\x80b", "a\ufffdb"},
		{"an invalid lead byte", "a\xffb", "a\ufffdb"},
		{"one escaped backslash", `\\`, `\`},
		{"an escaped quote", `\"`, `"`},
		{"a unicode escape", `\u0041`, "A"},
		{"an escaped control character", `a\tb`, "a\tb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			claims := fmt.Sprintf(`{"sub":"sub-1","exp":%d,"username":"%s","email":"%s"}`, f.clock.Now().Add(time.Minute).Unix(), tc.raw, tc.raw)
			tok, err := f.v.Verify(context.Background(), f.lb.Sign(albHeader(f, nil), []byte(claims)))
			require.NoError(t, err)
			var c struct {
				Username string `json:"username"`
				Email    string `json:"email"`
			}
			require.NoError(t, tok.Claims(&c))
			assert.Equal(t, tc.want, tok.Username)
			assert.Equal(t, c.Username, tok.Username, "Token and Claims agree")
			assert.Equal(t, c.Email, tok.Email)
		})
	}
}

// TestVerifyAcceptsAMemberWithAnEmptyName: "" is a name like any other, in
// the header and in the claims, and repeats only itself.
func TestVerifyAcceptsAMemberWithAnEmptyName(t *testing.T) {
	f := newFixture(t)
	exp := f.clock.Now().Add(time.Minute).Unix()
	tok, err := f.v.Verify(context.Background(), f.lb.Sign(albHeader(f, map[string]any{"": "h"}), []byte(fmt.Sprintf(`{"":"c","sub":"sub-1","exp":%d}`, exp))))
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, tok.Claims(&c))
	assert.Equal(t, "c", c[""])

	_, err = f.v.Verify(context.Background(), f.lb.Sign(albHeader(f, nil), []byte(fmt.Sprintf(`{"":"c","sub":"sub-1","":"d","exp":%d}`, exp))))
	requireOnly(t, err, cognito.ErrMalformedToken)
}

// TestVerifyReadsNumericDates: exp is a non-negative number of seconds, up
// to the last second of year 9999, fractions kept.
func TestVerifyReadsNumericDates(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now().Unix()
	for _, tc := range []struct {
		exp  string
		want time.Time // zero: refused with err
		err  error
	}{
		{fmt.Sprintf("%d.25", now+60), time.Unix(now+60, 250_000_000), nil},
		{fmt.Sprintf("%d.5e0", now+60), time.Unix(now+60, 500_000_000), nil},
		{"9999999999", time.Unix(9999999999, 0), nil},
		{"253402300799", time.Unix(253402300799, 0), nil},
		{"253402300800", time.Time{}, cognito.ErrMalformedToken},
		{"0", time.Time{}, cognito.ErrTokenExpired},
		{"0.5", time.Time{}, cognito.ErrTokenExpired},
		{"-1", time.Time{}, cognito.ErrMalformedToken},
		{`"1772366460"`, time.Time{}, cognito.ErrMalformedToken},
	} {
		t.Run(tc.exp, func(t *testing.T) {
			hdr := albHeader(f, map[string]any{"exp": json.RawMessage(tc.exp)})
			tok, err := f.v.Verify(context.Background(), f.lb.Sign(hdr, []byte(`{"sub":"sub-1"}`)))
			if tc.err != nil {
				requireOnly(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(tok.Expiry), "%s, want %s", tok.Expiry, tc.want)
		})
	}
}
