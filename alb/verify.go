// Package alb verifies the x-amzn-oidc-data header that an Application Load
// Balancer's authenticate-cognito (or authenticate-oidc) action adds to each
// request it forwards: the signed-in user's claims in a JWT that the load
// balancer signs with ES256, under a key it publishes by kid at
// https://public-keys.auth.elb.<region>.amazonaws.com/<kid>.
//
// A target must verify the header itself: anything that reaches it without
// passing the load balancer (another listener, a misconfigured security
// group, a request forged through SSRF) can send any header it likes.
//
//	v, err := alb.NewVerifier(alb.Config{
//		Region:           "us-east-1",
//		LoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"},
//		ClientIDs:        []string{"4fmvht22tjrgd7d3k3tghttct7"},
//		Issuer:           "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
//	})
//	...
//	http.Handle("/", alb.RequireUser(v)(handler)) // handler reads alb.TokenFromContext
//
// Every failure wraps one of the cognito package's sentinels, for errors.Is.
package alb

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/internal/options"
	"github.com/cognitokit/cognito/internal/safetext"
)

// MaxDataBytes bounds the x-amzn-oidc-data values Verify looks at. A load
// balancer refuses user claims larger than 11 KiB, which its base64 makes
// about 15 KiB; anything longer is refused before it is decoded.
const MaxDataBytes = 32 << 10

// Config describes the load balancers whose x-amzn-oidc-data headers a
// Verifier accepts.
type Config struct {
	// Region is the load balancers' AWS region, such as "us-east-1": their
	// signing keys are regional. Optional when LoadBalancerARNs name it.
	Region string
	// LoadBalancerARNs: the header's signer must be one of these.
	LoadBalancerARNs []string
	// ClientIDs: the header's client, the app client the load balancer signs
	// users in with, must be one of these.
	ClientIDs []string
	// Issuer: the header's iss (and the claims' iss, when present) must be
	// this. With Cognito it is the pool's issuer,
	// https://cognito-idp.<region>.amazonaws.com/<pool>.
	Issuer string
	// KeysURL is where the keys are fetched, as KeysURL/<kid>. Optional; the
	// default is https://public-keys.auth.elb.<region>.amazonaws.com. Set it
	// for tests (albtest.Server.Config does) and for regions outside the aws
	// partition's domain, such as China's.
	KeysURL string
}

// arnPattern matches an Elastic Load Balancing ARN, capturing its region.
var arnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:loadbalancer/.+$`)

var regionPattern = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)

// validate checks c and returns the keys URL it implies.
func (c Config) validate() (keysURL string, err error) {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: alb: "+format, append([]any{cognito.ErrInvalidConfig}, a...)...)
	}
	if len(c.LoadBalancerARNs) == 0 {
		return "", invalid("LoadBalancerARNs is empty: name the load balancers whose headers to accept")
	}
	if len(c.ClientIDs) == 0 || slices.Contains(c.ClientIDs, "") {
		return "", invalid("ClientIDs is empty or holds an empty ID")
	}
	if c.Issuer == "" {
		return "", invalid("Issuer is empty")
	}
	region := c.Region
	if region != "" && !regionPattern.MatchString(region) {
		return "", invalid("Region %q is not an AWS region such as us-east-1", region)
	}
	for _, arn := range c.LoadBalancerARNs {
		m := arnPattern.FindStringSubmatch(arn)
		if m == nil {
			return "", invalid("%q is not a load balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/...)", arn)
		}
		if region == "" {
			region = m[1]
		}
		// The keys are regional: a load balancer of another region signs
		// with keys the KeysURL of this one does not serve.
		if m[1] != region {
			return "", invalid("load balancer %q is not in region %s; use one Verifier per region", arn, region)
		}
	}
	if c.KeysURL == "" {
		return "https://public-keys.auth.elb." + region + ".amazonaws.com", nil
	}
	u, err := url.Parse(c.KeysURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", invalid("KeysURL %q is not an http(s) URL without query, fragment or credentials", safetext.URL(c.KeysURL))
	}
	return strings.TrimRight(c.KeysURL, "/"), nil
}

// Verifier checks x-amzn-oidc-data values. A value is accepted only when
// every check passes: three base64url parts (padded as a load balancer pads
// them, or not at all, see Verify); a header that says alg ES256, whose kid
// is a UUID naming a P-256 key at KeysURL, whose signer is one of
// LoadBalancerARNs, client one of ClientIDs, iss the Issuer and exp in the
// future (within the leeway); a valid signature over the parts as sent; and
// claims that are a JSON object with a sub, whose iss and exp, when present,
// pass the same checks. It is safe for concurrent use; share one.
type Verifier struct {
	signers, clients []string
	issuer           string
	now              func() time.Time
	leeway           time.Duration
	keys             *keyCache
}

// NewVerifier returns a Verifier for cfg. It honours cognito.WithHTTPClient,
// WithClock, WithLeeway, WithJWKSFetchTimeout (for each key download, counted
// from its start: downloads run one at a time, and the wait for a turn is
// bounded by the callers' contexts instead) and WithJWKSMinRefetchInterval
// (the quiet period after the key server failed a download), and ignores the
// other options. It does no network I/O: a key is fetched the first time a
// header names it.
func NewVerifier(cfg Config, opts ...cognito.Option) (*Verifier, error) {
	keysURL, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	anyOpts := make([]any, len(opts))
	for i, o := range opts {
		anyOpts[i] = o
	}
	s := options.Resolve(anyOpts)
	return &Verifier{
		signers: slices.Clone(cfg.LoadBalancerARNs),
		clients: slices.Clone(cfg.ClientIDs),
		issuer:  cfg.Issuer,
		now:     s.Now,
		leeway:  s.Leeway,
		keys:    newKeyCache(keysURL, s.HTTPClient, s.Now, s.FetchTimeout, s.MinRefetch),
	}, nil
}

// Token is a verified x-amzn-oidc-data value: who the user is, as the load
// balancer vouches for it.
type Token struct {
	Subject, Email, Username string
	Expiry                   time.Time // the earlier of the header's exp and the claims' exp
	Groups                   []string  // cognito:groups, when the claims carry it
	Issuer                   string    // iss
	ClientID                 string    // the header's client
	LoadBalancerARN          string    // the header's signer
	claims                   []byte
}

// Format prints the token's fields without the raw claims it keeps for
// Claims, as the cognito package's token types print.
func (t Token) Format(f fmt.State, verb rune) {
	type Token tokenFields // no methods: the usual formatting of every verb
	t.claims = nil
	fmt.Fprintf(f, fmt.FormatString(f, verb), Token(t))
}

// String is t as %v prints it: its fields, without the raw claims.
func (t Token) String() string { return fmt.Sprintf("%v", t) }

type tokenFields Token

// Claims decodes every claim of the token into v, as encoding/json does: use
// it for claims without a field here, such as "email_verified",
// "custom:tenant" or "phone_number". encoding/json matches names to fields
// ignoring case, so Verify refuses a value with two claims whose names differ
// only in case, or with a claim read into a field here spelled in another
// case ("EMAIL"): a field of v tagged as one of these claims gets what the
// field here holds.
func (t *Token) Claims(v any) error {
	err := json.Unmarshal(t.claims, v)
	if err == nil {
		return nil
	}
	// Only the claim's name and the wanted type: encoding/json's own message
	// may quote the claim's value.
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: alb: claim %q does not fit a %s", cognito.ErrMalformedToken, clean(te.Field, 64), te.Type)
	}
	return fmt.Errorf("%w: alb: the claims do not decode into %T", cognito.ErrMalformedToken, v)
}

// Verify checks data, the value of an x-amzn-oidc-data header, and returns
// its claims. ctx bounds a key fetch, should one be needed.
//
// A load balancer pads each part of the value with '=' to a multiple of four
// characters, and signs the parts as padded. Verify accepts each part either
// so padded, or unpadded as RFC 7515 spells it, in the URL-safe alphabet only
// and with zero unused bits, and the value either padded throughout or not
// at all: a part missing padding that another part has, padding of the wrong
// length or anywhere but at the end of a part, '+', '/', whitespace or
// line breaks are refused. The signature covers the value as sent, padding
// included.
//
// Errors wrap the cognito package's sentinels: ErrMalformedToken (size,
// shape, base64, JSON, repeated members, claim names that differ only in
// case, a missing member),
// ErrUnsupportedAlgorithm (alg is not ES256), ErrUnknownKey (kid is not a
// UUID, or the key server has no key by that kid), ErrInvalidIssuer (iss, or a
// signer that is not one of LoadBalancerARNs: the signer is the party that
// vouches for the token), ErrInvalidAudience (client is not one of
// ClientIDs), ErrTokenExpired, ErrInvalidSignature, and ErrJWKSUnavailable
// when the key could not be fetched (the value may be fine: answer 503).
func (v *Verifier) Verify(ctx context.Context, data string) (*Token, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: alb: Verify called on a nil *Verifier", cognito.ErrInvalidConfig)
	}
	if len(data) == 0 || len(data) > MaxDataBytes {
		return nil, fmt.Errorf("%w: alb: data is empty or longer than %d bytes", cognito.ErrMalformedToken, MaxDataBytes)
	}
	dot1 := strings.IndexByte(data, '.')
	dot2 := -1
	if dot1 >= 0 {
		if d := strings.IndexByte(data[dot1+1:], '.'); d >= 0 {
			dot2 = dot1 + 1 + d
		}
	}
	if dot2 < 0 || strings.IndexByte(data[dot2+1:], '.') >= 0 {
		return nil, fmt.Errorf("%w: alb: data is not three parts separated by dots", cognito.ErrMalformedToken)
	}
	var form segmentForm
	hdrJSON, err := form.decode(data[:dot1])
	if err != nil {
		return nil, fmt.Errorf("%w: alb: header %w", cognito.ErrMalformedToken, err)
	}
	hdr, err := parseHeader(hdrJSON)
	if err != nil {
		return nil, err
	}
	// The header is checked before the key is fetched: a value that could
	// not pass costs no request to the key server.
	if hdr.alg != "ES256" {
		return nil, fmt.Errorf("%w: alb: alg %q (want ES256)", cognito.ErrUnsupportedAlgorithm, clean(hdr.alg, 32))
	}
	if !isUUID(hdr.kid) {
		return nil, fmt.Errorf("%w: alb: kid %q is not a lower-case UUID", cognito.ErrUnknownKey, clean(hdr.kid, 64))
	}
	if !slices.Contains(v.signers, hdr.signer) {
		return nil, fmt.Errorf("%w: alb: signer %q is not one of the configured load balancers", cognito.ErrInvalidIssuer, clean(hdr.signer, 256))
	}
	if !slices.Contains(v.clients, hdr.client) {
		return nil, fmt.Errorf("%w: alb: client %q is not one of the configured client IDs", cognito.ErrInvalidAudience, clean(hdr.client, 128))
	}
	if hdr.iss != v.issuer {
		return nil, fmt.Errorf("%w: alb: iss %q (want %q)", cognito.ErrInvalidIssuer, clean(hdr.iss, 256), safetext.URL(v.issuer))
	}
	if err := v.checkExpiry(hdr.exp); err != nil {
		return nil, err
	}
	payload, err := form.decode(data[dot1+1 : dot2])
	if err != nil {
		return nil, fmt.Errorf("%w: alb: claims %w", cognito.ErrMalformedToken, err)
	}
	sig, err := form.decode(data[dot2+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: alb: signature %w", cognito.ErrMalformedToken, err)
	}
	if len(sig) != 64 {
		return nil, fmt.Errorf("%w: alb: signature is %d bytes (want 64, ES256's r and s)", cognito.ErrInvalidSignature, len(sig))
	}
	key, err := v.keys.key(ctx, hdr.kid)
	if err != nil {
		return nil, err
	}
	// ES256 is ECDSA over P-256 with SHA-256 of the signing input, the
	// signature being r and s as two 32-byte big-endian integers (RFC 7518
	// section 3.4). The signing input is the value up to the second dot, as
	// sent: padding included.
	digest := sha256.Sum256([]byte(data[:dot2]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return nil, fmt.Errorf("%w: alb: the signature does not verify with kid %s", cognito.ErrInvalidSignature, hdr.kid)
	}

	c, err := parseClaims(payload)
	if err != nil {
		return nil, err
	}
	if c.hasIss && c.iss != v.issuer {
		return nil, fmt.Errorf("%w: alb: claims' iss %q (want %q)", cognito.ErrInvalidIssuer, clean(c.iss, 256), safetext.URL(v.issuer))
	}
	expiry := hdr.exp
	if c.hasExp {
		if err := v.checkExpiry(c.exp); err != nil {
			return nil, err
		}
		if c.exp.Before(expiry) {
			expiry = c.exp
		}
	}
	return &Token{
		Subject: c.sub, Email: c.email, Username: c.username, Expiry: expiry, Groups: c.groups,
		Issuer: v.issuer, ClientID: hdr.client, LoadBalancerARN: hdr.signer, claims: payload,
	}, nil
}

func (v *Verifier) checkExpiry(exp time.Time) error {
	if now := v.now(); !now.Before(exp.Add(v.leeway)) {
		return fmt.Errorf("%w: alb: exp %s is not after %s", cognito.ErrTokenExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// isUUID reports whether s is a UUID in its canonical text form (RFC 9562
// section 4): 8-4-4-4-12 lower-case hex digits. Nothing else is ever put in a
// key URL, and one key has one spelling, so one cache entry.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// segmentForm decodes the parts of one value and holds them to one form:
// padded (as a load balancer sends them) or unpadded (as RFC 7515 spells
// them). A part whose length needs no padding fits either.
type segmentForm struct {
	padded, unpadded bool
}

var (
	rawURL    = base64.RawURLEncoding.Strict()
	paddedURL = base64.URLEncoding.Strict()
)

func (f *segmentForm) decode(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("is empty")
	}
	// The alphabet is checked here because the decoders skip CR and LF, and
	// '=' may appear only as the trailing padding.
	pad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			pad++
		case pad > 0:
			return nil, fmt.Errorf("has padding before its end")
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return nil, fmt.Errorf("is not base64url")
		}
	}
	var (
		out []byte
		err error
	)
	switch {
	case pad > 0:
		// The strict padded decoder refuses any padding but the one the
		// length needs: "xyz=" is the only padded spelling of "xyz".
		f.padded = true
		out, err = paddedURL.DecodeString(s)
	case len(s)%4 != 0:
		f.unpadded = true
		out, err = rawURL.DecodeString(s)
	default:
		out, err = rawURL.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("is not canonical base64url")
	}
	if f.padded && f.unpadded {
		return nil, fmt.Errorf("is padded differently from the other parts")
	}
	return out, nil
}

// clean strips control characters (C0, DEL and C1) from s, which came from
// the network, and cuts it to n bytes, so that an error message stays one
// readable line.
func clean(s string, n int) string { return safetext.Clean(s, n) }
